"""Content-Security-Policy on every response, and no inline script without the nonce (R34, R35)."""

import re

import pytest
from csp.decorators import csp_update
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from shop.csp import CSPMiddleware
from tests.factories import product
from tests.loyalty.factories import member_factory, order_for
from tests.stores.factories import stock, store

pytestmark = pytest.mark.django_db

STRIPE = re.compile(r"stripe\.com", re.I)
# A <script> element's opening tag; group 1 is its attributes.
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I)
# JSON data blocks (json_script, JSON-LD) are never executed, so the CSP does not apply to them.
DATA_BLOCK = re.compile(r"""\btype=["']?application/(ld\+)?json["']?""", re.I)
# An inline event handler attribute (onclick=, onload=, ...) inside any tag.
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def nonce_of(response) -> str:
    (nonce,) = [
        source[len("'nonce-") : -1]
        for source in directives(response)["script-src"]
        if source.startswith("'nonce-")
    ]
    return nonce


def assert_default_policy(response) -> None:
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["frame-src"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'", f"'nonce-{nonce_of(response)}'"]
    assert policy["img-src"] == ["'self'", "data:", "https://tile.openstreetmap.org"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert not STRIPE.search(response["Content-Security-Policy"])


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_superuser("hq@example.com", "hq@example.com", "pw")
    client.force_login(user)
    return user


def test_a_storefront_page_has_the_policy(client):
    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert_default_policy(response)


def test_a_dashboard_page_has_the_policy(client, staff):
    response = client.get(reverse("dashboard:index"))

    assert response.status_code == 200
    assert_default_policy(response)


def test_a_404_has_the_policy(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert_default_policy(response)


def test_the_json_api_has_the_policy(client):
    response = client.get(reverse("stores-api:list"), {"lat": "48.58", "lng": "7.75"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert_default_policy(response)


def test_each_response_has_its_own_nonce(client):
    first, second = client.get(reverse("home")), client.get(reverse("home"))

    assert len(nonce_of(first)) >= 22  # 16 random bytes, base64
    assert nonce_of(first) != nonce_of(second)


def test_the_payment_page_extension_adds_stripe_to_that_response_only():
    # Given a view decorated as settings.PAYMENT_PAGE_CSP documents for the payment page
    @csp_update(settings.PAYMENT_PAGE_CSP)
    def payment_page(request):
        return HttpResponse("pay")

    # When it and an ordinary view answer through the middleware
    paying = CSPMiddleware(payment_page)(RequestFactory().get("/checkout/payment-details/"))
    ordinary = CSPMiddleware(lambda request: HttpResponse("home"))(RequestFactory().get("/"))

    # Then only the payment page allows Stripe, scripts from self and js.stripe.com alone
    policy = directives(paying)
    assert policy["script-src"] == [
        "'self'",
        f"'nonce-{nonce_of(paying)}'",
        "https://js.stripe.com",
        "https://*.js.stripe.com",
    ]
    assert policy["frame-src"] == [
        "'none'",
        "https://js.stripe.com",
        "https://*.js.stripe.com",
        "https://hooks.stripe.com",
    ]
    assert policy["connect-src"] == ["'self'", "https://api.stripe.com"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert_default_policy(ordinary)


DASHBOARD_PAGES = {"dashboard", "dashboard order", "dashboard product", "pickup queue"}


@pytest.fixture
def pages(db):
    """The main pages' URLs, with what they need to render fully (a store, stock, an order)."""
    centre = store("Centre", lat=48.5819, lng=7.7507)
    munster = product("Munster", price="4.50")
    stock(centre, munster, 5, price="4.50")
    order = order_for(
        get_user_model().objects.create_user("o@example.com", "o@example.com"), (munster, 1)
    )
    return {
        "home": reverse("home"),
        "product": munster.get_absolute_url(),
        "basket": reverse("basket:summary"),
        "checkout": reverse("checkout:index"),
        "store locator": reverse("stores:locator") + "?place=67000",
        "store page": centre.get_absolute_url(),
        "dashboard": reverse("dashboard:index"),
        "dashboard order": reverse("dashboard:order-detail", kwargs={"number": order.number}),
        "dashboard product": reverse("dashboard:catalogue-product", kwargs={"pk": munster.pk}),
        "pickup queue": reverse("stores-dashboard:queue"),
        "munster": munster,
    }


def assert_no_inline_script_without_the_nonce(response) -> None:
    html = response.content.decode()
    nonce = nonce_of(response)
    for attributes in SCRIPT_TAG.findall(html):
        if re.search(r"\ssrc=", attributes) or DATA_BLOCK.search(attributes):
            continue
        assert f'nonce="{nonce}"' in attributes, f"<script{attributes}> lacks the nonce"
    assert EVENT_HANDLER.findall(html) == []
    assert JAVASCRIPT_URL.findall(html) == []


@pytest.mark.parametrize(
    "name",
    [
        "home",
        "product",
        "basket",
        "checkout",
        "store locator",
        "store page",
        "dashboard",
        "dashboard order",
        "dashboard product",
        "pickup queue",
    ],
)
def test_main_pages_have_no_inline_script_without_the_nonce(client, pages, name):
    # A guest's basket (and so checkout) holds a line; the dashboard is seen by a superuser.
    client.post(reverse("basket:add", kwargs={"pk": pages["munster"].pk}), {"quantity": 1})
    if name in DASHBOARD_PAGES:
        client.force_login(
            get_user_model().objects.create_superuser("hq@example.com", "hq@example.com", "pw")
        )

    response = client.get(pages[name])

    assert response.status_code == 200, response.status_code
    assert_no_inline_script_without_the_nonce(response)


def test_the_loyalty_member_page_has_no_inline_script(client):
    member = member_factory()
    order_for(member.user, (product("Bretzel", price="5.00"), 1))
    client.force_login(member.user)

    response = client.get(reverse("loyalty:member"))

    assert response.status_code == 200
    assert b"loyalty-chart" in response.content
    assert_no_inline_script_without_the_nonce(response)


def test_the_dashboard_runs_its_initialisers_with_the_nonce(client, staff):
    response = client.get(reverse("dashboard:index"))

    assert f'<script nonce="{nonce_of(response)}">' in response.content.decode()


def test_the_storefront_has_no_inline_script_at_all(client, pages):
    for name in ("home", "product", "store locator"):
        html = client.get(pages[name]).content.decode()
        inline = [
            attributes
            for attributes in SCRIPT_TAG.findall(html)
            if not re.search(r"\ssrc=", attributes) and not DATA_BLOCK.search(attributes)
        ]
        assert inline == [], name
