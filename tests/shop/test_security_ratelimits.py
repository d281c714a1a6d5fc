"""R37: rate limits on voucher codes, points at checkout, pickup codes, and on the pages that
email an address anyone may type: password resets, sign-ups and guests' stock alerts.

Each limit lets exactly N attempts through in its window and refuses the next with a
429 page, doing nothing.
"""

import time
from types import SimpleNamespace

import django_ratelimit.core
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation
from oscar.test.factories import create_voucher

from shop.communication.models import OutboxMessage
from stores.models import PickupStatus
from tests.factories import product
from tests.shop.checkout_fixtures import ready_to_pay, shopper, use_points
from tests.stores.factories import pickup_order, staff_of, store

pytestmark = pytest.mark.django_db

HERE, ELSEWHERE = "203.0.113.7", "198.51.100.20"


@pytest.fixture(autouse=True)
def _default_language():
    # A request to a /fr/ page leaves French active in this thread, and reverse() would
    # then give /fr/ URLs: start in the default language, and leave it as found.
    with translation.override(settings.LANGUAGE_CODE):
        yield


class Clock:
    """django-ratelimit's clock, held still: its windows end at fixed times, and a test
    that ran across one's end would see its count start again."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(django_ratelimit.core, "time", SimpleNamespace(time=clock.time))
    return clock


def refused(response, what: str) -> bool:
    html = response.content.decode()
    return response.status_code == 429 and "Too many attempts" in html and what in html


# --- Voucher codes: 10 a minute per customer (or address) ---------------------------------


def add_voucher(client, code, ip=HERE):
    return client.post(reverse("basket:vouchers-add"), {"code": code}, REMOTE_ADDR=ip)


def basket_vouchers(client):
    return list(client.get(reverse("basket:summary")).context["basket"].vouchers.all())


@pytest.fixture
def basket_client(client):
    item = product("Mug", price="8.00", stock=10)
    client.post(reverse("basket:add", kwargs={"pk": item.pk}), {"quantity": 1}, REMOTE_ADDR=HERE)
    return client


def test_the_eleventh_voucher_code_in_a_minute_is_refused(basket_client, clock):
    voucher = create_voucher(code="SPRING10")

    # Ten wrong codes are checked (and refused by Oscar, one by one)
    for n in range(10):
        response = add_voucher(basket_client, f"GUESS{n}")
        assert response.status_code == 302
        assert response["Location"] == reverse("basket:summary")

    # The eleventh is not even checked, though it is right
    response = add_voucher(basket_client, voucher.code)
    assert refused(response, "You have tried too many voucher codes.")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert basket_vouchers(basket_client) == []

    # A minute later, it is
    clock.now += 61
    assert add_voucher(basket_client, voucher.code).status_code == 302
    assert basket_vouchers(basket_client) == [voucher]


def test_voucher_codes_are_counted_per_address_for_guests(basket_client):
    voucher = create_voucher(code="SPRING10")
    for n in range(10):
        add_voucher(basket_client, f"GUESS{n}", ip=HERE)
    assert add_voucher(basket_client, "GUESS10", ip=HERE).status_code == 429

    assert add_voucher(basket_client, voucher.code, ip=ELSEWHERE).status_code == 302
    assert basket_vouchers(basket_client) == [voucher]


def test_voucher_codes_are_counted_per_customer_when_signed_in(basket_client, client):
    voucher = create_voucher(code="SPRING10")
    ann = get_user_model().objects.create_user("ann", "ann@example.com", "pw")
    client.force_login(ann)
    client.post(reverse("basket:add", kwargs={"pk": product("Cup").pk}), {"quantity": 1})
    # Changing address does not help a signed-in customer
    statuses = [add_voucher(client, f"GUESS{n}", ip=f"192.0.2.{n}").status_code for n in range(11)]
    assert statuses == [302] * 10 + [429]
    assert add_voucher(client, voucher.code, ip=ELSEWHERE).status_code == 429


# --- Points at checkout: 10 changes a minute ---------------------------------------------


def test_the_eleventh_points_change_in_a_minute_is_refused(client):
    member = shopper(balance=1500)
    ready_to_pay(client, member)

    statuses = [use_points(client, 100 + n).status_code for n in range(10)]
    assert statuses == [302] * 10
    response = use_points(client, 500)

    assert refused(response, "You have changed the points to use too many times.")
    assert client.get(reverse("checkout:preview")).context["points_used"] == 109


def test_placing_the_order_is_not_counted_as_a_points_change(client):
    member = shopper(balance=1500)
    ready_to_pay(client, member)
    for _ in range(10):
        use_points(client, 100)

    response = client.post(reverse("checkout:preview"), {"action": "place_order"})

    assert response.status_code == 302
    assert member.user.orders.count() == 1


# --- Pickup codes at the counter: 10 a minute per member of staff -------------------------


def test_the_eleventh_pickup_code_in_a_minute_is_refused(client):
    shop = store("Centre")
    pickup = pickup_order(shop, status=PickupStatus.READY)
    client.force_login(staff_of(shop, "staff@example.com"))
    url = reverse("stores-dashboard:status", kwargs={"pk": pickup.pk})

    for n in range(10):
        response = client.post(url, {"action": "collected", "code": f"{n:06d}"})
        assert response.status_code == 302
    response = client.post(url, {"action": "collected", "code": pickup.code})

    assert refused(response, "Too many pickup codes have been checked from your account.")
    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.READY


def test_other_pickup_actions_are_not_counted(client):
    shop = store("Centre")
    pickups = [pickup_order(shop) for _ in range(11)]
    client.force_login(staff_of(shop, "staff@example.com"))
    for pickup in pickups:
        url = reverse("stores-dashboard:status", kwargs={"pk": pickup.pk})
        assert client.post(url, {"action": "preparing"}).status_code == 302
        assert client.post(url, {"action": "ready"}).status_code == 302
    pickup = pickups[0]
    url = reverse("stores-dashboard:status", kwargs={"pk": pickup.pk})

    assert client.post(url, {"action": "collected", "code": pickup.code}).status_code == 302
    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.COLLECTED


# --- Password reset: 5 an hour per address asking, and per email address -----------------


def reset(client, email, ip=HERE):
    return client.post(reverse("password-reset"), {"email": email}, REMOTE_ADDR=ip)


def reset_emails() -> int:
    """Reset emails queued for sending (the outbox, delivered by Celery)."""
    return OutboxMessage.objects.filter(channel="email").count()


def test_the_sixth_reset_for_one_email_in_an_hour_is_refused_from_anywhere(client, clock):
    get_user_model().objects.create_user("ann", "ann@example.com", "pw")

    for n in range(5):
        response = reset(client, "ann@example.com", ip=f"192.0.2.{n}")
        assert response.status_code == 302
        assert response["Location"] == reverse("password-reset-done")
    response = reset(client, "ANN@example.com", ip="192.0.2.99")

    assert refused(response, "Too many password reset emails have been requested.")
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert reset_emails() == 5

    clock.now += 3601
    assert reset(client, "ann@example.com").status_code == 302
    assert reset_emails() == 6


def test_the_sixth_reset_from_one_address_in_an_hour_is_refused(client):
    for n in range(5):
        get_user_model().objects.create_user(f"u{n}", f"u{n}@example.com", "pw")
        assert reset(client, f"u{n}@example.com", ip=HERE).status_code == 302
    get_user_model().objects.create_user("u5", "u5@example.com", "pw")

    assert reset(client, "u5@example.com", ip=HERE).status_code == 429
    assert reset_emails() == 5
    assert reset(client, "u5@example.com", ip=ELSEWHERE).status_code == 302


def test_the_refusal_page_speaks_french(client):
    for _ in range(5):
        client.post("/fr/password-reset/", {"email": "ann@example.com"})
    response = client.post("/fr/password-reset/", {"email": "ann@example.com"})

    assert response.status_code == 429
    assert "Trop de tentatives" in response.content.decode()


# --- Registration: 10 an hour per address asking, and per email address ------------------

NEW_PASSWORD = "a long enough new password 42"


def register(email, ip=HERE):
    """Oscar's sign-up page, from a fresh browser (a new account is signed in)."""
    from django.test import Client

    return Client().post(
        reverse("customer:register"),
        {"email": email, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        REMOTE_ADDR=ip,
    )


def sign_up_on_the_login_page(email, ip=HERE):
    from django.test import Client

    return Client().post(
        reverse("customer:login"),
        {
            "registration-email": email,
            "registration-password1": NEW_PASSWORD,
            "registration-password2": NEW_PASSWORD,
            "registration_submit": "1",
        },
        REMOTE_ADDR=ip,
    )


def emails_to(address: str) -> int:
    return OutboxMessage.objects.filter(channel="email", recipient=address).count()


def test_the_eleventh_sign_up_from_one_address_in_an_hour_is_refused(clock):
    for n in range(10):
        assert register(f"new{n}@example.com").status_code == 302
    assert emails_to("new0@example.com") == 1  # the welcome email, through the outbox

    response = register("new10@example.com")

    assert refused(response, "Too many accounts have been requested.")
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert not get_user_model().objects.filter(email="new10@example.com").exists()
    assert emails_to("new10@example.com") == 0
    assert register("new10@example.com", ip=ELSEWHERE).status_code == 302

    clock.now += 3601
    assert register("new11@example.com").status_code == 302


def test_sign_ups_on_the_login_page_count_too_but_sign_ins_do_not():
    for n in range(10):
        assert sign_up_on_the_login_page(f"new{n}@example.com").status_code == 302

    assert refused(
        sign_up_on_the_login_page("new10@example.com"), "Too many accounts have been requested."
    )
    assert refused(register("new11@example.com"), "Too many accounts have been requested.")
    assert get_user_model().objects.filter(email__startswith="new").count() == 10

    # Signing in from the same address is not a sign-up (the login lockout guards it)
    from django.test import Client

    response = Client().post(
        reverse("customer:login"),
        {"login-username": "new0@example.com", "login-password": NEW_PASSWORD, "login_submit": "1"},
        REMOTE_ADDR=HERE,
    )
    assert response.status_code == 302


def test_the_eleventh_sign_up_for_one_email_in_an_hour_is_refused_from_anywhere():
    assert register("ann@example.com", ip="192.0.2.0").status_code == 302
    for n in range(1, 10):
        # Already registered: the form says so, and no email goes out
        assert register("ann@example.com", ip=f"192.0.2.{n}").status_code == 200

    assert refused(
        register("ANN@example.com", ip="192.0.2.99"), "Too many accounts have been requested."
    )
    assert emails_to("ann@example.com") == 1


# --- Stock alerts: a guest's 5 an hour per address asking, and per email address ---------


def stock_alert(client, item, email="", ip=HERE):
    return client.post(
        reverse("customer:alert-create", kwargs={"pk": item.pk}), {"email": email}, REMOTE_ADDR=ip
    )


def test_the_sixth_guest_stock_alert_from_one_address_in_an_hour_is_refused(client, clock):
    from oscar.apps.customer.models import ProductAlert

    item = product("Mug", stock=0)
    for n in range(5):
        response = stock_alert(client, item, f"guest{n}@example.com")
        assert response.status_code == 302
        assert emails_to(f"guest{n}@example.com") == 1  # the confirmation email

    response = stock_alert(client, item, "victim@example.com")

    assert refused(response, "Too many stock alerts have been requested.")
    assert f'href="{reverse("customer:alert-create", kwargs={"pk": item.pk})}"' in (
        response.content.decode()
    )
    assert emails_to("victim@example.com") == 0
    assert ProductAlert.objects.count() == 5
    assert stock_alert(client, item, "victim@example.com", ip=ELSEWHERE).status_code == 302

    clock.now += 3601
    assert stock_alert(client, item, "guest9@example.com").status_code == 302


def test_the_sixth_stock_alert_for_one_email_in_an_hour_is_refused_from_anywhere(client):
    items = [product(f"Mug {n}", stock=0) for n in range(6)]
    for n, item in enumerate(items[:5]):
        stock_alert(client, item, "victim@example.com", ip=f"192.0.2.{n}")

    response = stock_alert(client, items[5], "Victim@example.com", ip="192.0.2.99")

    assert refused(response, "Too many stock alerts have been requested.")
    assert emails_to("victim@example.com") == 1


def test_a_signed_in_customer_s_stock_alerts_send_no_email_and_are_not_limited(client):
    from oscar.apps.customer.models import ProductAlert

    client.force_login(get_user_model().objects.create_user("ann", "ann@example.com", "pw"))
    items = [product(f"Mug {n}", stock=0) for n in range(7)]

    statuses = [stock_alert(client, item).status_code for item in items]

    assert statuses == [302] * 7
    assert ProductAlert.objects.filter(user__email="ann@example.com").count() == 7
    assert OutboxMessage.objects.count() == 0
