"""A guest pays a home-delivery order by card on a 375 px phone, in headless Chromium.

The pay page's own script (shop/static/shop/js/stripe-pay.js), its Content-Security-Policy
and the return from Stripe run for real. Stripe sits across the boundary: the server talks
to the fake Stripe HTTP server (tests/fake_stripe.py), and the browser's Stripe.js is
tests/e2e/assets/fake-stripe.js served at https://js.stripe.com/v3/, whose confirmation
POST to api.stripe.com the test answers from the fake server (what the card does).
"""

import re
from pathlib import Path

from oscar.core.loading import get_model

from tests.browser import PHONE, browser_marks
from tests.factories import product, shipping_country

Order = get_model("order", "Order")

FAKE_STRIPE_JS = (Path(__file__).parent / "assets" / "fake-stripe.js").read_text()

pytestmark = browser_marks()


def phone_with_stripe(browser, live_server, fake_stripe, cards: list[str]):
    """A phone that reaches only the live server and (faked) Stripe; each confirmation
    pays with the next card of `cards`."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    context.set_default_timeout(10_000)
    context.route(
        re.compile(r"^(?!" + re.escape(live_server.url) + ")https?://"),
        lambda route: route.abort(),
    )
    context.route(
        "https://js.stripe.com/v3/",
        lambda route: route.fulfill(body=FAKE_STRIPE_JS, content_type="text/javascript"),
    )
    context.route(
        "https://js.stripe.com/fake-card-frame.html",
        lambda route: route.fulfill(body="<p>4242 4242 4242 4242</p>", content_type="text/html"),
    )

    def confirm(route):
        intent_id = route.request.url.split("/")[-2]
        intent = fake_stripe.customer_pays(intent_id, cards.pop(0))
        if intent["status"] == "requires_payment_method":
            error = {"type": "card_error", "message": intent["last_payment_error"]["message"]}
            route.fulfill(status=402, json={"error": error})
        else:
            route.fulfill(json=intent)

    context.route(re.compile(r"^https://api\.stripe\.com/v1/payment_intents/.+/confirm$"), confirm)
    return context


def test_guest_pays_by_card_after_a_decline_on_a_phone(browser, live_server, fake_stripe):
    shipping_country("FR")
    beans = product("Ethiopian beans", price="12.50", stock=5)
    context = phone_with_stripe(
        browser, live_server, fake_stripe, cards=["pm_card_chargeDeclined", "pm_card_visa"]
    )
    refused = []
    page = context.new_page()
    page.on(
        "console",
        lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None,
    )

    # A guest puts two bags in the basket and checks out to a home address
    for _bag in range(2):
        page.goto(live_server.url + beans.get_absolute_url())
        page.click("#add_to_basket_form button[type=submit]")
        page.wait_for_load_state()
    page.goto(f"{live_server.url}/checkout/")
    page.fill("#id_username", "lea@example.com")
    page.check("input[name=options][value=anonymous]")
    page.locator("form").filter(has=page.locator("#id_username")).locator(
        "button[type=submit]"
    ).click()
    page.wait_for_load_state()
    if "/checkout/shipping-address/" not in page.url:
        page.goto(f"{live_server.url}/checkout/shipping-address/")
    for field, value in {
        "first_name": "Léa",
        "last_name": "Muller",
        "line1": "12 rue des Juifs",
        "line4": "Strasbourg",
        "postcode": "67000",
    }.items():
        page.fill(f"#id_{field}", value)
    # (France is the only shipping country, so the country field is hidden)
    page.locator("form#new_shipping_address button[type=submit]").click()
    page.wait_for_load_state()

    # The preview says the card is paid on the next page; the order is placed first
    assert "/checkout/preview/" in page.url
    assert page.get_by_text("After you place the order, you pay on the next page").is_visible()
    page.get_by_role("button", name=re.compile("place order", re.I)).first.click()
    page.wait_for_load_state()
    order = Order.objects.get()
    assert order.status == "Pending payment"
    assert page.url == f"{live_server.url}/checkout/pay/{order.number}/"
    # Its policy lets scripts come from the shop and Stripe only (R35)
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in page.reload().headers["content-security-policy"].split(";")
    )
    assert [
        source for source in policy["script-src"].split() if not source.startswith("'nonce-")
    ] == ["'self'", "https://js.stripe.com", "https://*.js.stripe.com"]

    # Stripe's card form loads in its iframe; the first card is declined
    page.frame_locator("#payment-element iframe").get_by_text("4242").wait_for()
    pay = page.get_by_role("button", name="Pay €25.00")
    pay.click()
    message = page.locator("#payment-message")
    message.wait_for(state="visible")
    assert message.inner_text() == "Your card was declined."
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # The second card goes through: Stripe sends the browser back and the order is paid
    pay.click()
    page.wait_for_url(f"{live_server.url}/checkout/thank-you/")
    order.refresh_from_db()
    assert order.status == "Pending"
    assert order.stripe_payment.status == "succeeded"
    assert [e.event_type.name for e in order.payment_events.all()] == ["Paid"]
    assert order.number in page.locator("body").inner_text()
    assert refused == []
    context.close()
