"""Settings, data export and basket through the API (shop/api/account.py, basket.py)."""

import pytest
from django.urls import reverse

from shop.accounts.models import DataExport
from shop.communication.models import ConsentRecord, NotificationPreference
from tests.factories import product
from tests.shop.api.factories import bearer_client, customer
from tests.stores.factories import ALWAYS_OPEN, stock, store

pytestmark = pytest.mark.django_db

SETTINGS = {
    "email": True,
    "sms": True,
    "push": False,
    "phone_number": "+33 6 12 34 56 78",
    "marketing": {"email": True, "sms": False, "push": False},
}


def test_notification_settings_are_saved_as_the_site_saves_them():
    user = customer()
    client = bearer_client(user)

    got = client.put(reverse("api:notifications"), SETTINGS, format="json")

    assert got.status_code == 200
    assert got.json() == {**SETTINGS, "phone_number": "+33612345678"}
    preference = NotificationPreference.objects.get(user=user)
    assert (preference.email, preference.sms, preference.phone_number) == (
        True,
        True,
        "+33612345678",
    )
    assert list(ConsentRecord.objects.filter(user=user).values_list("channel", "source")) == [
        ("email", "api-notification-settings")
    ]


def test_sms_without_a_number_gets_the_sites_message_on_the_field():
    client = bearer_client(customer())

    got = client.put(reverse("api:notifications"), {**SETTINGS, "phone_number": ""}, format="json")

    assert got.status_code == 400
    assert got.json()["fields"] == {"phone_number": ["SMS needs a mobile number."]}


def test_a_push_endpoint_outside_the_push_services_is_refused():
    client = bearer_client(customer())
    subscription = {"endpoint": "https://evil.example/push", "keys": {"p256dh": "x", "auth": "y"}}

    got = client.post(reverse("api:push-subscriptions"), subscription, format="json")

    assert got.status_code == 400
    assert list(got.json()["fields"]) == ["endpoint"]


def test_an_export_request_is_recorded_for_the_user(django_capture_on_commit_callbacks):
    user = customer()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        got = bearer_client(user).post(reverse("api:export"))

    assert got.status_code == 202
    assert DataExport.objects.filter(user=user).count() == 1
    assert len(callbacks) == 1


def test_the_basket_takes_what_can_be_sold_and_says_how_many_otherwise():
    user = customer()
    tea = product("Tea", price="4.00", stock=3)
    client = bearer_client(user)

    added = client.post(reverse("api:basket"), {"product": tea.pk, "quantity": 2}, format="json")
    too_many = client.post(reverse("api:basket"), {"product": tea.pk, "quantity": 5}, format="json")
    seen = client.get(reverse("api:basket")).json()

    assert added.status_code == 201
    assert too_many.status_code == 400
    assert too_many.json()["fields"] == {"quantity": ["You can add at most 1 of this product."]}
    assert (seen["num_items"], seen["total_incl_tax"]) == (2, "8.00")
    assert [(line["title"], line["quantity"]) for line in seen["lines"]] == [("Tea", 2)]


def test_pickup_options_are_the_stores_holding_the_whole_basket_with_their_free_slots():
    user = customer()
    tea = product("Tea", stock=10)  # online stock: the shopper has chosen no store
    holds, short = store("Holds", hours=ALWAYS_OPEN), store("Short", hours=ALWAYS_OPEN)
    stock(holds, tea, 5)
    stock(short, tea, 1)
    client = bearer_client(user)
    client.post(reverse("api:basket"), {"product": tea.pk, "quantity": 2}, format="json")

    got = client.get(reverse("api:pickup-options")).json()

    assert [option["store_name"] for option in got] == ["Holds"]
    assert got[0]["slots"] and all(slot["remaining"] > 0 for slot in got[0]["slots"])
