"""One batch of members: users, members, orders with lines and pickups, points, consents,
home stores and a message, written in one transaction."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model

from loyalty.bulk_rows import ids_reserve, row, rows_insert
from loyalty.models import Member, Tier
from loyalty.selectors import earning_rule
from loyalty.services.ledger import PastEarn, PastMovement, points_history_write
from loyalty.services.members import luhn_check_digit
from stores.selectors import PICKUP_SHIPPING_CODE, PickupStatus

from .plan import (
    FIRST_NAMES,
    HOME_DELIVERY,
    LAST_NAMES,
    Catalogue,
    PopulationError,
    PopulationPlan,
    PopulationTotals,
    registry_model,
)
from .references import SlotBook


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


class Batch:
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
        self.order_ids = iter(ids_reserve(registry_model("order.Order"), sum(counts)))
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
                row(registry_model("stores.StorePreference"), user_id=user_id, store_id=home[0])
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
                        registry_model("order.Line"),
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
                    registry_model("order.Order"),
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
                    registry_model("stores.Pickup"),
                    order_id=order_id,
                    store_id=store[0],
                    code=f"{rng.randrange(1_000_000):06d}",
                    status=PickupStatus.CANCELLED if cancelled else PickupStatus.COLLECTED,
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
                        registry_model("communication.ConsentRecord"),
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
                        registry_model("communication.NotificationPreference"),
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
                registry_model("communication.OutboxMessage"),
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


def batch_write(plan: PopulationPlan, rows: _Rows, slots: SlotBook) -> PopulationTotals:
    numbers = [member.number for member in rows.members]
    if Member.objects.filter(number__in=numbers).exists():
        raise PopulationError(
            "a member number of this population is already taken by another member; "
            "use another --seed"
        )
    rows_insert(get_user_model(), rows.users)
    rows_insert(Member, rows.members)
    rows_insert(registry_model("order.Order"), rows.orders)
    rows_insert(registry_model("order.Line"), rows.lines)
    slots.flush()
    for pickup, slot in rows.pickups:
        pickup.slot_id = slot.pk
    rows_insert(registry_model("stores.Pickup"), [pickup for pickup, _slot in rows.pickups])
    rows_insert(registry_model("stores.StorePreference"), rows.preferences)
    rows_insert(
        registry_model("communication.NotificationPreference"), rows.notification_preferences
    )
    rows_insert(registry_model("communication.ConsentRecord"), rows.consents)
    rows_insert(registry_model("communication.OutboxMessage"), rows.messages)
    written = points_history_write(history=rows.history, at=plan.now)
    return PopulationTotals(
        members=len(rows.members),
        orders=len(rows.orders),
        lines=len(rows.lines),
        pickups=len(rows.pickups),
        entries=written.entries,
        consents=len(rows.consents),
    )
