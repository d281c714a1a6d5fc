"""Checkout helpers shared by the shop's tests: a store open all day, a basket taken to the
pickup step, points at checkout, a placed order paid partly with points."""

from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from oscar.core.loading import get_model

from loyalty.selectors import earning_rule
from loyalty.services.ledger import points_credit
from stores.models import Pickup
from tests.factories import product
from tests.loyalty.conftest import assert_ledger_balanced
from tests.loyalty.factories import member_factory
from tests.shop.payment.helpers import place_order
from tests.stores.factories import every_day, stock, store

Order = get_model("order", "Order")


def open_store(name="Centre", **fields):
    defaults = {"preparation_minutes": 0, "slot_minutes": 30, "slot_capacity": 2}
    return store(name, hours=every_day("00:00", "23:59"), **{**defaults, **fields})


def start_checkout(client, item, quantity=1):
    client.post(reverse("basket:add", kwargs={"pk": item.pk}), {"quantity": quantity})
    response = client.post(
        reverse("checkout:index"), {"username": "guest@example.com", "options": "anonymous"}
    )
    assert response.status_code == 302


def choose_pickup(client, shop, slot_index=0):
    """Step B of click & collect: the store's page of times, then one of them."""
    url = reverse("checkout:pickup-store", kwargs={"slug": shop.slug})
    page = client.get(url)
    assert page.status_code == 200
    slot = list(page.context["slots"])[slot_index]
    response = client.post(url, {"slot": slot.starts_at.isoformat()}, follow=True)
    return slot, response


def shopper(balance=1500):
    member = member_factory(email="member@example.com")
    if balance:
        points_credit(member=member, amount=balance, reason="Earned", idempotency_key="seed")
    return member


def ready_to_pay(client, member, price="20.00", **store_fields):
    """A signed-in member with a basket of one item, click & collect chosen."""
    item = product("Lamp", price=price, stock=10)
    shop = open_store(**store_fields)
    stock(shop, item, 5, price=price)
    client.force_login(member.user)
    client.post(reverse("basket:add", kwargs={"pk": item.pk}), {"quantity": 1})
    slot, _ = choose_pickup(client, shop)
    return shop, slot


def use_points(client, points):
    return client.post(reverse("checkout:preview"), {"action": "use_points", "points": points})


def redemption_rules(*, point_value="0.01", min_points=100, max_share="0.5"):
    """The marketers' redemption rules (the dashboard's Earning rules page)."""
    rule = earning_rule()
    rule.point_value = Decimal(point_value)
    rule.redeem_min_points = min_points
    rule.redeem_max_share = Decimal(max_share)
    rule.save()
    return rule


@pytest.fixture(autouse=True)
def ledger_balanced(request):
    request.getfixturevalue("_django_db_helper")
    yield
    assert_ledger_balanced()


def pickup_with_points(client, *, method=None, points=200):
    """A member's click & collect order of 12.26 with `points` (0.01 each) chosen, placed."""
    redemption_rules(point_value="0.01", min_points=100, max_share="0.5")
    member = shopper(balance=1500)
    item = product("Lamp", price="12.26", stock=10)
    shop = open_store()
    stock(shop, item, 5, price="12.26")
    client.force_login(member.user)
    client.post(reverse("basket:add", kwargs={"pk": item.pk}), {"quantity": 1})
    choose_pickup(client, shop)
    if method:
        client.post(reverse("checkout:payment-method"), {"method": method})
    client.post(reverse("checkout:preview"), {"action": "use_points", "points": points})
    response = place_order(client)
    order = Order.objects.get()
    return order, Pickup.objects.get(order=order), shop, response


def coordinates_stored_anywhere(lat: float, lng: float) -> list[str]:
    """Where the database holds these coordinates (to 4 decimals or more): any column of any
    table, each row read as text by PostgreSQL, and every session decoded."""
    from django.contrib.sessions.models import Session

    needles = [f"{lat:.4f}", f"{lng:.4f}"]
    found = [
        f"session {session.pk}"
        for session in Session.objects.all()
        if any(needle in str(session.get_decoded()) for needle in needles)
    ]
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            quoted = connection.ops.quote_name(table)
            cursor.execute(
                f"SELECT count(*) FROM {quoted} AS t WHERE t::text LIKE ANY(%s)",
                [[f"%{needle}%" for needle in needles]],
            )
            if cursor.fetchone()[0]:
                found.append(table)
    return found
