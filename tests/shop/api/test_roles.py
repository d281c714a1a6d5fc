"""Who may use each API endpoint, for the eight roles of tests/roles.py (status codes).

Products, stores, the schema and its pages: anyone. Everything else: any signed-in user,
for their own data only; anonymous gets 401. Staff roles get no more than a shopper here:
the API is the customer's (only the shopper has joined the loyalty programme, the others
get 404 not_a_member; no reward 1 exists, so redeeming it is 404 for all), and an order
belongs to its customer alone, superuser or not (404)."""

import datetime as dt

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import product
from tests.roles import ROLES, cast_create
from tests.shop.api.factories import bearer_client
from tests.stores.factories import ALWAYS_OPEN, pickup_order, store

pytestmark = pytest.mark.django_db

ANYONE = "anyone"
SIGNED_IN = "signed in"
# The shopper joined the programme with their first order; nobody else has joined.
MEMBER_ONLY = {"shopper": 200, SIGNED_IN: 404}


def _endpoints(item, number, slug):
    """name: (method, url, body, {audience: status})"""
    order = {"number": number}
    return {
        "products": ("get", reverse("api:products"), None, {ANYONE: 200}),
        "product": ("get", reverse("api:product", kwargs={"pk": item.pk}), None, {ANYONE: 200}),
        "stores near": ("get", reverse("api:stores-near") + "?q=Strasbourg", None, {ANYONE: 200}),
        "schema": ("get", reverse("api:schema"), None, {ANYONE: 200}),
        "docs": ("get", reverse("api:docs"), None, {ANYONE: 200}),
        "token": ("post", reverse("api:token"), {}, {ANYONE: 400}),
        "token refresh": ("post", reverse("api:token-refresh"), {}, {ANYONE: 400}),
        "token revoke": ("post", reverse("api:token-revoke"), {}, {ANYONE: 400}),
        "me": ("get", reverse("api:me"), None, {SIGNED_IN: 200}),
        "loyalty": ("get", reverse("api:loyalty"), None, MEMBER_ONLY),
        "history": ("get", reverse("api:loyalty-history"), None, MEMBER_ONLY),
        "card": ("get", reverse("api:loyalty-card"), None, MEMBER_ONLY),
        "rewards": ("get", reverse("api:loyalty-rewards"), None, MEMBER_ONLY),
        "redeem": (
            "post",
            reverse("api:loyalty-redeem", kwargs={"pk": 1}),
            {"key": "k"},
            {SIGNED_IN: 404},
        ),
        "notifications": ("get", reverse("api:notifications"), None, {SIGNED_IN: 200}),
        "notifications put": ("put", reverse("api:notifications"), {}, {SIGNED_IN: 400}),
        "push subscribe": ("post", reverse("api:push-subscriptions"), {}, {SIGNED_IN: 400}),
        "push unsubscribe": ("delete", reverse("api:push-subscriptions"), {}, {SIGNED_IN: 400}),
        "export": ("post", reverse("api:export"), None, {SIGNED_IN: 202}),
        "orders": ("get", reverse("api:orders"), None, {SIGNED_IN: 200}),
        "order": (
            "get",
            reverse("api:order", kwargs=order),
            None,
            {"shopper": 200, SIGNED_IN: 404},
        ),
        "i'm here": (
            "post",
            reverse("api:order-here", kwargs=order),
            None,
            {"shopper": 409, SIGNED_IN: 404},
        ),
        "basket": ("get", reverse("api:basket"), None, {SIGNED_IN: 200}),
        "basket add": ("post", reverse("api:basket"), {"product": item.pk}, {SIGNED_IN: 201}),
        "pickup options": ("get", reverse("api:pickup-options"), None, {SIGNED_IN: 200}),
        "checkout": ("post", reverse("api:checkout"), {}, {SIGNED_IN: 400}),
        "store choose": (
            "post",
            reverse("api:store-choose", kwargs={"slug": slug}),
            None,
            {SIGNED_IN: 200},
        ),
    }


def _wanted(role, audiences):
    if ANYONE in audiences:
        return audiences[ANYONE]
    if role == "anonymous":
        return 401
    return audiences.get(role, audiences[SIGNED_IN])


def test_each_role_gets_exactly_its_answer_from_each_endpoint(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "1000/min", "ip": "1000/min", "auth": "1000/min"},
    }
    cast = cast_create()
    item = product("Tea", stock=50)
    # The shopper's order, its slot hours away: "I'm here" is refused as too early (409).
    pickup = pickup_order(
        store(hours=ALWAYS_OPEN), user=cast.users["shopper"], starts_in=dt.timedelta(hours=6)
    )
    endpoints = _endpoints(item, pickup.order.number, cast.store_a.slug)
    got, wanted = {}, {}
    for role in ROLES:
        user = cast.users[role]
        client = bearer_client(user) if user is not None else APIClient()
        for name, (method, url, body, audiences) in endpoints.items():
            response = getattr(client, method)(url, body, format="json")
            got[role, name] = response.status_code
            wanted[role, name] = _wanted(role, audiences)
    assert got == wanted
