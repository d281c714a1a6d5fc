"""Stores for tests: a partner, a store and its weekly hours in one call."""

import datetime as dt
import itertools
import random

from oscar.core.loading import get_model

from stores.models import ExceptionalDay, ExceptionalPeriod, OpeningPeriod, Store

Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")

_seq = itertools.count(1)


def _t(value: str) -> dt.time:
    return dt.time.fromisoformat(value)


def store(
    name: str | None = None,
    *,
    lat: float = 48.5819,
    lng: float = 7.7507,
    hours: dict[int, list[tuple[str, str]]] | None = None,
    timezone: str = "Europe/Paris",
    **fields,
) -> Store:
    """A store (with its partner) open `hours` = {weekday: [("09:00", "19:00"), ...]}."""
    n = next(_seq)
    name = name or f"Store {n}"
    partner = Partner.objects.create(name=name, code=f"store-{n}")
    created = Store.objects.create(
        partner=partner,
        name=name,
        slug=f"store-{n}",
        line1=f"{n} rue du Test",
        postcode="67000",
        city="Strasbourg",
        latitude=lat,
        longitude=lng,
        timezone=timezone,
        **fields,
    )
    for weekday, periods in (hours or {}).items():
        for opens, closes in periods:
            OpeningPeriod.objects.create(
                store=created, weekday=weekday, opens=_t(opens), closes=_t(closes)
            )
    return created


def every_day(opens: str = "09:00", closes: str = "19:00") -> dict[int, list[tuple[str, str]]]:
    return {day: [(opens, closes)] for day in range(7)}


# Open round the clock: noon to midnight runs into the next day's midnight to noon.
ALWAYS_OPEN = {day: [("00:00", "12:00"), ("12:00", "00:00")] for day in range(7)}


def exceptional_day(
    store: Store, date: dt.date, periods: list[tuple[str, str]] = (), reason: str = ""
) -> ExceptionalDay:
    day = ExceptionalDay.objects.create(store=store, date=date, reason=reason)
    for opens, closes in periods:
        ExceptionalPeriod.objects.create(day=day, opens=_t(opens), closes=_t(closes))
    return day


def stock(store: Store, product, num_in_stock: int, *, price: str = "9.99", allocated: int = 0):
    return StockRecord.objects.create(
        partner=store.partner,
        product=product,
        partner_sku=f"{store.slug}-{product.pk:06d}",  # no SKU contains another
        price=price,
        num_in_stock=num_in_stock,
        num_allocated=allocated,
    )


def pickup_order(
    store: Store,
    *,
    quantity: int = 1,
    in_stock: int = 5,
    user=None,
    status=None,
    starts_in: dt.timedelta = dt.timedelta(hours=2),
):
    """An order placed through Oscar's OrderCreator from `store`'s stock, with its pickup
    in a slot starting `starts_in` from now."""
    from django.utils import timezone
    from oscar.test.factories import create_basket, create_order, create_product

    from stores.models import Pickup, PickupSlot

    item = create_product(title=f"Item {next(_seq)}")
    record = stock(store, item, in_stock)
    basket = create_basket(empty=True)
    basket.add_product(item, quantity)
    order = create_order(basket=basket, user=user, guest_email="" if user else "guest@example.com")
    starts = timezone.now().replace(microsecond=0) + starts_in
    slot, _ = PickupSlot.objects.get_or_create(
        store=store,
        starts_at=starts,
        defaults={"ends_at": starts + dt.timedelta(minutes=30), "capacity": 10, "booked": 1},
    )
    pickup = Pickup.objects.create(order=order, store=store, slot=slot)
    if status:
        Pickup.objects.filter(pk=pickup.pk).update(status=status)
        pickup.refresh_from_db()
    record.refresh_from_db()
    return pickup


def staff_of(store: Store, email: str):
    """A store member of staff as seed_demo makes them: partner user + dashboard_access."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    user = get_user_model().objects.create_user(email, email, "pw")
    store.partner.users.add(user)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="partner", codename="dashboard_access")
    )
    return user


def buyer_with_history(store: Store, *, email: str = "lea@example.com"):
    """A signed-up buyer (Léa Martin) with a saved address, an earlier order and an open
    pickup ready at `store`: (user, pickup, earlier order). Pages a friend sees must show
    none of the account's other things."""
    from django.contrib.auth import get_user_model
    from oscar.core.loading import get_model
    from oscar.test.factories import create_order

    from stores.models import PickupStatus

    user = get_user_model().objects.create_user(
        email, email, "pw", first_name="Léa", last_name="Martin"
    )
    get_model("address", "UserAddress").objects.create(
        user=user,
        first_name="Léa",
        last_name="Martin",
        line1="12 rue des Secrets",
        line4="Strasbourg",
        postcode="67000",
        country=get_model("address", "Country").objects.get_or_create(
            iso_3166_1_a2="FR", defaults={"name": "France", "printable_name": "France"}
        )[0],
    )
    earlier = create_order(user=user)
    pickup = pickup_order(store, user=user, status=PickupStatus.READY)
    return user, pickup, earlier


def stores_scattered(count: int, seed: int) -> list[Store]:
    """`count` stores with partners in bulk: half crowded around Strasbourg, half anywhere in
    metropolitan France, every tenth closed, and a few on the very same spot."""
    rng = random.Random(seed)
    partners = Partner.objects.bulk_create(
        Partner(name=f"Scattered {seed}-{i}", code=f"scattered-{seed}-{i}") for i in range(count)
    )
    rows = []
    for i, partner in enumerate(partners):
        if i % 2:
            lat, lng = 48.58 + rng.gauss(0, 0.05), 7.75 + rng.gauss(0, 0.07)
        else:
            lat, lng = rng.uniform(42.5, 51.0), rng.uniform(-4.5, 8.0)
        if i % 25 == 1 and rows:
            lat, lng = rows[-1].latitude, rows[-1].longitude  # ties: nearest first by id
        rows.append(
            Store(
                partner=partner,
                name=f"Scattered {i}",
                slug=f"scattered-{seed}-{i}",
                line1="1 rue",
                postcode="67000",
                city="Strasbourg",
                latitude=lat,
                longitude=lng,
                is_active=i % 10 != 3,
            )
        )
    return Store.objects.bulk_create(rows)
