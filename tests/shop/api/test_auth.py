"""Signing in through the API (shop/api/auth.py): tokens with rotation, the lockout, the
site's session with CSRF, and the throttles."""

import pytest
from django.middleware.csrf import _get_new_csrf_string
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import product
from tests.shop.api.factories import PASSWORD, bearer_client, customer

pytestmark = pytest.mark.django_db


def _tokens(client, email="ann@example.com", password=PASSWORD):
    return client.post(reverse("api:token"), {"email": email, "password": password}, format="json")


def test_an_app_signs_in_and_its_access_token_says_who_it_is():
    user = customer()
    client = APIClient()

    tokens = _tokens(client).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    assert client.get(reverse("api:me")).json() == {
        "id": user.pk,
        "email": "ann@example.com",
        "first_name": "",
        "last_name": "",
    }


def test_a_refresh_token_works_once_and_its_successor_works_next():
    customer()
    client = APIClient()
    first = _tokens(client).json()["refresh"]

    rotated = client.post(reverse("api:token-refresh"), {"refresh": first}, format="json")
    replayed = client.post(reverse("api:token-refresh"), {"refresh": first}, format="json")
    second = rotated.json()["refresh"]
    next_one = client.post(reverse("api:token-refresh"), {"refresh": second}, format="json")

    assert rotated.status_code == 200
    assert second != first
    assert (replayed.status_code, replayed.json()["code"]) == (401, "token_not_valid")
    assert next_one.status_code == 200


def test_erasing_the_account_refuses_its_apps_refresh_tokens():
    from shop.accounts.erasure import account_erase

    user = customer()
    client = APIClient()
    refresh = _tokens(client).json()["refresh"]
    other_app = _tokens(client).json()["refresh"]

    account_erase(user=user)

    for token in (refresh, other_app):
        after = client.post(reverse("api:token-refresh"), {"refresh": token}, format="json")
        assert (after.status_code, after.json()["code"]) == (401, "token_not_valid")


def test_a_revoked_refresh_token_is_refused():
    customer()
    client = APIClient()
    refresh = _tokens(client).json()["refresh"]

    revoked = client.post(reverse("api:token-revoke"), {"refresh": refresh}, format="json")
    after = client.post(reverse("api:token-refresh"), {"refresh": refresh}, format="json")

    assert revoked.status_code == 200
    assert after.status_code == 401


def test_a_wrong_password_is_a_401_in_the_error_shape_and_in_french_when_asked():
    customer()

    got = APIClient().post(
        reverse("api:token"),
        {"email": "ann@example.com", "password": "wrong"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert got.status_code == 401
    assert got.json() == {
        "code": "no_active_account",
        "message": "L'adresse e-mail ou le mot de passe n'est pas correct.",
        "fields": {},
    }


def test_the_fifth_failure_locks_the_address_out_even_with_the_right_password_then():
    customer()
    client = APIClient()

    failures = [_tokens(client, password="wrong").status_code for _attempt in range(5)]
    got = _tokens(client)

    assert failures == [401, 401, 401, 401, 429]
    assert got.status_code == 429
    assert got.json()["code"] == "locked_out"
    assert got.json()["message"].startswith(
        "Too many failed sign-in attempts Please try again in 15 minutes"
    )
    assert got["Retry-After"] == "900"


def test_the_sites_scripts_use_the_session_and_must_send_the_csrf_token():
    user = customer()
    item = product("Tea")
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)

    without = client.post(reverse("api:basket"), {"product": item.pk}, format="json")
    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    with_token = client.post(
        reverse("api:basket"), {"product": item.pk}, format="json", HTTP_X_CSRFTOKEN=token
    )

    assert (without.status_code, without.json()["code"]) == (403, "permission_denied")
    assert "CSRF" in without.json()["message"]
    assert with_token.status_code == 201


def test_a_user_over_their_budget_gets_429_then_another_user_is_still_served(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "2/min", "ip": "100/min", "auth": "100/min"},
    }
    ann, bob = bearer_client(customer()), bearer_client(customer("bob@example.com"))

    statuses = [ann.get(reverse("api:me")).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert ann.get(reverse("api:me")).json()["code"] == "throttled"
    assert bob.get(reverse("api:me")).status_code == 200


def test_one_address_over_its_budget_gets_429_signed_in_or_not(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "100/min", "ip": "2/min", "auth": "100/min"},
    }
    anonymous, signed_in = APIClient(), bearer_client(customer())

    statuses = [
        anonymous.get(reverse("api:products")).status_code,
        signed_in.get(reverse("api:me")).status_code,
        anonymous.get(reverse("api:products")).status_code,
    ]

    assert statuses == [200, 200, 429]
