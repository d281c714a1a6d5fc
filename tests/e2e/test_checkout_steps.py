"""The first checkout steps on a phone, in a real headless Chromium (Playwright).

At 375 px with the browser's position in Strasbourg: collect in store is chosen first,
the stores show their distance from the shopper, a time is chosen at one store, then
the shopper changes to another store from the preview and takes a time there on another
day (grouped by day) without being trapped by the first one. At 320 px, every checkout
step fits the screen (no sideways scroll) and the delivery address starts in France.
Screenshots land in pytest's tmp_path.
"""

import re

import pytest
from oscar.core.loading import get_model

from stores.models import Pickup
from tests.browser import browser_marks
from tests.e2e.fixtures import phone_context
from tests.factories import product
from tests.shop.checkout_fixtures import coordinates_stored_anywhere
from tests.stores.factories import every_day, stock, store

Country = get_model("address", "Country")

pytestmark = browser_marks()

CATHEDRAL = {"latitude": 48.5818, "longitude": 7.7509}
NARROW = {"width": 320, "height": 640}
STEP_BAR_MAX_HEIGHT = 60


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def step_bar_height(page) -> float:
    return page.locator(".checkout-steps").bounding_box()["height"]


def current_step(page) -> str:
    return page.locator('.checkout-steps [aria-current="step"] .checkout-steps__label').inner_text()


def two_stores_with_a_lamp():
    hours = every_day("00:00", "23:59")
    centre = store(
        "Centre", lat=48.5890, lng=7.7530, hours=hours, preparation_minutes=0, slot_minutes=30
    )
    robertsau = store(
        "Robertsau", lat=48.6050, lng=7.7800, hours=hours, preparation_minutes=0, slot_minutes=45
    )
    lamp = product("Lamp", price="12.00", stock=5)
    stock(centre, lamp, 3, price="12.00")
    stock(robertsau, lamp, 3, price="12.00")
    return centre, robertsau, lamp


def start_as_guest(page, live_server, item):
    page.goto(live_server.url + item.get_absolute_url())
    with page.expect_navigation():
        page.click("#add_to_basket_form button[type=submit]")
    page.goto(f"{live_server.url}/checkout/")
    page.fill("#id_username", "lea@example.com")
    page.check("input[name=options][value=anonymous]")
    with page.expect_navigation():
        page.locator("form").filter(has=page.locator("#id_username")).locator(
            "button[type=submit]"
        ).click()


def test_collect_in_store_first_then_switch_store_and_pick_a_time_by_day(
    browser, live_server, tmp_path
):
    centre, robertsau, lamp = two_stores_with_a_lamp()
    context = phone_context(browser, live_server)
    context.grant_permissions(["geolocation"], origin=live_server.url)
    context.set_geolocation(CATHEDRAL)
    page = context.new_page()

    # When a guest starts the checkout
    start_as_guest(page, live_server, lamp)

    # Then the first step offers collect in store and home delivery as two big choices
    assert page.url == f"{live_server.url}/checkout/delivery/"
    collect = page.get_by_role("link", name=re.compile("Collect in store \\(free\\)"))
    assert collect.bounding_box()["height"] >= 88
    assert page.get_by_text("Home delivery", exact=True).is_visible()
    assert step_bar_height(page) <= STEP_BAR_MAX_HEIGHT
    assert no_sideways_scroll(page)
    page.screenshot(path=tmp_path / "1-delivery.png", full_page=True)

    # When they choose to collect in store, then let the browser give their position
    with page.expect_navigation():
        collect.click()
    assert current_step(page) == "Store & time"
    assert page.locator(".store-card__distance").count() == 0
    with page.expect_navigation():
        page.get_by_role("button", name="Use my location to show distances").click()

    # Then the stores show their distance from the shopper, nearest first, and their next time
    names = page.locator(".pickup-store .store-card__name").all_inner_texts()
    assert [name.split("\n")[0].strip() for name in names] == ["Centre", "Robertsau"]
    assert page.locator(".store-card__distance").all_inner_texts() == [
        "0.8 km from you",
        "3.4 km from you",
    ]
    assert re.fullmatch(
        r"Next free time: (today|tomorrow) \d\d:\d\d",
        page.locator(".pickup-store__next").first.inner_text(),
    )
    assert step_bar_height(page) <= STEP_BAR_MAX_HEIGHT
    assert no_sideways_scroll(page)
    page.screenshot(path=tmp_path / "2-stores.png", full_page=True)

    # When they choose Centre and its first time
    with page.expect_navigation():
        page.get_by_role("link", name="Choose Centre").click()
    days = page.locator("details.slot-day")
    assert days.count() >= 2
    assert days.first.get_attribute("open") == ""
    assert days.nth(1).get_attribute("open") is None
    assert re.fullmatch(
        r"Next available: (today|tomorrow) \d\d:\d\d", page.locator(".pickup-next").inner_text()
    )
    assert step_bar_height(page) <= STEP_BAR_MAX_HEIGHT
    assert no_sideways_scroll(page)
    page.screenshot(path=tmp_path / "3-centre-times.png", full_page=True)
    page.locator(".slot").first.click()
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/checkout/preview/")
    assert "Centre" in page.locator(".pickup-summary").inner_text()

    # When, from the preview, they change to Robertsau and take a time tomorrow
    with page.expect_navigation():
        page.locator(".pickup-summary").get_by_role("link", name="Change").click()
    # (the browser tab sends the position it kept again: the server kept none)
    page.wait_for_url(re.compile(r"/checkout/pickup/\?lat=48\.58180&lng=7\.75090$"))
    assert page.locator(".store-card__distance").count() == 2
    assert (
        page.locator(".pickup-store.is-chosen .store-card__name").inner_text().startswith("Centre")
    )
    with page.expect_navigation():
        page.get_by_role("link", name="Choose Robertsau").click()

    # Then Robertsau's times carry nothing over from Centre
    assert page.locator("input[name=slot]:checked").count() == 0
    assert page.locator(".alert-danger").count() == 0
    tomorrow = page.locator("details.slot-day").nth(1)
    tomorrow.locator("summary").click()
    assert tomorrow.get_attribute("open") == ""
    chosen = tomorrow.locator("input[name=slot]").first
    starts_at = chosen.get_attribute("value")
    tomorrow.locator(".slot").first.click()
    page.screenshot(path=tmp_path / "4-robertsau-tomorrow.png", full_page=True)
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/checkout/preview/")

    # and the order is placed at Robertsau, at that time
    assert "Robertsau" in page.locator(".pickup-summary").inner_text()
    assert current_step(page) == "Review"
    assert step_bar_height(page) <= STEP_BAR_MAX_HEIGHT
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("place order", re.I)).first.click()
    pickup = Pickup.objects.select_related("slot").get()
    assert (pickup.store, pickup.slot.starts_at.isoformat()) == (robertsau, starts_at)
    assert no_sideways_scroll(page)
    context.close()


@pytest.mark.postgres
def test_the_locators_position_shows_distances_at_checkout_and_stays_in_the_browser(
    browser, live_server, tmp_path
):
    _centre, _robertsau, lamp = two_stores_with_a_lamp()
    context = phone_context(browser, live_server)
    context.grant_permissions(["geolocation"], origin=live_server.url)
    context.set_geolocation(CATHEDRAL)
    page = context.new_page()

    # When the shopper sorts the stores by their position on the locator
    page.goto(f"{live_server.url}/stores/")
    assert "never stored on our servers" in page.locator(".locator__privacy").inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name="Use my location").click()

    # Then the nearest store comes first, with distances from them
    names = page.locator(".store-list .store-card__name").all_inner_texts()
    assert names == ["Centre", "Robertsau"]
    assert page.locator(".store-card__distance").all_inner_texts() == ["0.8 km", "3.4 km"]
    page.screenshot(path=tmp_path / "locator-sorted.png", full_page=True)
    # and the server kept the position nowhere: no session, no row
    assert coordinates_stored_anywhere(CATHEDRAL["latitude"], CATHEDRAL["longitude"]) == []

    # When they check out as a guest and choose collect in store, tapping nothing else
    start_as_guest(page, live_server, lamp)
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("Collect in store \\(free\\)")).click()

    # Then the store step shows the distances, from the position this browser tab kept
    page.wait_for_url(re.compile(r"/checkout/pickup/\?lat=48\.58180&lng=7\.75090$"))
    assert page.locator(".store-card__distance").all_inner_texts() == [
        "0.8 km from you",
        "3.4 km from you",
    ]
    assert no_sideways_scroll(page)
    # and still nothing holds it on the server, the checkout's session included
    assert coordinates_stored_anywhere(CATHEDRAL["latitude"], CATHEDRAL["longitude"]) == []
    context.close()


def test_every_checkout_step_fits_a_320px_screen(browser, live_server, settings, tmp_path):
    settings.PAYMENT_TEST_METHOD = True  # a way to pay for home delivery in this test
    for code, name in (("BE", "Belgium"), ("DE", "Germany"), ("FR", "France")):
        Country.objects.create(
            iso_3166_1_a2=code, name=name, printable_name=name, is_shipping_country=True
        )
    centre, _robertsau, lamp = two_stores_with_a_lamp()
    context = browser.new_context(viewport=NARROW, device_scale_factor=2, is_mobile=True)
    context.route(
        re.compile(r"^(?!" + re.escape(live_server.url) + ")https?://"),
        lambda route: route.abort(),
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    wide = []

    def check(name):
        page.screenshot(path=tmp_path / f"320-{name}.png", full_page=True)
        if not no_sideways_scroll(page):
            wide.append(name)

    page.goto(live_server.url + lamp.get_absolute_url())
    with page.expect_navigation():
        page.click("#add_to_basket_form button[type=submit]")
    page.goto(f"{live_server.url}/checkout/")
    check("sign-in")
    page.fill("#id_username", "lea@example.com")
    page.check("input[name=options][value=anonymous]")
    with page.expect_navigation():
        page.locator("form").filter(has=page.locator("#id_username")).locator(
            "button[type=submit]"
        ).click()
    check("delivery")

    # Home delivery: the address form starts in France, not the first country listed
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("Home delivery")).click()
    check("address")
    assert page.locator("#id_country option:checked").inner_text() == "France"
    assert current_step(page) == "Address"

    # Click & collect: the stores, a store's times, the preview and the thank-you page
    with page.expect_navigation():
        page.get_by_role("link", name="Collect in store instead (free)").click()
    check("stores")
    with page.expect_navigation():
        page.get_by_role("link", name="Choose Centre").click()
    check("times")
    page.locator(".slot").first.click()
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    if "/checkout/payment-method/" in page.url:
        check("payment-method")
        page.get_by_text("Pay at pickup").click()
        with page.expect_navigation():
            page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/checkout/preview/")
    check("preview")
    assert step_bar_height(page) <= STEP_BAR_MAX_HEIGHT
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("place order", re.I)).first.click()
    page.wait_for_url("**/checkout/thank-you/")
    check("thank-you")

    assert wide == []
    context.close()
