"""A large synthetic population of members, for benchmarks and demos (README, "Synthetic
population"): `manage.py population_generate`.

Members are generated in batches; each batch (users, members, their orders with lines and
pickups, points, consents, home stores, one message in their language) is one
transaction, generated from its own random stream `Random(f"{seed}:{batch}")`, so:

- the same seed, sizes and day give the same rows, whatever the batch an interrupted run
  resumes from (a second run continues where the first stopped, and does nothing once
  the population is complete);
- a population is named by its seed (usernames `pop<seed>-<index>`), so populations of
  different seeds can live side by side.

Orders are written as history (already collected, or cancelled), like the demo's past
orders: no stock is allocated today and no message is sent. Points go through the
ledger's bulk import (`points_history_write`): the balance is the sum of the entries and
of the lots' remainders for every member. Loyalty never imports shop: Oscar's and the
other apps' models are read through the app registry.
"""

from __future__ import annotations

import functools
import logging
import math
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.text import slugify

from loyalty.bulk_rows import ids_reserve, row, rows_insert, rows_update
from loyalty.models import Member, Tier
from loyalty.selectors import earning_rule
from loyalty.services.earning import earning_rule_ensure
from loyalty.services.ledger import PastEarn, PastMovement, points_history_write
from loyalty.services.members import luhn_check_digit
from loyalty.services.tiers import tier_levels_ensure
from stores.selectors import PICKUP_SHIPPING_CODE

HOME_DELIVERY = "home-delivery"
MAX_MEMBERS = 10_000_000  # seven digits of index in the member number
FIRST_NAMES = (  # noqa: SIM905
    "Camille Léa Manon Chloé Inès Jade Louise Emma Alice Lina Sarah Julie Anna Clara Zoé "
    "Hugo Lucas Louis Gabriel Arthur Jules Adam Nathan Paul Théo Tom Raphaël Noah Léo Marc "
    "Olivia Sophie Emily Grace Oliver Jack Harry George Thomas Daniel"
).split()
LAST_NAMES = (  # noqa: SIM905
    "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel "
    "Lefebvre Leroy Roux David Bertrand Morel Fournier Girard Muller Meyer Schmitt Weber "
    "Klein Wolff Fischer Schneider Hoffmann Koenig Smith Jones Taylor Brown Wilson Evans"
).split()
# A catalogue made only when the database has no product with a category and a price.
CATALOGUE = {
    "Groceries": ["Coffee", "Tea", "Cheese", "Bakery", "Wine", "Fruit & vegetables"],
    "Home": ["Kitchen", "Candles"],
    "Gifts": ["Gift boxes"],
}
# Stores made only when the database has none: around these (lat, lng), a few km apart.
STORE_CITIES = (
    ("Strasbourg", 48.5839, 7.7455),
    ("Colmar", 48.0794, 7.3585),
    ("Mulhouse", 47.7508, 7.3359),
    ("Metz", 49.1193, 6.1757),
    ("Nancy", 48.6921, 6.1844),
)


class PopulationError(Exception):
    """The population cannot be generated as asked; nothing was written."""


@dataclass(frozen=True)
class PopulationPlan:
    members: int
    orders: int
    seed: int = 42
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    batch: int = 2000
    # Only used when the database has no store.
    stores: int = 20

    @property
    def prefix(self) -> str:
        return f"pop{self.seed}"

    @property
    def now(self) -> datetime:
        """Midnight UTC starting `today`: the population's "now", the same for every run
        of that day and never in the future of one."""
        return datetime.combine(self.today, time(0), tzinfo=UTC)

    def batches(self) -> Iterator[tuple[int, int, int]]:
        """(index, first member, end) of every batch."""
        for index, start in enumerate(range(0, self.members, self.batch)):
            yield index, start, min(start + self.batch, self.members)

    def orders_between(self, start: int, stop: int) -> int:
        """Orders of members [start, stop): the total is spread evenly over the members."""
        return round(self.orders * stop / self.members) - round(self.orders * start / self.members)


@dataclass
class PopulationTotals:
    members: int = 0
    orders: int = 0
    lines: int = 0
    pickups: int = 0
    entries: int = 0
    consents: int = 0
    batches_skipped: int = 0


@dataclass(frozen=True)
class Catalogue:
    # (product id, price, currency, stockrecord id, partner id, partner name, sku, title, upc)
    products_by_category: dict[int, list[tuple]]
    categories: list[int]
    stores: list[tuple[int, int, float, float, int, int]]  # id, partner, lat, lng, cap, slot min
    site_id: int
    tier_levels: list


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


@functools.cache
def _model(label: str):
    app_label, model_name = label.split(".")
    return apps.get_model(app_label, model_name)


# --- What the population refers to: a catalogue and stores -------------------------------


def _catalogue_ensure(rng: random.Random) -> None:
    category_model = _model("catalogue.Category")
    product_model = _model("catalogue.Product")
    if product_model.objects.filter(
        categories__isnull=False, stockrecords__price__isnull=False
    ).exists():
        return
    product_class, _created = _model("catalogue.ProductClass").objects.get_or_create(
        slug="population", defaults={"name": "Population product", "requires_shipping": True}
    )
    partner, _created = _model("partner.Partner").objects.get_or_create(
        code="population-warehouse", defaults={"name": "Online warehouse"}
    )
    stockrecord_model = _model("partner.StockRecord")
    for root_name, children in CATALOGUE.items():
        root = category_model.add_root(name=root_name)
        for child_name in children:
            child = root.add_child(name=child_name)
            for number in range(1, 7):
                title = f"{child_name} {number}"
                code = f"POP-{slugify(child_name)}-{number}"
                product = product_model.objects.create(
                    title=title, product_class=product_class, upc=code
                )
                product.categories.add(child)
                stockrecord_model.objects.create(
                    product=product,
                    partner=partner,
                    partner_sku=code,
                    price=Decimal(rng.randint(150, 4500)) / 100,
                    num_in_stock=1000,
                )


def _stores_ensure(count: int, rng: random.Random) -> None:
    store_model = _model("stores.Store")
    if store_model.objects.exists():
        return
    partner_model = _model("partner.Partner")
    for number in range(1, count + 1):
        city, lat, lng = STORE_CITIES[(number - 1) % len(STORE_CITIES)]
        name = f"{city} {number}"
        partner = partner_model.objects.create(name=name, code=f"population-store-{number}")
        store_model.objects.create(
            partner=partner,
            name=name,
            slug=f"population-store-{number}",
            line1=f"{number} rue du Marché",
            postcode="67000",
            city=city,
            latitude=lat + rng.uniform(-0.08, 0.08),
            longitude=lng + rng.uniform(-0.08, 0.08),
        )


def _catalogue_read() -> Catalogue:
    stockrecord_model = _model("partner.StockRecord")
    category_model = _model("catalogue.Category")
    by_product: dict[int, tuple] = {}
    for stock in (
        stockrecord_model.objects.filter(price__isnull=False, product__is_public=True)
        .order_by("product_id", "pk")
        .values_list(
            "product_id",
            "price",
            "price_currency",
            "pk",
            "partner_id",
            "partner__name",
            "partner_sku",
            "product__title",
            "product__upc",
        )
    ):
        by_product.setdefault(stock[0], stock)
    products_by_category: dict[int, list[tuple]] = {}
    # A child product is in its parent's categories (Oscar); it is sold, the parent is not.
    parents = dict(
        _model("catalogue.Product")
        .objects.filter(pk__in=list(by_product), parent__isnull=False)
        .values_list("pk", "parent_id")
    )
    links = _model("catalogue.ProductCategory").objects.values_list("product_id", "category_id")
    in_category: dict[int, list[int]] = {}
    for product_id, category_id in links:
        in_category.setdefault(product_id, []).append(category_id)
    for product_id, stock in sorted(by_product.items()):
        for category_id in in_category.get(parents.get(product_id, product_id), []):
            products_by_category.setdefault(category_id, []).append(stock)
    if not products_by_category:
        raise PopulationError("the catalogue has no product with a category and a price")
    known = set(category_model.objects.values_list("pk", flat=True))
    stores = list(
        _model("stores.Store")
        .objects.filter(is_active=True)
        .order_by("pk")
        .values_list("pk", "partner_id", "latitude", "longitude", "slot_capacity", "slot_minutes")
    )
    if not stores:
        raise PopulationError("there is no active store")
    return Catalogue(
        products_by_category={k: v for k, v in products_by_category.items() if k in known},
        categories=sorted(k for k in products_by_category if k in known),
        stores=stores,
        site_id=settings.SITE_ID,
        tier_levels=list(tier_levels_ensure().values()),
    )


# --- Pickup slots: the population books them like checkouts do, never over capacity -------


class SlotBook:
    """Pickup slots of the stores, loaded once; new ones are written with each batch."""

    def __init__(self, catalogue: Catalogue):
        self.slot_model = _model("stores.PickupSlot")
        self.capacity = {store[0]: max(store[4], 1) for store in catalogue.stores}
        self.minutes = {store[0]: max(store[5], 5) for store in catalogue.stores}
        # stores.PickupSlot instances, typed Any: loyalty reaches stores' models only through
        # the app registry (its imports of stores are the selectors and signals).
        self.slots: dict[tuple[int, datetime], Any] = {
            (slot.store_id, slot.starts_at): slot for slot in self.slot_model.objects.all()
        }
        self.new: list = []
        self.touched: dict[int, Any] = {}

    def book(self, store_id: int, wanted: datetime) -> Any:
        """A slot of the store from `wanted` on (the next one with room)."""
        minutes = self.minutes[store_id]
        start = wanted.replace(minute=(wanted.minute // minutes) * minutes, second=0, microsecond=0)
        while True:
            slot = self.slots.get((store_id, start))
            if slot is None:
                slot = self.slot_model(
                    store_id=store_id,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=minutes),
                    capacity=self.capacity[store_id],
                    booked=0,
                )
                self.slots[(store_id, start)] = slot
                self.new.append(slot)
            if slot.booked < slot.capacity:
                slot.booked += 1
                if slot.pk is not None:
                    self.touched[slot.pk] = slot
                return slot
            start += timedelta(minutes=minutes)

    def flush(self) -> None:
        rows_insert(self.slot_model, self.new)
        rows_update(self.slot_model, list(self.touched.values()), ["booked"])
        self.new, self.touched = [], {}

    def forget(self) -> None:
        """After a failed batch: reload, so the next run starts from the database."""
        self.slots = {(s.store_id, s.starts_at): s for s in self.slot_model.objects.all()}
        self.new, self.touched = [], {}


# --- One batch ---------------------------------------------------------------------------


def member_number(seed: int, index: int) -> str:
    body = f"{seed % 90 + 10:02d}{index:07d}"
    return body + luhn_check_digit(body)


def _at(rng: random.Random, day: date) -> datetime:
    """A moment of `day` in shop hours (08:00-20:00 UTC)."""
    return datetime.combine(day, time(8), tzinfo=UTC) + timedelta(seconds=rng.randrange(12 * 3600))


def _order_weights(rng: random.Random, count: int) -> list[float]:
    """How much each member orders: a fifth never do, a few order a lot (Pareto)."""
    return [0.0 if rng.random() < 0.2 else min(rng.paretovariate(1.3), 60.0) for _ in range(count)]


@dataclass
class _Rows:
    users: list = field(default_factory=list)
    members: list = field(default_factory=list)
    orders: list = field(default_factory=list)
    lines: list = field(default_factory=list)
    pickups: list = field(default_factory=list)
    preferences: list = field(default_factory=list)
    notification_preferences: list = field(default_factory=list)
    consents: list = field(default_factory=list)
    messages: list = field(default_factory=list)
    # Past order earns and other movements by member id, for the ledger's bulk import.
    history: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _Placed:
    order_id: int
    number: str
    total: Decimal
    placed: datetime
    pickup: bool


class _Batch:
    """The rows of one batch of members, drawn from the batch's own random stream."""

    def __init__(self, plan: PopulationPlan, catalogue: Catalogue, slots: SlotBook, index: int):
        self.plan, self.catalogue, self.slots = plan, catalogue, slots
        self.rng = random.Random(f"{plan.seed}:{index}")
        self.rule = earning_rule()
        self.levels = sorted(catalogue.tier_levels, key=lambda level: level.min_spend)
        self.window = timedelta(days=settings.LOYALTY_RETURN_WINDOW_DAYS)
        self.rows = _Rows()

    def build(self, start: int, stop: int, password: str) -> _Rows:
        rng, plan = self.rng, self.plan
        weights = _order_weights(rng, stop - start)
        counts = [0] * (stop - start)
        if sum(weights) > 0:
            wanted = plan.orders_between(start, stop)
            for slot in rng.choices(range(stop - start), weights=weights, k=wanted):
                counts[slot] += 1
        user_ids = iter(ids_reserve(get_user_model(), stop - start))
        member_ids = iter(ids_reserve(Member, stop - start))
        self.order_ids = iter(ids_reserve(_model("order.Order"), sum(counts)))
        for offset, member_index in enumerate(range(start, stop)):
            self._member(member_index, next(user_ids), next(member_ids), counts[offset], password)
        return self.rows

    def _member(self, index: int, user_id: int, member_id: int, orders: int, password: str):
        rng, plan, rows = self.rng, self.plan, self.rows
        joined = min(
            _at(rng, plan.today - timedelta(days=rng.randint(0, 1500))),
            plan.now - timedelta(hours=1),
        )
        language = "fr" if rng.random() < 0.7 else "en"
        username = f"{plan.prefix}-{index:07d}"
        rows.users.append(
            row(
                get_user_model(),
                id=user_id,
                username=username,
                email=f"{username}@example.com",
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                password=password,
                date_joined=joined,
            )
        )
        birthday = None
        if rng.random() < 0.85:
            birthday = date(rng.randint(1950, 2006), rng.randint(1, 12), rng.randint(1, 28))
        member = row(
            Member,
            id=member_id,
            user_id=user_id,
            number=member_number(plan.seed, index),
            referral_code=f"P{plan.seed % 1000:03d}{index:07d}",
            birthday=birthday,
            joined_at=joined,
            tier_since=joined,
        )
        rows.members.append(member)
        home = rng.choice(self.catalogue.stores) if rng.random() < 0.7 else None
        if home is not None:
            rows.preferences.append(
                row(_model("stores.StorePreference"), user_id=user_id, store_id=home[0])
            )
        placed = self._orders(index, user_id, joined, home, orders)
        rows.history[member_id] = self._points(index, member_id, joined, placed)
        self._tier(member, joined, placed)
        self._consents(index, user_id, joined)
        self._message(user_id, username, language, joined, placed)

    def _orders(self, index, user_id, joined, home, count) -> list[_Placed]:
        """The member's orders, oldest first, between joining and today."""
        rng, plan, catalogue = self.rng, self.plan, self.catalogue
        favourites = rng.sample(catalogue.categories, min(3, len(catalogue.categories)))
        span = max((plan.today - joined.date()).days, 0)
        days = sorted(rng.randint(0, span) for _ in range(count))
        placed_orders = []
        for number, day in enumerate(days, start=1):
            placed = max(_at(rng, joined.date() + timedelta(days=day)), joined)
            if placed > plan.now:
                placed = plan.now - timedelta(minutes=rng.randint(1, 600))
            cancelled = rng.random() < 0.04
            status = (
                settings.LOYALTY_CANCELLED_ORDER_STATUS
                if cancelled
                else settings.LOYALTY_COMPLETE_ORDER_STATUS
            )
            store = None
            if rng.random() < 0.55:
                store = home if home and rng.random() < 0.8 else rng.choice(catalogue.stores)
            order_id = next(self.order_ids)
            total = Decimal("0.00")
            currency = ""
            for _line in range(rng.choice((1, 1, 2, 2, 3, 3, 4, 5))):
                pool = favourites if rng.random() < 0.7 else catalogue.categories
                product = rng.choice(catalogue.products_by_category[rng.choice(pool)])
                quantity = rng.choice((1, 1, 1, 2, 2, 3))
                price = product[1]
                total += price * quantity
                currency = product[2]
                self.rows.lines.append(
                    row(
                        _model("order.Line"),
                        order_id=order_id,
                        partner_id=product[4],
                        partner_name=product[5],
                        partner_sku=product[6],
                        stockrecord_id=product[3],
                        product_id=product[0],
                        title=product[7],
                        upc=product[8],
                        quantity=quantity,
                        num_allocated=0 if cancelled else quantity,
                        line_price_incl_tax=price * quantity,
                        line_price_excl_tax=price * quantity,
                        line_price_before_discounts_incl_tax=price * quantity,
                        line_price_before_discounts_excl_tax=price * quantity,
                        unit_price_incl_tax=price,
                        unit_price_excl_tax=price,
                        status=status,
                    )
                )
            order_number = f"P{plan.seed}-{index:07d}-{number:03d}"
            self.rows.orders.append(
                row(
                    _model("order.Order"),
                    id=order_id,
                    number=order_number,
                    site_id=catalogue.site_id,
                    user_id=user_id,
                    currency=currency,
                    total_incl_tax=total,
                    total_excl_tax=total,
                    shipping_incl_tax=Decimal("0.00"),
                    shipping_excl_tax=Decimal("0.00"),
                    shipping_method="Click & collect" if store else "Home delivery",
                    shipping_code=PICKUP_SHIPPING_CODE if store else HOME_DELIVERY,
                    status=status,
                    date_placed=placed,
                )
            )
            if store is not None:
                slot = self.slots.book(store[0], placed + timedelta(hours=rng.randint(2, 30)))
                pickup = row(
                    _model("stores.Pickup"),
                    order_id=order_id,
                    store_id=store[0],
                    code=f"{rng.randrange(1_000_000):06d}",
                    status="cancelled" if cancelled else "collected",
                    created_at=placed,
                    ready_at=None if cancelled else slot.starts_at,
                    collected_at=None if cancelled else slot.starts_at,
                    closed_at=slot.starts_at,
                )
                self.rows.pickups.append((pickup, slot))
            if not cancelled:
                placed_orders.append(_Placed(order_id, order_number, total, placed, bool(store)))
        return placed_orders

    def _points(self, index: int, member_id: int, joined: datetime, placed: list[_Placed]) -> list:
        """As order_points_award computes them (category and tier multipliers left out),
        a welcome bonus, and for some a redemption after their third order."""
        rng, rule = self.rng, self.rule
        past: list[PastEarn | PastMovement] = []
        for position, order in enumerate(placed):
            points = int((order.total * rule.points_per_unit).to_integral_value(ROUND_FLOOR))
            reasons = [f"Order {order.number}"]
            if order.pickup and rule.click_collect_bonus:
                points += rule.click_collect_bonus
                reasons.append("click & collect bonus")
            if position == 0 and rule.first_order_bonus:
                points += rule.first_order_bonus
                reasons.append("first order bonus")
            if points > 0:
                past.append(
                    PastEarn(
                        order_id=order.order_id,
                        key=f"order:{order.number}",
                        reason=", ".join(reasons),
                        points=points,
                        base_amount=order.total,
                        placed_at=order.placed,
                        confirm_after=order.placed + self.window,
                    )
                )
        if rule.signup_bonus:
            past.append(
                PastMovement(
                    at=joined,
                    kind="bonus",
                    amount=rule.signup_bonus,
                    reason="Welcome bonus",
                    idempotency_key=f"bonus:signup:{member_id}",
                )
            )
        if len(placed) >= 3 and rng.random() < 0.35:
            after = placed[2].placed + self.window + timedelta(days=rng.randint(1, 60))
            if after < self.plan.now:
                past.append(
                    PastMovement(
                        at=after,
                        kind="redeem",
                        amount=rng.choice((100, 250, 500)),
                        reason="Points used at checkout",
                        idempotency_key=f"population:{self.plan.prefix}:redeem:{index}",
                    )
                )
        return past

    def _tier(self, member: Member, joined: datetime, placed: list[_Placed]) -> None:
        """The tier the last 12 months of spend reached (spend thresholds only)."""
        year_ago = self.plan.now - timedelta(days=365)
        spend = sum((order.total for order in placed if order.placed >= year_ago), Decimal(0))
        reached = [level for level in self.levels if level.min_spend and spend >= level.min_spend]
        member.tier = reached[-1].tier if reached else Tier.BRONZE
        if reached:
            days = self.rng.randint(1, 300)
            member.tier_since = max(joined, self.plan.now - timedelta(days=days))

    def _consents(self, index: int, user_id: int, joined: datetime) -> None:
        """Marketing consent per channel, a few withdrawn later; a phone number for SMS."""
        rng, plan = self.rng, self.plan
        for channel, share in (("email", 0.6), ("sms", 0.25), ("push", 0.3)):
            if rng.random() >= share:
                continue
            granted = joined + timedelta(minutes=rng.randint(1, 60 * 24 * 30))
            records = [("granted", granted)]
            if rng.random() < 0.08:
                records.append(("withdrawn", granted + timedelta(days=rng.randint(1, 400))))
            for action, at in records:
                self.rows.consents.append(
                    row(
                        _model("communication.ConsentRecord"),
                        user_id=user_id,
                        purpose="marketing",
                        channel=channel,
                        action=action,
                        recorded_at=min(at, plan.now),
                        source="population",
                        policy_version=settings.MARKETING_POLICY_VERSION,
                    )
                )
            if channel == "sms":
                self.rows.notification_preferences.append(
                    row(
                        _model("communication.NotificationPreference"),
                        user_id=user_id,
                        sms=True,
                        push=False,
                        phone_number=f"+336{index % 10**8:08d}",
                    )
                )

    def _message(self, user_id, email_name, language, joined, placed: list[_Placed]) -> None:
        """The member's language is that of the latest message the shop wrote to them: the
        confirmation of their last order, or their welcome message."""
        last = placed[-1] if placed else None
        written = last.placed if last else joined
        if last is not None:
            prefix = "Confirmation de la commande " if language == "fr" else "Order confirmed: "
            subject = prefix + last.number
        else:
            subject = "Bienvenue" if language == "fr" else "Welcome"
        self.rows.messages.append(
            row(
                _model("communication.OutboxMessage"),
                channel="email",
                purpose="service",
                event_code="ORDER_PLACED" if last else "REGISTRATION",
                order_number=last.number if last else "",
                user_id=user_id,
                recipient=f"{email_name}@example.com",
                language=language,
                subject=subject,
                status="sent",
                attempts=1,
                max_attempts=5,
                next_attempt_at=written,
                created_at=written,
                updated_at=written,
                sent_at=written,
            )
        )


def _batch_write(plan: PopulationPlan, rows: _Rows, slots: SlotBook) -> PopulationTotals:
    numbers = [member.number for member in rows.members]
    if Member.objects.filter(number__in=numbers).exists():
        raise PopulationError(
            "a member number of this population is already taken by another member; "
            "use another --seed"
        )
    rows_insert(get_user_model(), rows.users)
    rows_insert(Member, rows.members)
    rows_insert(_model("order.Order"), rows.orders)
    rows_insert(_model("order.Line"), rows.lines)
    slots.flush()
    for pickup, slot in rows.pickups:
        pickup.slot_id = slot.pk
    rows_insert(_model("stores.Pickup"), [pickup for pickup, _slot in rows.pickups])
    rows_insert(_model("stores.StorePreference"), rows.preferences)
    rows_insert(_model("communication.NotificationPreference"), rows.notification_preferences)
    rows_insert(_model("communication.ConsentRecord"), rows.consents)
    rows_insert(_model("communication.OutboxMessage"), rows.messages)
    written = points_history_write(history=rows.history, at=plan.now)
    return PopulationTotals(
        members=len(rows.members),
        orders=len(rows.orders),
        lines=len(rows.lines),
        pickups=len(rows.pickups),
        entries=written.entries,
        consents=len(rows.consents),
    )


# --- The whole population ------------------------------------------------------------------


def population_members_done(plan: PopulationPlan) -> int:
    """How many members of the plan's population are already in the database."""
    return get_user_model().objects.filter(username__startswith=f"{plan.prefix}-").count()


def population_generate(
    *,
    plan: PopulationPlan,
    on_batch: Callable[[PopulationTotals, PopulationTotals], None] | None = None,
) -> PopulationTotals:
    """Generate the plan's population, resuming after the batches already written.

    `on_batch(batch_totals, running_totals)` is called after each committed batch.
    Raises PopulationError (nothing written by the failing batch) when the database
    holds a different population under the same seed, or a member number is taken.
    """
    if not 0 < plan.members <= MAX_MEMBERS or plan.orders < 0 or plan.batch <= 0:
        raise PopulationError(
            f"members must be between 1 and {MAX_MEMBERS:,}, orders 0 or more, batch 1 or more"
        )
    done = population_members_done(plan)
    if done > plan.members or (done % plan.batch and done != plan.members):
        raise PopulationError(
            f"the database holds {done:,} members of population {plan.prefix}, which is not a "
            f"run of this plan ({plan.members:,} members in batches of {plan.batch:,}); "
            "use another --seed or the sizes of the first run"
        )
    expected_orders = plan.orders_between(0, done) if done else 0
    found_orders = _model("order.Order").objects.filter(number__startswith=f"P{plan.seed}-").count()
    if found_orders != expected_orders:
        raise PopulationError(
            f"population {plan.prefix} has {found_orders:,} orders where this plan would have "
            f"written {expected_orders:,}: it was generated with other sizes; use them or "
            "another --seed"
        )
    totals = PopulationTotals()
    rng = random.Random(f"{plan.seed}:setup")
    # Oscar logs a line per product created (stock alerts): thousands of lines for nothing.
    with transaction.atomic(), _quiet("oscar.alerts"):
        _catalogue_ensure(rng)
        _stores_ensure(plan.stores, rng)
        earning_rule_ensure()
        tier_levels_ensure()
    catalogue = _catalogue_read()
    slots = SlotBook(catalogue)
    # One password hash for everybody: unusable, so nobody signs in as a synthetic member.
    password = make_password(None)
    for index, start, stop in plan.batches():
        if stop <= done:
            totals.batches_skipped += 1
            continue
        try:
            with transaction.atomic():
                rows = _Batch(plan, catalogue, slots, index).build(start, stop, password)
                batch = _batch_write(plan, rows, slots)
        except Exception:
            slots.forget()
            raise
        for name in ("members", "orders", "lines", "pickups", "entries", "consents"):
            setattr(totals, name, getattr(totals, name) + getattr(batch, name))
        if on_batch is not None:
            on_batch(batch, totals)
    return totals


def progress_line(done: int, total: int, started: float, now: float) -> str:
    """`37% 37,000/100,000 members, 1m02s, about 1m45s left`."""
    elapsed = now - started
    left = elapsed * (total - done) / done if done else math.inf
    return f"{100 * done // total:3d}% {done:,}/{total:,} members, {_duration(elapsed)}" + (
        f", about {_duration(left)} left" if done < total and left != math.inf else ""
    )


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


# --- Demo segments -------------------------------------------------------------------------

STRASBOURG = (48.5839, 7.7455)


def _nearest_store(lat: float, lng: float) -> int | None:
    stores = (
        _model("stores.Store")
        .objects.filter(is_active=True)
        .values_list("pk", "latitude", "longitude")
    )
    best = min(
        stores,
        key=lambda s: (s[1] - lat) ** 2 + ((s[2] - lng) * math.cos(math.radians(lat))) ** 2,
        default=None,
    )
    return best[0] if best else None


def demo_segments() -> list[tuple[str, str, dict]]:
    """(name, description, rules) of the demo segments this database can express."""
    found = []
    store_id = _nearest_store(*STRASBOURG)
    if store_id is not None:
        found.append(
            (
                "Gold members near Strasbourg",
                "Gold tier, home store within 15 km of the store nearest Strasbourg's centre.",
                {
                    "match": "all",
                    "conditions": [
                        {"type": "tier", "op": "in", "value": ["gold"]},
                        {
                            "type": "home_store_distance",
                            "op": "lte",
                            "value": "15",
                            "store": store_id,
                        },
                    ],
                },
            )
        )
    found.append(
        (
            "Lapsed 90 days",
            "Customers who ordered before but not in the last 90 days.",
            {
                "match": "all",
                "conditions": [
                    {"type": "orders_count", "op": "gte", "value": 1},
                    {"type": "days_since_last_order", "op": "gte", "value": 90},
                ],
            },
        )
    )
    category_model = _model("catalogue.Category")
    coffee = (
        category_model.objects.filter(name__iexact="coffee").order_by("depth", "pk").first()
        or category_model.objects.filter(name__icontains="coffee").order_by("depth", "pk").first()
    )
    if coffee is not None:
        found.append(
            (
                "Bought coffee in the last 30 days",
                f"Bought in the category {coffee.name} (or below) in the last 30 days.",
                {
                    "match": "all",
                    "conditions": [
                        {"type": "bought_category", "op": "in", "value": coffee.pk, "days": 30}
                    ],
                },
            )
        )
    month = datetime.now(UTC).month
    found.append(
        (
            "Birthday this month",
            f"Born in month {month} (the month the segment was saved in).",
            {
                "match": "all",
                "conditions": [{"type": "birthday_month", "op": "in", "value": [month]}],
            },
        )
    )
    return found


def demo_segments_save() -> list[tuple[str, bool]]:
    """Save the demo segments missing by name; (name, created) for each. Idempotent."""
    from loyalty.models import Segment
    from loyalty.services.segments import segment_save

    saved = []
    for name, description, rules in demo_segments():
        exists = Segment.objects.filter(name=name).exists()
        if not exists:
            segment_save(name=name, description=description, rules=rules)
        saved.append((name, not exists))
    return saved
