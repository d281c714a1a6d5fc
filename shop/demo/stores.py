"""Demo stores: one per Strasbourg partner, with coordinates, weekly hours and closures.

Stores are identified by their partner's code. An existing store is never
changed (its hours and closures included), like every other seeded row.
"""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from oscar.core.loading import get_class, get_model

from shop.checkout.pickup import PickupChoice, basket_use_store_stock
from shop.orders.placement import PaymentChoice, Shipping, order_place
from shop.payment.messages import payment_event_type
from shop.payment.methods import AT_PICKUP
from shop.shipping.methods import ClickAndCollect
from stores.messages import EVENT_TYPES, pickup_event_type
from stores.models import ExceptionalDay, OpeningPeriod, Pickup, PickupStatus, Service, Store
from stores.selectors import slots_available
from stores.services import (
    pickup_cancel,
    pickup_hand_over,
    pickup_mark_preparing,
    pickup_mark_ready,
)

from .places import SHOPS, STRASBOURG

Basket = get_model("basket", "Basket")
StockRecord = get_model("partner", "StockRecord")
User = get_user_model()
OrderNumberGenerator = get_class("order.utils", "OrderNumberGenerator")
OrderTotalCalculator = get_class("checkout.calculators", "OrderTotalCalculator")
Selector = get_class("partner.strategy", "Selector")

MON_SAT = range(0, 6)


@dataclass(frozen=True)
class StoreSpec:
    partner_code: str
    slug: str
    latitude: float
    longitude: float
    phone: str
    # {weekday: ((opens, closes), ...)}, Monday = 0.
    hours: dict[int, tuple[tuple[str, str], ...]]
    services: tuple[str, ...]
    slot_capacity: int = 4


def _days(days, *periods: tuple[str, str]) -> dict[int, tuple[tuple[str, str], ...]]:
    return dict.fromkeys(days, periods)


STORES: tuple[StoreSpec, ...] = (
    StoreSpec(
        "strasbourg-centre",
        "strasbourg-centre",
        48.5819,
        7.7507,
        "03 88 21 10 10",
        # Open on Sunday mornings.
        {**_days(MON_SAT, ("09:30", "19:30")), 6: (("10:00", "13:00"),)},
        (Service.CLICK_AND_COLLECT, Service.RETURNS, Service.GIFT_WRAPPING, Service.WHEELCHAIR),
        slot_capacity=6,
    ),
    StoreSpec(
        "strasbourg-krutenau",
        "strasbourg-krutenau",
        48.5800,
        7.7590,
        "03 88 35 22 20",
        # A lunch break, and Monday afternoons only.
        {**_days(range(1, 6), ("10:00", "12:30"), ("14:00", "19:00")), 0: (("14:00", "19:00"),)},
        (Service.CLICK_AND_COLLECT, Service.TASTING),
    ),
    StoreSpec(
        "strasbourg-neudorf",
        "strasbourg-neudorf",
        48.5700,
        7.7620,
        "03 88 34 30 30",
        _days(MON_SAT, ("09:00", "20:00")),
        (Service.CLICK_AND_COLLECT, Service.PARKING, Service.WHEELCHAIR, Service.RETURNS),
    ),
    StoreSpec(
        "strasbourg-robertsau",
        "strasbourg-robertsau",
        48.5960,
        7.7800,
        "03 88 31 40 40",
        _days(MON_SAT, ("08:30", "19:00")),
        (Service.CLICK_AND_COLLECT, Service.PARKING),
        slot_capacity=3,
    ),
)

# Closures relative to the day of seeding, so the demo always shows one this week.
INVENTORY_STORE = "strasbourg-neudorf"
INVENTORY_IN_DAYS = 3


@dataclass
class StoresTally:
    created: int = 0
    existing: int = 0
    skipped: list[str] | None = None


@transaction.atomic
def stores_seed(*, partners: dict) -> StoresTally:
    """A store for each Strasbourg partner that has none, with hours and closures."""
    tally = StoresTally(skipped=[])
    for code in EVENT_TYPES:
        pickup_event_type(code)  # the click & collect messages, editable in the dashboard
    payment_event_type()  # "order cancelled: payment not completed"
    addresses = {spec.code: spec for spec in SHOPS}
    today = timezone.localdate()
    for spec in STORES:
        partner = partners[spec.partner_code]
        if Store.objects.filter(partner=partner).exists():
            tally.existing += 1
            continue
        if Store.objects.filter(slug=spec.slug).exists():
            tally.skipped.append(f"{spec.partner_code}: slug {spec.slug} belongs to another store")
            continue
        address = addresses[spec.partner_code]
        store = Store.objects.create(
            partner=partner,
            name=partner.name,
            slug=spec.slug,
            line1=address.line1,
            postcode=address.postcode,
            city=STRASBOURG,
            latitude=spec.latitude,
            longitude=spec.longitude,
            phone=spec.phone,
            email=f"{spec.slug}@solomo.example",
            services=list(spec.services),
            slot_capacity=spec.slot_capacity,
        )
        OpeningPeriod.objects.bulk_create(
            OpeningPeriod(
                store=store,
                weekday=day,
                opens=dt.time.fromisoformat(opens),
                closes=dt.time.fromisoformat(closes),
            )
            for day, periods in spec.hours.items()
            for opens, closes in periods
        )
        christmas = dt.date(
            today.year if today <= dt.date(today.year, 12, 25) else today.year + 1, 12, 25
        )
        ExceptionalDay.objects.create(store=store, date=christmas, reason="Christmas Day")
        if spec.partner_code == INVENTORY_STORE:
            inventory = today + dt.timedelta(days=INVENTORY_IN_DAYS)
            if inventory != christmas:
                ExceptionalDay.objects.create(
                    store=store, date=inventory, reason="Closed for inventory"
                )
        tally.created += 1
    return tally


# --- Demo pickups: one click & collect order in each state, for the shopper ----------------

DEMO_PICKUP_USER = "shopper@solomo.example"
# (store, status) per demo order; every state of the lifecycle appears once.
DEMO_PICKUPS: tuple[tuple[str, str], ...] = (
    ("strasbourg-centre", PickupStatus.NEW),
    ("strasbourg-centre", PickupStatus.PREPARING),
    ("strasbourg-centre", PickupStatus.READY),
    ("strasbourg-krutenau", PickupStatus.COLLECTED),
    ("strasbourg-neudorf", PickupStatus.UNCOLLECTED),
    ("strasbourg-robertsau", PickupStatus.CANCELLED),
)


def _place_pickup_order(*, user, store: Store, now: dt.datetime, product_ids=None) -> Pickup | None:
    """One order of a product in stock at `store` (one of `product_ids` if given), paid at
    pickup, placed as the checkout places it (shop.orders' order_place)."""
    records = StockRecord.objects.filter(partner=store.partner)
    if product_ids is not None:
        records = records.filter(
            Q(product_id__in=product_ids) | Q(product__parent_id__in=product_ids)
        )
    record = (
        records.annotate(free=F("num_in_stock") - Coalesce("num_allocated", 0))
        .filter(free__gt=0)
        .select_related("product")
        .order_by("product__upc")
        .first()
    )
    slots = slots_available(store=store, basket_or_lines=None, now=now, days=7)
    if record is None or not slots:
        return None
    basket = Basket.objects.create(owner=user)
    basket.strategy = Selector().strategy(user=user)
    basket.add_product(record.product, 1)
    basket_use_store_stock(basket=basket, store=store)
    method = ClickAndCollect()
    charge = method.calculate(basket)
    placed = order_place(
        basket=basket,
        user=user,
        order_number=OrderNumberGenerator().order_number(basket),
        total=OrderTotalCalculator().calculate(basket, charge),
        shipping=Shipping(method=method, charge=charge),
        payment=PaymentChoice(method=AT_PICKUP),
        pickup=PickupChoice(store, slots[0].starts_at),
    )
    return placed.order.pickup


@transaction.atomic
def pickups_seed() -> int:
    """The demo shopper's click & collect orders, one per state; none if they have any already."""
    user = User.objects.filter(email__iexact=DEMO_PICKUP_USER).first()
    if user is None or Pickup.objects.filter(order__user=user).exists():
        return 0
    now = timezone.now()
    created = 0
    for slug, status in DEMO_PICKUPS:
        store = Store.objects.filter(slug=slug).first()
        pickup = store and _place_pickup_order(user=user, store=store, now=now)
        if not pickup:
            continue
        if status == PickupStatus.PREPARING:
            pickup_mark_preparing(pickup=pickup)
        elif status in (PickupStatus.READY, PickupStatus.COLLECTED, PickupStatus.UNCOLLECTED):
            pickup_mark_ready(pickup=pickup, now=now)
            if status == PickupStatus.COLLECTED:
                pickup_hand_over(pickup=pickup, code=pickup.code, now=now)
            elif status == PickupStatus.UNCOLLECTED:
                pickup_cancel(pickup=pickup, now=now, status=PickupStatus.UNCOLLECTED)
        elif status == PickupStatus.CANCELLED:
            pickup_cancel(pickup=pickup, now=now)
        created += 1
    return created
