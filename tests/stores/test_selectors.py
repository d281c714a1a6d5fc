"""Distance sort, stores that can serve a basket and pickup slot generation."""

import datetime as dt
import zoneinfo

import pytest
from oscar.core.loading import get_model

from stores.models import PickupSlot, Weekday
from stores.selectors import haversine_km, slots_available, stores_for_basket, stores_near
from tests.factories import product
from tests.stores.factories import every_day, exceptional_day, stock, store

StockRecord = get_model("partner", "StockRecord")

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def paris(y, mo, d, h, mi=0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=PARIS)


def test_haversine_matches_known_distances():
    # Paris (Notre-Dame) to Strasbourg (cathedral): 397 km as the crow flies.
    assert haversine_km(48.8530, 2.3499, 48.5818, 7.7509) == pytest.approx(397.0, rel=0.01)
    assert haversine_km(48.5819, 7.7507, 48.5819, 7.7507) == 0.0


def test_stores_near_sorts_by_distance_and_limits():
    centre = store("Centre", lat=48.5819, lng=7.7507)
    krutenau = store("Krutenau", lat=48.5800, lng=7.7590)
    robertsau = store("Robertsau", lat=48.5960, lng=7.7800)
    store("Paris", lat=48.8566, lng=2.3522)
    store("Closed down", lat=48.5801, lng=7.7591, is_active=False)

    # Standing at Place de Zurich, next to Krutenau
    near = stores_near(lat=48.5795, lng=7.7600, limit=3)

    assert [n.store for n in near] == [krutenau, centre, robertsau]
    assert near[0].distance_km == pytest.approx(0.094, abs=0.005)
    assert near[1].distance_km == pytest.approx(0.734, abs=0.005)
    assert [n.stock for n in near] == [None, None, None]


def test_stores_near_widens_the_search_until_it_finds_enough():
    paris_store = store("Paris", lat=48.8566, lng=2.3522)
    sydney = store("Sydney", lat=-33.8688, lng=151.2093)

    near = stores_near(lat=48.5819, lng=7.7507, limit=5)

    assert [n.store for n in near] == [paris_store, sydney]


def test_stores_near_with_a_product_keeps_stores_with_free_stock_and_says_how_much():
    mug = product("Mug", stock=0)
    centre = store("Centre", lat=48.5819, lng=7.7507)
    krutenau = store("Krutenau", lat=48.5800, lng=7.7590)
    all_held = store("Neudorf", lat=48.5700, lng=7.7620)
    store("Robertsau", lat=48.5960, lng=7.7800)  # does not sell it
    stock(centre, mug, 5, allocated=2)
    stock(krutenau, mug, 1)
    stock(all_held, mug, 2, allocated=2)

    near = stores_near(lat=48.5800, lng=7.7590, limit=10, product=mug)

    assert [(n.store, n.stock) for n in near] == [(krutenau, 1), (centre, 3)]


def test_stores_near_counts_stock_with_no_allocation_recorded_as_free():
    # Oscar leaves num_allocated NULL until something is allocated (the demo's stock)
    mug = product("Mug", stock=0)
    centre = store("Centre", lat=48.5819, lng=7.7507)
    record = stock(centre, mug, 4)
    type(record).objects.filter(pk=record.pk).update(num_allocated=None)

    near = stores_near(lat=48.5800, lng=7.7590, limit=10, product=mug)

    assert [(n.store, n.stock) for n in near] == [(centre, 4)]


def test_stores_near_a_product_in_few_stores_reads_them_all_in_two_queries(
    django_assert_num_queries,
):
    # Given a mug in stock in two stores, one of them holding it under two SKUs
    mug = product("Mug", stock=0)
    centre = store("Centre", lat=48.5819, lng=7.7507)
    paris_store = store("Paris", lat=48.8566, lng=2.3522)
    store("Krutenau", lat=48.5800, lng=7.7590)  # does not sell it
    stock(centre, mug, 3)
    StockRecord.objects.create(
        partner=centre.partner,
        product=mug,
        partner_sku="centre-mug-2",
        price="9.99",
        num_in_stock=3,
        num_allocated=0,
    )
    stock(paris_store, mug, 1)

    # When the 10 nearest with stock are asked for
    with django_assert_num_queries(2):  # the first box; then: are there more than 10 at all?
        near = stores_near(lat=48.5819, lng=7.7507, limit=10, product=mug)

    # Then both, once each, nearest first
    assert [(n.store, n.stock) for n in near] == [(centre, 3), (paris_store, 1)]


def test_stores_near_costs_one_query_when_the_first_box_has_enough(django_assert_num_queries):
    mug = product("Mug", stock=0)
    for i in range(12):
        stock(store(lat=48.5819 + i * 0.001, lng=7.7507), mug, 1)

    with django_assert_num_queries(1):
        near = stores_near(lat=48.5819, lng=7.7507, limit=10, product=mug)

    assert len(near) == 10


def test_slots_follow_opening_hours_after_the_preparation_time():
    shop = store(
        hours={Weekday.MONDAY: [("09:00", "12:00"), ("14:00", "15:00")]},
        preparation_minutes=60,
        slot_minutes=30,
        slot_capacity=2,
    )

    slots = slots_available(
        store=shop, basket_or_lines=None, now=paris(2026, 11, 30, 9, 10), days=1
    )

    assert [s.starts_at.astimezone(PARIS).strftime("%H:%M") for s in slots] == [
        "10:30",
        "11:00",
        "11:30",
        "14:00",
        "14:30",
    ]
    assert slots[0].ends_at - slots[0].starts_at == dt.timedelta(minutes=30)
    assert {s.remaining for s in slots} == {2}


def test_full_slots_are_left_out_and_partly_booked_ones_show_what_remains():
    shop = store(
        hours={Weekday.MONDAY: [("09:00", "10:30")]}, preparation_minutes=0, slot_capacity=2
    )
    for hour, minute, booked in [(9, 0, 2), (9, 30, 1)]:
        start = paris(2026, 11, 30, hour, minute)
        PickupSlot.objects.create(
            store=shop,
            starts_at=start,
            ends_at=start + dt.timedelta(minutes=30),
            capacity=2,
            booked=booked,
        )

    slots = slots_available(store=shop, basket_or_lines=None, now=paris(2026, 11, 30, 8), days=1)

    assert [(s.starts_at.astimezone(PARIS).strftime("%H:%M"), s.remaining) for s in slots] == [
        ("09:30", 1),
        ("10:00", 2),
    ]


def test_no_slots_on_a_closure_day_and_none_in_the_past():
    shop = store(hours=every_day("09:00", "11:00"), preparation_minutes=0, slot_minutes=60)
    exceptional_day(shop, dt.date(2026, 12, 1), reason="Inventory")

    slots = slots_available(
        store=shop, basket_or_lines=None, now=paris(2026, 11, 30, 10, 1), days=3
    )

    assert [s.starts_at.astimezone(PARIS).strftime("%d %H:%M") for s in slots] == [
        "02 09:00",
        "02 10:00",
    ]


def test_slots_on_the_spring_forward_day_count_real_hours():
    shop = store(
        hours={Weekday.SUNDAY: [("01:00", "04:00")]}, preparation_minutes=0, slot_minutes=60
    )

    slots = slots_available(store=shop, basket_or_lines=None, now=paris(2026, 3, 28, 12), days=2)

    # 01:00 CET -> 04:00 CEST is two real hours: two one-hour slots.
    assert [s.starts_at.astimezone(PARIS).strftime("%H:%M") for s in slots] == ["01:00", "03:00"]


def test_no_slots_when_the_store_cannot_serve_the_whole_basket():
    mug, tea = product("Mug", stock=0), product("Tea", stock=0)
    shop = store(hours=every_day(), preparation_minutes=0)
    stock(shop, mug, 3)
    stock(shop, tea, 1)
    now = paris(2026, 11, 30, 8)

    assert slots_available(store=shop, basket_or_lines=[(mug.pk, 3), (tea.pk, 1)], now=now, days=1)
    assert not slots_available(
        store=shop, basket_or_lines=[(mug.pk, 1), (tea.pk, 2)], now=now, days=1
    )
    assert not slots_available(
        store=shop, basket_or_lines=[(mug.pk, 2), (mug.pk, 2)], now=now, days=1
    )


def test_stores_for_basket_keeps_those_with_every_line_nearest_first(django_assert_num_queries):
    # Given three pickup stores and two products; a store with stock but no pickup
    mug, tea = product("Mug", stock=0), product("Tea", stock=0)
    centre = store("Centre", lat=48.5819, lng=7.7507)
    robertsau = store("Robertsau", lat=48.5960, lng=7.7800)
    short = store("Neudorf", lat=48.5700, lng=7.7600)
    closed = store("Hautepierre", lat=48.5900, lng=7.7000, pickup_enabled=False)
    for shop in (centre, robertsau, closed):
        stock(shop, mug, 2)
        stock(shop, tea, 1)
    stock(short, mug, 2, allocated=1)
    stock(short, tea, 5)
    # A stock record whose allocation was never set (NULL), as Oscar's imports leave it
    StockRecord.objects.filter(partner=robertsau.partner).update(num_allocated=None)

    # When the stores for two mugs and a tea are asked for, from near Robertsau
    with django_assert_num_queries(4):  # stock, stores, their weekly and exceptional hours
        found = stores_for_basket(basket_or_lines=[(mug.pk, 2), (tea.pk, 1)], lat=48.6, lng=7.78)

    # Then only the stores with both, nearest first
    assert found == [robertsau, centre]
    assert stores_for_basket(basket_or_lines=[], lat=48.6, lng=7.78) == []
