"""Click & collect on a 375 px phone, in a real headless Chromium (Playwright).

A guest finds the store from a postcode, makes it their store, adds a product,
checks out choosing click & collect, a store and a slot, pays at pickup, sees
the pickup code and, through the thank-you page's link, taps "I'm here"; then
the store's member of staff signs in, marks the order ready and hands it over
with that code. A member paying part with points sees what is left to pay on every
page, and the counter takes exactly that. Screenshots land in pytest's tmp_path.
"""

import re

import pytest

from loyalty.services.ledger import points_credit
from stores.models import Pickup, PickupStatus
from tests.browser import browser_marks, fits_the_phone
from tests.e2e.fixtures import phone_context
from tests.factories import product
from tests.loyalty.factories import member_factory
from tests.shop.checkout_fixtures import redemption_rules
from tests.stores.factories import every_day, staff_of, stock, store

pytestmark = browser_marks()


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
    page.get_by_role("link", name=re.compile("Collect in store")).click()
    page.wait_for_load_state()

    # Then the pickup step offers their store first, within the phone's width
    assert "/checkout/pickup/" in page.url
    mine = page.locator(".pickup-store").first
    assert mine.locator(".store-card__name").inner_text() == "Centre My store"
    assert fits_the_phone(page)
    page.screenshot(path=tmp_path / "2-pickup.png", full_page=True)

    # When they choose it, take its first slot and continue to payment, then place the order
    with page.expect_navigation():
        mine.get_by_role("link", name="Choose Centre").click()
    assert fits_the_phone(page)
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


@pytest.mark.postgres  # its flush must empty the points ledger and the audit log
def test_member_pays_part_with_points_and_sees_what_is_left_at_every_step(
    browser, live_server, tmp_path
):
    # Given a member with 1500 points (0.01 each) and a store with a 12.26 lamp
    redemption_rules(point_value="0.01", min_points=100, max_share="0.5")
    member = member_factory(email="lea@example.com")
    member.user.set_password("pw")
    member.user.save()
    points_credit(member=member, amount=1500, reason="Earned", idempotency_key="seed")
    hours = every_day("00:00", "23:59")
    centre = store("Centre", hours=hours, preparation_minutes=0, slot_minutes=30, slot_capacity=2)
    lamp = product("Lamp", price="12.26", stock=10)
    stock(centre, lamp, 5, price="12.26")
    staff_of(centre, "staff@centre.example")

    shopper = phone_context(browser, live_server)
    page = shopper.new_page()
    sign_in(page, live_server, "lea@example.com")

    # When they add the lamp, choose the store's first slot and use 200 points
    page.goto(live_server.url + lamp.get_absolute_url())
    with page.expect_navigation():
        page.click("#add_to_basket_form button[type=submit]")
    page.goto(f"{live_server.url}/checkout/pickup/?store={centre.slug}")
    page.locator(".slot-list input[name=slot]").first.check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/checkout/preview/")
    page.fill("#id_points", "200")
    page.get_by_role("button", name="Use points").click()
    page.locator(".amount-left").wait_for()
    assert "Left to pay: €10.26" in page.locator(".amount-left").inner_text()
    page.get_by_role("button", name=re.compile("place order", re.I)).first.click()
    page.wait_for_url("**/checkout/thank-you/")

    # Then the thank-you page shows 10.26 to pay at pickup, the 2.00 in points, the QR,
    # and no internal reference
    assert_amounts(page, due="€10.26", points="€2.00")
    assert page.locator(".pickup-qr svg").is_visible()
    assert "redeem:" not in page.locator("body").inner_text()
    assert fits_the_phone(page)
    page.screenshot(path=tmp_path / "points-1-thank-you.png", full_page=True)

    # and so do the follow page and the account's order page
    page.get_by_role("link", name=re.compile("Follow your order")).click()
    page.wait_for_url("**/stores/pickups/follow/**")
    assert_amounts(page, due="€10.26", points="€2.00")
    assert fits_the_phone(page)
    pickup = Pickup.objects.select_related("order").get()
    page.goto(f"{live_server.url}/accounts/orders/{pickup.order.number}/")
    assert page.locator(".order-due").inner_text().split() == [
        "To",
        "pay",
        "at",
        "pickup",
        "€10.26",
    ]
    assert "€2.00" in page.locator(".order-points").inner_text()
    page.screenshot(path=tmp_path / "points-2-account.png", full_page=True)
    shopper.close()

    # When the member of staff opens the queue and the order on their phone
    staff = phone_context(browser, live_server)
    counter = staff.new_page()
    sign_in(counter, live_server, "staff@centre.example")
    counter.goto(f"{live_server.url}/dashboard/stores/pickups/")
    assert counter.locator(".queue-due").first.inner_text() == "€10.26"
    counter.get_by_role("link", name=pickup.order.number).first.click()
    counter.wait_for_url(f"**/dashboard/stores/pickups/{pickup.pk}/")
    assert_amounts(counter, due="€10.26", points="€2.00")
    counter.get_by_role("button", name="Ready (notify customer)").click()
    assert counter.locator(".handover-due").inner_text() == "Take €10.26, then hand over."
    counter.screenshot(path=tmp_path / "points-3-counter.png", full_page=True)
    counter.fill("#pickup-code", pickup.code)
    counter.get_by_role("button", name="Hand over").click()

    # Then the hand-over takes exactly what was left
    done = counter.get_by_text(f"Order {pickup.order.number}: Collected. €10.26 taken at pickup.")
    done.wait_for()
    assert "Customer is here" not in counter.locator("body").inner_text()
    staff.close()


def sign_in(page, live_server, email):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login-username", email)
    page.fill("#id_login-password", "pw")
    page.click("button[name=login_submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def assert_amounts(page, *, due, points):
    assert page.locator(".order-amounts__due").inner_text() == due
    assert page.locator(".order-amounts__points").inner_text() == points
    assert page.locator(".order-amounts__due").is_visible()
