"""R36: five failed logins lock a username out from one IP address for fifteen minutes."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from shop.security.client_ip import client_ip
from shop.security.tasks import access_attempts_prune
from tests.factories import product

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
HERE, ELSEWHERE = "203.0.113.7", "198.51.100.20"


@pytest.fixture(autouse=True)
def _default_language():
    # A request to a /fr/ page leaves French active in this thread, and reverse() would
    # then give /fr/ URLs: start in the default language, and leave it as found.
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def ann():
    return get_user_model().objects.create_user("ann", "ann@example.com", PASSWORD)


def customer_login(client, email, password, ip=HERE, path=None):
    """Oscar's login form, as the browser posts it (the form's prefix is "login")."""
    return client.post(
        path or reverse("customer:login"),
        {"login-username": email, "login-password": password, "login_submit": "1"},
        REMOTE_ADDR=ip,
    )


def signed_in(client) -> bool:
    return SESSION_KEY in client.session


def lock_out(client, email, ip=HERE):
    responses = [customer_login(client, email, "wrong", ip=ip) for _ in range(5)]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    return responses[-1]


def test_five_wrong_passwords_then_the_right_one_is_refused(client, ann):
    # Given four failed logins: the form says the password is wrong, nothing more
    for _ in range(4):
        response = customer_login(client, "ann@example.com", "wrong")
        assert response.status_code == 200
        assert response.context["login_form"].errors

    # When the fifth fails, and then the right password is tried
    fifth = customer_login(client, "ann@example.com", "wrong")
    right = customer_login(client, "ann@example.com", PASSWORD)

    # Then both get the lockout page, and nobody is signed in
    for response in (fifth, right):
        assert response.status_code == 429
        assert "Too many failed sign-in attempts" in response.content.decode()
        assert "Please try again in 15 minutes, at " in response.content.decode()
        assert 899 <= int(response["Retry-After"]) <= 900
    assert not signed_in(client)
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address, attempt.failures_since_start) == (
        "ann@example.com",
        HERE,
        5,
    )


def test_another_ip_or_another_username_is_not_locked(client, ann):
    get_user_model().objects.create_user("bob", "bob@example.com", PASSWORD)
    lock_out(client, "ann@example.com", ip=HERE)

    # The same address typed in other capitals is the same username
    assert customer_login(client, "Ann@Example.com ", PASSWORD).status_code == 429

    assert customer_login(client, "bob@example.com", PASSWORD, ip=HERE).status_code == 302
    assert signed_in(client)
    client.logout()
    assert customer_login(client, "ann@example.com", PASSWORD, ip=ELSEWHERE).status_code == 302
    assert signed_in(client)


def test_login_works_again_fifteen_minutes_after_the_fifth_failure(client, ann):
    lock_out(client, "ann@example.com")
    # Tries during the lockout do not extend it (the page's time stays true)
    customer_login(client, "ann@example.com", "wrong")

    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=14))
    assert customer_login(client, "ann@example.com", PASSWORD).status_code == 429

    AccessAttempt.objects.update(
        attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=15, seconds=1)
    )
    assert customer_login(client, "ann@example.com", PASSWORD).status_code == 302
    assert signed_in(client)


def test_a_successful_login_starts_the_count_again(client, ann):
    for _ in range(4):
        customer_login(client, "ann@example.com", "wrong")
    assert customer_login(client, "ann@example.com", PASSWORD).status_code == 302
    client.logout()

    responses = [customer_login(client, "ann@example.com", "wrong") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 200]


def test_admin_login_is_locked_out_too(client):
    get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    url = reverse("admin:login")

    def admin_login(password):
        return client.post(
            url, {"username": "root", "password": password, "next": "/admin/"}, REMOTE_ADDR=HERE
        )

    assert [admin_login("wrong").status_code for _ in range(5)] == [200, 200, 200, 200, 429]
    assert admin_login(PASSWORD).status_code == 429
    assert not signed_in(client)
    assert AccessAttempt.objects.get().username == "root"


def test_the_lockout_page_speaks_french(client, ann):
    for _ in range(4):
        customer_login(client, "ann@example.com", "wrong", path="/fr/accounts/login/")
    response = customer_login(client, "ann@example.com", "wrong", path="/fr/accounts/login/")

    assert response.status_code == 429
    html = response.content.decode()
    assert "Trop de tentatives de connexion" in html
    assert "Veuillez réessayer dans 15 minutes" in html


def test_registration_still_signs_the_new_customer_in(client):
    # Oscar's registration calls authenticate() without the request
    response = client.post(
        reverse("customer:register"),
        {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert signed_in(client)


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        (0, "1.1.1.1", "10.0.0.1"),  # no proxy trusted: the header is the client's word
        (1, "1.1.1.1, 203.0.113.7", "203.0.113.7"),  # the proxy appended the client
        (2, "1.1.1.1, 203.0.113.7, 10.0.0.9", "203.0.113.7"),  # CDN, then load balancer
        (1, "", "10.0.0.1"),  # did not come through the proxy
        (2, "203.0.113.7", "10.0.0.1"),
        (1, "1.1.1.1, not-an-ip", "10.0.0.1"),
    ],
)
def test_client_ip_believes_only_trusted_proxies(settings, proxies, forwarded_for, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for)
    assert client_ip(request) == expected


def test_behind_a_proxy_a_spoofed_forwarded_for_does_not_escape_the_lockout(settings, client, ann):
    settings.TRUSTED_PROXY_COUNT = 1
    statuses = [
        client.post(
            reverse("customer:login"),
            {"login-username": "ann@example.com", "login-password": "wrong", "login_submit": "1"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {HERE}",  # a new made-up address each time
        ).status_code
        for n in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]
    assert AccessAttempt.objects.get().ip_address == HERE


def test_the_checkout_sign_in_counts_towards_the_lockout_too(client, ann):
    # "I am a returning customer, and my password is" on the first checkout step
    item = product("Mug")
    client.post(reverse("basket:add", kwargs={"pk": item.pk}), {"quantity": 1}, REMOTE_ADDR=HERE)

    def checkout_sign_in(password):
        return client.post(
            reverse("checkout:index"),
            {"username": "ann@example.com", "options": "existing", "password": password},
            REMOTE_ADDR=HERE,
        )

    assert [checkout_sign_in("wrong").status_code for _ in range(5)] == [200] * 4 + [429]
    assert checkout_sign_in(PASSWORD).status_code == 429
    assert customer_login(client, "ann@example.com", PASSWORD).status_code == 429
    assert not signed_in(client)


def test_failed_login_records_are_deleted_a_day_after_the_cool_off(db):
    """They hold a username, an IP and a user agent: kept only while they can matter."""
    now = timezone.now()
    for label, age in (("old", dt.timedelta(days=1, minutes=16)), ("recent", dt.timedelta(days=1))):
        attempt = AccessAttempt.objects.create(
            username=f"{label}@example.com",
            ip_address="203.0.113.7",
            user_agent="phone",
            failures_since_start=5,
        )
        AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=now - age)

    assert access_attempts_prune(now=now) == 1
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["recent@example.com"]
    assert access_attempts_prune(now=now) == 0
