"""R38: store staff see and change only their own store's pickups (404 otherwise); R40: POST."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from stores.models import PickupStatus
from tests.stores.factories import ALWAYS_OPEN, pickup_order, staff_of, store

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    a, b = store("Store A"), store("Store B")
    hq = get_user_model().objects.create_superuser("hq@example.com", "hq@example.com", "pw")
    return {
        "stores": {"A": a, "B": b},
        "users": {
            "A staff": staff_of(a, "a@example.com"),
            "B staff": staff_of(b, "b@example.com"),
            "HQ": hq,
        },
        "pickups": {"A-only": pickup_order(a), "B-only": pickup_order(b)},
    }


ALLOWED = {("A staff", "A-only"), ("B staff", "B-only"), ("HQ", "A-only"), ("HQ", "B-only")}


@pytest.mark.parametrize("who", ["A staff", "B staff", "HQ"])
@pytest.mark.parametrize("which", ["A-only", "B-only"])
def test_permission_matrix(client, world, who, which):
    user, pickup = world["users"][who], world["pickups"][which]
    client.force_login(user)
    allowed = (who, which) in ALLOWED

    listing = client.get(reverse("stores-dashboard:queue"))
    detail = client.get(reverse("stores-dashboard:detail", kwargs={"pk": pickup.pk}))
    change = client.post(
        reverse("stores-dashboard:status", kwargs={"pk": pickup.pk}), {"action": "preparing"}
    )

    assert listing.status_code == 200
    assert (pickup in listing.context["pickups"]) is allowed
    assert (str(pickup.order.number) in listing.content.decode()) is allowed
    assert detail.status_code == (200 if allowed else 404)
    assert change.status_code == (302 if allowed else 404)
    pickup.refresh_from_db()
    assert pickup.status == (PickupStatus.PREPARING if allowed else PickupStatus.NEW)


def test_anonymous_is_sent_to_login_and_shoppers_get_404(client, world):
    pickup = world["pickups"]["A-only"]
    assert client.get(reverse("stores-dashboard:queue")).status_code == 302

    shopper = get_user_model().objects.create_user("s@example.com", "s@example.com", "pw")
    client.force_login(shopper)
    assert client.get(reverse("stores-dashboard:queue")).status_code == 404
    assert (
        client.get(reverse("stores-dashboard:detail", kwargs={"pk": pickup.pk})).status_code == 404
    )


def test_status_changes_need_post_and_csrf(world):
    from django.test import Client

    pickup = world["pickups"]["A-only"]
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["users"]["A staff"])
    url = reverse("stores-dashboard:status", kwargs={"pk": pickup.pk})

    assert client.get(url, {"action": "ready"}).status_code == 405
    assert client.post(url, {"action": "ready"}).status_code == 403
    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.NEW


def test_customer_is_here_shows_in_the_queue_and_wrong_code_is_refused(client, world):
    shop = world["stores"]["A"]
    for weekday, periods in ALWAYS_OPEN.items():
        for opens, closes in periods:
            shop.opening_periods.create(weekday=weekday, opens=opens, closes=closes)
    customer = get_user_model().objects.create_user("c@example.com", "c@example.com", "pw")
    pickup = pickup_order(shop, user=customer, starts_in=dt.timedelta(minutes=10))

    client.force_login(customer)
    page = client.get(reverse("customer:order", kwargs={"order_number": pickup.order.number}))
    assert page.status_code == 200
    html = page.content.decode()
    assert pickup.code in html and "<svg" in html and "I'm here" in html
    assert (
        client.post(
            reverse("stores:pickup-here", kwargs={"number": pickup.order.number})
        ).status_code
        == 302
    )

    client.force_login(world["users"]["A staff"])
    queue = client.get(reverse("stores-dashboard:queue"))
    assert list(queue.context["pickups"])[0] == pickup
    assert "Customer is here" in queue.content.decode()

    url = reverse("stores-dashboard:status", kwargs={"pk": pickup.pk})
    client.post(url, {"action": "ready"})
    wrong = client.post(url, {"action": "collected", "code": "nope"}, follow=True)
    assert "not this order" in wrong.content.decode()
    client.post(url, {"action": "collected", "code": pickup.code})
    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.COLLECTED


def test_another_customer_cannot_say_they_are_here(client, world):
    pickup = world["pickups"]["A-only"]
    other = get_user_model().objects.create_user("o@example.com", "o@example.com", "pw")
    client.force_login(other)

    response = client.post(reverse("stores:pickup-here", kwargs={"number": pickup.order.number}))

    assert response.status_code == 404


def test_store_staff_edit_their_own_store_hours_and_closures_only(client, world):
    a, b = world["stores"]["A"], world["stores"]["B"]
    client.force_login(world["users"]["A staff"])

    assert client.get(reverse("stores-dashboard:store", kwargs={"pk": b.pk})).status_code == 404
    assert (
        client.post(reverse("stores-dashboard:store", kwargs={"pk": b.pk}), {}).status_code == 404
    )
    listing = client.get(reverse("stores-dashboard:stores"))
    assert list(listing.context["stores"]) == [a]

    response = client.post(
        reverse("stores-dashboard:store", kwargs={"pk": a.pk}),
        {
            "phone": "03 88 00 00 01",
            "email": "",
            "services": ["click_collect", "parking"],
            "pickup_enabled": "on",
            "preparation_minutes": "45",
            "slot_minutes": "15",
            "slot_capacity": "3",
            "hours-TOTAL_FORMS": "2",
            "hours-INITIAL_FORMS": "0",
            "hours-0-weekday": "0",
            "hours-0-opens": "09:00",
            "hours-0-closes": "12:00",
            "hours-1-weekday": "4",
            "hours-1-opens": "22:00",
            "hours-1-closes": "02:00",
            "closures-TOTAL_FORMS": "1",
            "closures-INITIAL_FORMS": "0",
            "closures-0-date": "2026-12-26",
            "closures-0-reason": "Boxing Day",
        },
    )

    assert response.status_code == 302
    a.refresh_from_db()
    assert (a.phone, a.services, a.slot_minutes) == (
        "03 88 00 00 01",
        ["click_collect", "parking"],
        15,
    )
    assert sorted(a.opening_periods.values_list("weekday", "opens", "closes")) == [
        (0, dt.time(9), dt.time(12)),
        (4, dt.time(22), dt.time(2)),
    ]
    assert list(a.exceptional_days.values_list("date", "reason")) == [
        (dt.date(2026, 12, 26), "Boxing Day")
    ]


def store_form(store, closures):
    """The store page's POST data with unchanged details and hours, and `closures`."""
    data = {
        "phone": store.phone,
        "email": store.email,
        "services": store.services,
        "pickup_enabled": "on",
        "preparation_minutes": str(store.preparation_minutes),
        "slot_minutes": str(store.slot_minutes),
        "slot_capacity": str(store.slot_capacity),
        "hours-TOTAL_FORMS": "0",
        "hours-INITIAL_FORMS": "0",
        "closures-TOTAL_FORMS": str(len(closures)),
        "closures-INITIAL_FORMS": str(sum(1 for c in closures if "id" in c)),
    }
    for i, closure in enumerate(closures):
        data.update({f"closures-{i}-{key}": value for key, value in closure.items()})
    return data


def test_store_staff_set_special_hours_on_a_date(client, world):
    # Given A's member of staff on their store's page
    a = world["stores"]["A"]
    client.force_login(world["users"]["A staff"])
    url = reverse("stores-dashboard:store", kwargs={"pk": a.pk})

    # When they open the store late on a Sunday, with a lunch break
    response = client.post(
        url,
        store_form(
            a,
            [
                {
                    "date": "2026-12-20",
                    "reason": "Christmas Sunday",
                    "periods": "14:00-18:00, 10:00-12:00",
                }
            ],
        ),
    )

    # Then the date has those periods, shown again on the page
    assert response.status_code == 302
    day = a.exceptional_days.get()
    assert (day.date, day.reason) == (dt.date(2026, 12, 20), "Christmas Sunday")
    assert list(day.periods.values_list("opens", "closes")) == [
        (dt.time(10), dt.time(12)),
        (dt.time(14), dt.time(18)),
    ]
    assert 'value="10:00-12:00, 14:00-18:00"' in client.get(url).content.decode()

    # When they shorten the afternoon, the periods are replaced
    client.post(
        url,
        store_form(a, [{"id": str(day.pk), "date": "2026-12-20", "periods": "14:00-17:00"}]),
    )
    assert list(day.periods.values_list("opens", "closes")) == [(dt.time(14), dt.time(17))]


@pytest.mark.parametrize(
    ("periods", "error"),
    [
        ("10:00-12:00, 11:30-14:00", "Periods on the same date must not overlap."),
        ("22:00-02:00", "22:00-02:00: a period on a date must close after it opens, the same day."),
        ("10:00-10:00", "a period on a date must close after it opens"),
        ("ten to noon", "“ten to noon” is not a period like 10:00-12:00."),
        ("25:00-26:00", "is not a period like 10:00-12:00."),
    ],
)
def test_special_hours_must_be_periods_inside_the_day_without_overlap(
    client, world, periods, error
):
    a = world["stores"]["A"]
    client.force_login(world["users"]["A staff"])

    response = client.post(
        reverse("stores-dashboard:store", kwargs={"pk": a.pk}),
        store_form(a, [{"date": "2026-12-20", "periods": periods}]),
    )

    assert response.status_code == 200
    assert error in response.content.decode().replace("&quot;", '"')
    assert not a.exceptional_days.exists()
