"""Click & collect on a 375 px phone, in a real headless Chromium (Playwright).

A guest finds the store from a postcode, makes it their store, adds a product,
checks out choosing click & collect, a store and a slot, pays at pickup, sees
the pickup code and, through the thank-you page's link, taps "I'm here"; then
the store's member of staff signs in, marks the order ready and hands it over
with that code. Screenshots land in pytest's tmp_path.
"""

import re

import pytest

from stores.models import Pickup, PickupStatus
from tests.browser import PHONE, browser_marks, fits_the_phone
from tests.factories import product
from tests.stores.factories import every_day, staff_of, stock, store

pytestmark = browser_marks()


def phone_context(browser, live_server):
    """A phone-sized context that may only talk to the live server (no map tiles)."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    context.route(
        re.compile(r"^(?!" + re.escape(live_server.url) + ")https?://"),
        lambda route: route.abort(),
    )
    context.set_default_timeout(10_000)
    return context


@pytest.mark.postgres  # the live server's flush must be allowed to empty the audit log
def test_guest_books_a_pickup_on_a_phone_and_staff_hand_it_over(browser, live_server, tmp_path):
    # Given a store open round the clock with the product in stock, and its member of staff
    hours = every_day("00:00", "23:59")
    fields = {"preparation_minutes": 0, "slot_minutes": 30, "slot_capacity": 2}
    centre = store("Centre", lat=48.5819, lng=7.7507, hours=hours, **fields)
    store("Robertsau", lat=48.5960, lng=7.7800, hours=hours, **fields)
    bretzel = product("Bretzel", price="1.50", stock=0)
    stock(centre, bretzel, 5, price="1.50")
    staff_of(centre, "staff@centre.example")

    shopper = phone_context(browser, live_server)
    page = shopper.new_page()

    # When the shopper looks for a store by postcode and makes the nearest theirs
    page.goto(f"{live_server.url}/stores/?place=67000")
    first = page.locator(".store-list .store-card").first
    assert first.locator(".store-card__name").inner_text() == "Centre"
    page.screenshot(path=tmp_path / "1-locator.png", full_page=True)
    first.get_by_role("button", name="Make this my store").click()
    page.wait_for_load_state()
    assert page.locator(".store-card.is-mine .store-card__name").inner_text() == "Centre"

    # and adds the product from its page, which shows the store's stock
    page.goto(live_server.url + bretzel.get_absolute_url())
    assert page.get_by_text("In stock at Centre (5)").is_visible()
    page.click("#add_to_basket_form button[type=submit]")
    page.wait_for_load_state()

    # and checks out as a guest, choosing click & collect
    page.goto(f"{live_server.url}/checkout/")
    page.fill("#id_username", "lea@example.com")
    page.check("input[name=options][value=anonymous]")
    page.locator("form").filter(has=page.locator("#id_username")).locator(
        "button[type=submit]"
    ).click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Collect in store").click()
    page.wait_for_load_state()

    # Then the pickup step offers their store and its slots, within the phone's width
    assert "/checkout/pickup/" in page.url
    assert page.locator(".store-card.is-mine strong").inner_text() == "Centre"
    assert fits_the_phone(page)
    page.screenshot(path=tmp_path / "2-pickup.png", full_page=True)

    # When they take the first slot and continue to payment, then place the order
    page.locator(".slot-list input[name=slot]").first.check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    assert fits_the_phone(page)
    if "/checkout/preview/" not in page.url:
        page.get_by_role("link", name=re.compile("continue", re.I)).first.click()
        page.wait_for_load_state()
    assert "Centre" in page.locator("body").inner_text()
    assert fits_the_phone(page)
    page.screenshot(path=tmp_path / "3-preview.png", full_page=True)
    page.get_by_role("button", name=re.compile("place order", re.I)).first.click()
    page.wait_for_load_state()

    # Then the thank-you page shows the pickup code
    pickup = Pickup.objects.select_related("order").get()
    assert "/checkout/thank-you/" in page.url
    assert pickup.code in page.locator("body").inner_text()
    assert fits_the_phone(page)
    page.screenshot(path=tmp_path / "4-thank-you.png", full_page=True)

    # When, at the store, they follow the link from the thank-you page and tap "I'm here"
    page.get_by_role("link", name=re.compile("Follow your order")).click()
    page.wait_for_load_state()
    assert page.locator(".pickup-code").inner_text() == pickup.code
    assert fits_the_phone(page)
    page.get_by_role("button", name="I'm here").click()
    page.wait_for_load_state()
    assert page.get_by_text("The store knows you are here.").first.is_visible()
    page.screenshot(path=tmp_path / "5-here.png", full_page=True)
    shopper.close()

    # When the member of staff signs in on their own phone and opens the order
    staff = phone_context(browser, live_server)
    counter = staff.new_page()
    counter.goto(f"{live_server.url}/accounts/login/")
    counter.fill("#id_login-username", "staff@centre.example")
    counter.fill("#id_login-password", "pw")
    counter.click("button[name=login_submit]")
    counter.wait_for_load_state()
    counter.goto(f"{live_server.url}/dashboard/stores/pickups/")
    assert counter.get_by_text("Customer is here").first.is_visible()
    counter.get_by_role("link", name=pickup.order.number).first.click()
    counter.wait_for_load_state()

    # and marks it ready, then hands it over with the code the customer reads out
    counter.get_by_role("button", name="Ready (notify customer)").click()
    counter.wait_for_load_state()
    assert counter.get_by_text(f"Order {pickup.order.number}: Ready for pickup.").is_visible()
    counter.fill("#pickup-code", pickup.code)
    counter.get_by_role("button", name="Hand over").click()
    counter.wait_for_load_state()

    # Then the order is collected
    assert counter.get_by_text(f"Order {pickup.order.number}: Collected.").is_visible()
    counter.screenshot(path=tmp_path / "6-handed-over.png", full_page=True)
    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.COLLECTED
    staff.close()
