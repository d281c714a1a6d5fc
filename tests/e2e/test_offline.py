"""The installed app offline (README "Install on a phone (PWA)"), in a real headless Chromium.

A signed-in member opens an open pickup pass and their member page; with the phone offline
(`context.set_offline(True)`) both still show, code and QR codes included, from the service
worker's cache; a page never opened shows the offline page in the page's language; after
logout the card is no longer served offline. No page asks for notifications on its own.
"""

import pytest
from django.urls import reverse

from stores.links import pickup_link_token
from tests.browser import PHONE, browser_marks, kept, until, wait_kept
from tests.loyalty.factories import member_factory
from tests.stores.factories import pickup_order, store

# Counts calls to the notification permission prompt (init scripts run before the page's).
COUNT_PERMISSION_ASKS = """
window.permissionAsks = 0;
if (window.Notification) {
    const ask = Notification.requestPermission.bind(Notification);
    Notification.requestPermission = (...args) => {
        window.permissionAsks += 1;
        return ask(...args);
    };
}
"""

pytestmark = browser_marks(pytest.mark.postgres)  # the flush must empty the points ledger


def test_pickup_pass_and_member_card_show_offline_until_logout(browser, live_server, client):
    # Given a signed-in member with an open pickup
    member = member_factory()
    pickup = pickup_order(store("Centre", lat=48.5819, lng=7.7507), user=member.user)
    follow = reverse(
        "stores:pickup-status",
        kwargs={"token": pickup_link_token(order_number=pickup.order.number)},
    )
    client.force_login(member.user)
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    context.set_default_timeout(10_000)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    context.add_init_script(COUNT_PERMISSION_ASKS)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # When they open the shop (the service worker installs and takes the page over),
    page.goto(live_server.url + "/")
    until(
        lambda: page.evaluate("() => navigator.serviceWorker.controller !== null"),
        "the service worker never took the page over",
    )
    assert page.evaluate("window.permissionAsks") == 0
    # then their member page and their pickup pass
    page.goto(live_server.url + reverse("loyalty:member"))
    assert page.evaluate("window.permissionAsks") == 0
    wait_kept(page, reverse("loyalty:member"))
    wait_kept(page, reverse("loyalty:card-qr"))
    page.goto(live_server.url + follow)
    assert page.locator(".pickup-code").inner_text() == pickup.code
    wait_kept(page, follow)
    # and the page of the product they ordered (product pages: stale-while-revalidate)
    product = pickup.order.lines.get().product
    page.goto(live_server.url + product.get_absolute_url())
    until(
        lambda: kept(page, product.get_absolute_url(), cache="solomo-visitor-pages"),
        "the product page was not cached",
    )
    page.goto(live_server.url + follow)

    # and the phone goes offline and the pass is reloaded
    context.set_offline(True)
    page.reload()

    # Then the pass still shows the code, the QR code, the store
    assert page.locator(".pickup-code").inner_text() == pickup.code
    assert page.locator(".pickup-qr svg").is_visible()
    assert "Centre" in page.locator(".order-pickup").inner_text()

    # and so does the member card, with its QR code
    page.goto(live_server.url + reverse("loyalty:member"))
    assert page.locator(".loyalty-number").inner_text().replace(" ", "") == member.number
    assert page.evaluate("document.querySelector('.loyalty-qr').naturalWidth") > 0

    # and so does the product page they opened
    page.goto(live_server.url + product.get_absolute_url())
    assert page.locator("h1").inner_text() == product.title

    # When they open a French page they never opened
    page.goto(live_server.url + "/fr/categories/")

    # Then the offline page says so, in French
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("h1").inner_text() == "Vous êtes hors ligne"

    # When, back online, they log out, then go offline again
    context.set_offline(False)
    page.goto(live_server.url + reverse("loyalty:member"))
    with page.expect_navigation():
        page.locator("form.site-footer__logout [type=submit]").click()
    assert not kept(page, reverse("loyalty:member"))
    context.set_offline(True)

    # Then the member card and the pass are no longer served: the offline page is
    page.goto(live_server.url + reverse("loyalty:member"))
    assert page.locator("h1").inner_text() == "You are offline"
    assert page.locator(".loyalty-qr").count() == 0
    assert member.number not in page.content()
    page.goto(live_server.url + follow)
    assert page.locator("h1").inner_text() == "You are offline"
    assert pickup.code not in page.locator("body").inner_text()
    assert not kept(page, reverse("loyalty:card-qr"))
    assert not kept(page, product.get_absolute_url(), cache="solomo-visitor-pages")
    assert errors == []
    context.close()


def test_next_customer_on_the_same_phone_never_gets_the_previous_card(browser, live_server, client):
    # Given a member whose card the phone keeps for offline use
    first, second = member_factory(), member_factory()
    client.force_login(first.user)
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    context.set_default_timeout(10_000)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.goto(live_server.url + "/")
    until(
        lambda: page.evaluate("() => navigator.serviceWorker.controller !== null"),
        "the service worker never took the page over",
    )
    page.goto(live_server.url + reverse("loyalty:member"))
    wait_kept(page, reverse("loyalty:member"))

    # When, without logging out (the session replaced, as when it expires and someone else
    # signs in), another member opens any page
    client.force_login(second.user)
    context.clear_cookies()
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(live_server.url + "/offline/")
    until(lambda: not kept(page, reverse("loyalty:member")), "the first member's card was kept")

    # Then offline, the member page is the offline page, not the first member's card
    context.set_offline(True)
    page.goto(live_server.url + reverse("loyalty:member"))
    assert page.locator("h1").inner_text() == "You are offline"
    assert first.number not in page.content()
    context.close()


# What Chromium fires when the page may be installed (headless Chromium never does).
OFFER_INSTALL = """() => {
    const offer = new Event("beforeinstallprompt", {cancelable: true});
    window.installPrompts = 0;
    offer.prompt = () => { window.installPrompts += 1; return Promise.resolve(); };
    offer.userChoice = Promise.resolve({outcome: "accepted"});
    window.dispatchEvent(offer);
    return offer.defaultPrevented;
}"""


def test_install_button_shows_only_where_installing_makes_sense(browser, live_server, client):
    # Given a signed-in member
    member = member_factory()
    client.force_login(member.user)
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    context.set_default_timeout(10_000)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()

    # When the browser offers to install on the home page (a first visit)
    page.goto(live_server.url + "/")
    held_back = page.evaluate(OFFER_INSTALL)

    # Then the browser's own banner is held back and the page shows no install button
    assert held_back is True
    assert page.locator("[data-install-app-button]").count() == 0

    # When it offers on the member page
    page.goto(live_server.url + reverse("loyalty:member"))
    button = page.locator("[data-install-app-button]")
    assert not button.is_visible()
    assert page.evaluate(OFFER_INSTALL) is True

    # Then our button shows; tapping it opens the browser's install prompt, once
    button.click()
    assert page.evaluate("window.installPrompts") == 1
    page.locator("[data-install-app]").wait_for(state="hidden")
    context.close()
