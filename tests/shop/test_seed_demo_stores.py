"""seed_demo's stores: one per Strasbourg shop, with hours and closures, idempotent."""

import datetime as dt

import pytest
from django.utils import timezone

from shop.demo import seed
from shop.demo.stores import stores_seed
from stores.models import ExceptionalDay, OpeningPeriod, Store
from stores.selectors import stores_near

pytestmark = pytest.mark.django_db


@pytest.fixture
def partners():
    seed.countries_seed()
    _, partners = seed.partners_seed()
    return partners


def test_seeds_the_four_strasbourg_stores_with_hours_and_closures(partners):
    tally = stores_seed(partners=partners)

    assert (tally.created, tally.existing, tally.skipped) == (4, 0, [])
    assert sorted(Store.objects.values_list("partner__code", flat=True)) == [
        "strasbourg-centre",
        "strasbourg-krutenau",
        "strasbourg-neudorf",
        "strasbourg-robertsau",
    ]
    centre = Store.objects.get(slug="strasbourg-centre")
    assert (centre.latitude, centre.longitude) == (48.5819, 7.7507)
    assert OpeningPeriod.objects.filter(store=centre, weekday=6).count() == 1  # Sunday morning
    krutenau = Store.objects.get(slug="strasbourg-krutenau")
    assert OpeningPeriod.objects.filter(store=krutenau, weekday=2).count() == 2  # lunch break
    inventory = timezone.localdate() + dt.timedelta(days=3)
    assert (
        ExceptionalDay.objects.filter(
            store__slug="strasbourg-neudorf", date=inventory, reason="Closed for inventory"
        ).exists()
        or inventory.month == 12
        and inventory.day == 25
    )
    assert ExceptionalDay.objects.filter(date__month=12, date__day=25).count() == 4
    # Standing in Neudorf, Neudorf is nearest.
    assert stores_near(lat=48.5705, lng=7.7625, limit=1)[0].store.slug == "strasbourg-neudorf"


def test_running_again_changes_nothing(partners):
    stores_seed(partners=partners)
    Store.objects.filter(slug="strasbourg-centre").update(phone="edited")

    tally = stores_seed(partners=partners)

    assert (tally.created, tally.existing) == (0, 4)
    assert Store.objects.count() == 4
    assert Store.objects.get(slug="strasbourg-centre").phone == "edited"


def test_seeds_one_pickup_in_every_state_for_the_shopper_once(partners):
    from django.contrib.auth import get_user_model

    from shop.demo.stores import pickups_seed
    from stores.models import Pickup, PickupStatus
    from tests.factories import product
    from tests.stores.factories import stock

    stores_seed(partners=partners)
    shopper = get_user_model().objects.create_user(
        "shopper@solomo.example", "shopper@solomo.example", "pw"
    )
    mug = product("Mug", stock=10)
    for store in Store.objects.all():
        store.opening_periods.all().delete()
        for day in range(7):
            store.opening_periods.create(weekday=day, opens=dt.time(0), closes=dt.time(23, 59))
        stock(store, mug, 10)

    assert pickups_seed() == 6
    assert pickups_seed() == 0

    pickups = Pickup.objects.filter(order__user=shopper)
    assert sorted(pickups.values_list("status", flat=True)) == sorted(PickupStatus.values)
    assert {p.order.lines.get().stockrecord.partner_id for p in pickups} <= {
        s.partner_id for s in Store.objects.all()
    }
