""" "I'm here" only from shortly before the slot while the store is open, cleared at hand-over;
guests' signed pickup links stop working STORES_STATUS_LINK_DAYS after the slot."""

import datetime as dt
import time
import zoneinfo

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from stores.links import SALT, pickup_link_url
from stores.models import Pickup, PickupSlot, PickupStatus
from stores.services import (
    PickupArrivalTooEarly,
    pickup_customer_arrived,
    pickup_hand_over,
    pickup_mark_ready,
)
from tests.stores.factories import ALWAYS_OPEN, every_day, pickup_order, staff_of, store

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def at(day: dt.date, hhmm: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), tzinfo=PARIS)


def pickup_at(shop, starts_at: dt.datetime, **kwargs) -> Pickup:
    pickup = pickup_order(shop, **kwargs)
    slot = PickupSlot.objects.create(
        store=shop,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=30),
        capacity=4,
        booked=1,
    )
    Pickup.objects.filter(pk=pickup.pk).update(slot=slot)
    pickup.refresh_from_db()
    return pickup


@pytest.fixture
def morning():
    """A store open 08:00-19:00 and a pickup in tomorrow's 09:00 slot."""
    shop = store("Centre", hours=every_day("08:00", "19:00"))
    tomorrow = timezone.localtime(timezone.now(), PARIS).date() + dt.timedelta(days=1)
    return shop, pickup_at(shop, at(tomorrow, "09:00")), tomorrow


def test_i_am_here_at_0415_for_a_0900_slot_is_refused_saying_from_when(morning):
    _shop, pickup, day = morning

    with pytest.raises(PickupArrivalTooEarly) as refused:
        pickup_customer_arrived(pickup=pickup, now=at(day, "04:15"))

    expected_day = f"{at(day, '08:30'):%A} {day.day} {at(day, '08:30'):%B}"
    assert str(refused.value) == (
        "It is too early to tell Centre you are here: “I'm here” works from 08:30 on "
        f"{expected_day}."
    )
    pickup.refresh_from_db()
    assert pickup.customer_arrived_at is None


def test_i_am_here_is_accepted_from_30_minutes_before_the_slot(morning):
    _shop, pickup, day = morning

    with pytest.raises(PickupArrivalTooEarly):
        pickup_customer_arrived(pickup=pickup, now=at(day, "08:29"))
    pickup_customer_arrived(pickup=pickup, now=at(day, "08:30"))

    assert pickup.customer_arrived_at == at(day, "08:30")


def test_the_window_follows_the_setting_and_waits_for_the_store_to_open(settings):
    settings.STORES_ARRIVAL_EARLY_MINUTES = 90
    shop = store("Centre", hours=every_day("08:45", "19:00"))
    day = timezone.localtime(timezone.now(), PARIS).date() + dt.timedelta(days=1)
    pickup = pickup_at(shop, at(day, "09:00"))

    # 90 minutes before is 07:30, but the store opens at 08:45
    with pytest.raises(PickupArrivalTooEarly, match="works from 08:45 on"):
        pickup_customer_arrived(pickup=pickup, now=at(day, "08:00"))
    pickup_customer_arrived(pickup=pickup, now=at(day, "08:45"))

    assert pickup.customer_arrived_at == at(day, "08:45")


def test_a_closed_store_during_the_window_refuses_until_it_reopens():
    # Lunch break 12:00-14:00, slot at 14:00: at 13:45 the store is still closed
    shop = store("Centre", hours={d: [("08:00", "12:00"), ("14:00", "19:00")] for d in range(7)})
    day = timezone.localtime(timezone.now(), PARIS).date() + dt.timedelta(days=1)
    pickup = pickup_at(shop, at(day, "14:00"))

    with pytest.raises(PickupArrivalTooEarly, match="works from 14:00 on"):
        pickup_customer_arrived(pickup=pickup, now=at(day, "13:45"))


def test_the_customer_told_too_early_sees_why_and_does_not_jump_the_queue(client, morning):
    shop, pickup, _day = morning
    soon = pickup_order(shop)  # another customer's order, its slot in two hours
    customer_client = Client()
    url = pickup_link_url(order_number=pickup.order.number)
    shown = customer_client.get(url).content.decode()
    assert "it works from 08:30 on" in shown
    assert "I'm here</button>" not in shown

    # A tap anyway (an old page) is refused with the same explanation
    response = customer_client.post(url, follow=True)

    page = response.content.decode()
    assert "It is too early to tell Centre you are here" in page
    assert "works from 08:30 on" in page
    pickup.refresh_from_db()
    assert pickup.customer_arrived_at is None
    client.force_login(staff_of(shop, "staff@centre.example"))
    queue = client.get(reverse("stores-dashboard:queue"))
    assert "Customer is here" not in queue.content.decode()
    assert [p.pk for p in queue.context["pickups"]][0] == soon.pk  # by slot only


def test_hand_over_clears_customer_is_here(client):
    shop = store("Centre", hours=ALWAYS_OPEN)
    pickup = pickup_order(shop, starts_in=dt.timedelta(minutes=10))
    now = timezone.now()
    pickup_customer_arrived(pickup=pickup, now=now)
    pickup_mark_ready(pickup=pickup, now=now)
    client.force_login(staff_of(shop, "staff@centre.example"))
    detail_url = reverse("stores-dashboard:detail", args=[pickup.pk])
    assert "Customer is here" in client.get(detail_url).content.decode()

    pickup_hand_over(pickup=pickup, code=pickup.code, now=now)

    pickup.refresh_from_db()
    assert (pickup.status, pickup.customer_arrived_at) == (PickupStatus.COLLECTED, None)
    assert "Customer is here" not in client.get(detail_url).content.decode()


# --- Signed links expire -------------------------------------------------------------------


def old_token(number: str, *, days_ago: int) -> str:
    """A token as stores.links makes them, signed `days_ago` days ago."""

    class Earlier(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - days_ago * 86400)

    return Earlier(salt=SALT).sign_object(number)


def move_slot(pickup: Pickup, *, ended_days_ago: float) -> None:
    ends = timezone.now() - dt.timedelta(days=ended_days_ago)
    PickupSlot.objects.filter(pk=pickup.slot_id).update(
        starts_at=ends - dt.timedelta(minutes=30), ends_at=ends
    )


def test_a_link_works_until_30_days_after_the_slot_then_says_how_to_follow_the_order(client):
    pickup = pickup_order(store("Centre"), status=PickupStatus.COLLECTED)
    url = pickup_link_url(order_number=pickup.order.number)

    move_slot(pickup, ended_days_ago=29.9)
    assert client.get(url).status_code == 200

    move_slot(pickup, ended_days_ago=30.1)
    expired = client.get(url)
    assert expired.status_code == 410
    page = expired.content.decode()
    assert "This link has expired" in page
    assert f"The link to follow order {pickup.order.number} no longer works" in page
    assert reverse("customer:order-list") in page
    assert "order confirmation e-mail" in page
    assert pickup.code not in page
    assert client.post(url).status_code == 410


def test_the_number_of_days_is_a_setting(client, settings):
    settings.STORES_STATUS_LINK_DAYS = 3
    pickup = pickup_order(store("Centre"), status=PickupStatus.COLLECTED)
    move_slot(pickup, ended_days_ago=3.1)

    assert client.get(pickup_link_url(order_number=pickup.order.number)).status_code == 410


def test_a_link_signed_longer_ago_than_any_slot_allows_has_expired(client):
    # STORES_SLOT_DAYS (3) + STORES_STATUS_LINK_DAYS (30): a link is never older than that
    pickup = pickup_order(store("Centre"))
    number = pickup.order.number
    fresh = reverse("stores:pickup-status", kwargs={"token": old_token(number, days_ago=32)})
    stale = reverse("stores:pickup-status", kwargs={"token": old_token(number, days_ago=34)})

    assert client.get(fresh).status_code == 200
    response = client.get(stale)
    assert response.status_code == 410
    assert "This pickup link no longer works" in response.content.decode()
