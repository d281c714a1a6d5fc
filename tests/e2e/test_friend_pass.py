"""A pickup shared with a friend, on 375 px phones in a real headless Chromium (R47).

The buyer taps "Let a friend collect" on their order page and copies the link (the page's
share button; Web Share is removed so the copy fallback runs); the friend, signed in
nowhere, opens it and sees their own code and QR, still there offline; the store's member
of staff sees a friend may come and hands the order over with the friend's code; the
buyer's page then says their friend collected it.
"""

import pytest
from django.urls import reverse

from stores.models import PickupStatus, SharedPickupPass
from stores.sharing import shared_pass_code, shared_pass_url
from tests.browser import (
    browser_marks,
    fits_the_phone,
    phone_context,
    sign_in,
    until,
    wait_kept,
)
from tests.stores.factories import buyer_with_history, every_day, staff_of, store

pytestmark = browser_marks(pytest.mark.postgres)  # the flush must empty the audit log


def with_clipboard(context, live_server):
    """The copy fallback of the share button, for real: clipboard allowed, no Web Share."""
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.add_init_script("delete Navigator.prototype.share; delete navigator.share;")
    return context


def test_buyer_shares_the_friend_collects_with_their_code_and_the_buyer_sees_it(
    browser, live_server, tmp_path
):
    # Given a buyer (Léa Martin) whose order is ready at a store, and its member of staff
    centre = store("Centre", hours=every_day("00:00", "23:59"))
    buyer, pickup, _earlier = buyer_with_history(centre)
    staff_of(centre, "staff@centre.example")
    order_url = reverse("customer:order", kwargs={"order_number": pickup.order.number})

    # When the buyer opens their order on their phone and lets a friend collect it
    shopper = with_clipboard(phone_context(browser, live_server), live_server)
    page = shopper.new_page()
    sign_in(page, live_server, buyer.email)
    page.goto(live_server.url + order_url)
    assert fits_the_phone(page)
    page.get_by_text("Let a friend collect").click()
    page.fill("#pickup-share-name", "Paul")
    with page.expect_navigation():
        page.get_by_role("button", name="Create the friend's pass").click()

    # Then the page offers to send the pass; tapping it copies the link
    send = page.get_by_role("button", name="Send the pass to your friend")
    assert send.bounding_box()["height"] >= 44
    assert fits_the_phone(page)
    page.screenshot(path=tmp_path / "1-buyer-shared.png", full_page=True)
    send.click()
    page.locator(".share__status").wait_for(state="visible")
    assert page.locator(".share__status").inner_text() == "Link copied"
    link = page.evaluate("navigator.clipboard.readText()")
    shared = SharedPickupPass.objects.get()
    assert link == live_server.url + shared_pass_url(shared=shared)
    code = shared_pass_code(shared=shared)

    # When the friend opens the link on their own phone, signed in nowhere
    friend = phone_context(browser, live_server)
    pass_page = friend.new_page()
    pass_page.goto(live_server.url + "/")
    until(
        lambda: pass_page.evaluate("() => navigator.serviceWorker.controller !== null"),
        "the service worker never took the page over",
    )
    pass_page.goto(link)

    # Then it shows their code and its QR, within the phone's width, and nothing of Léa's
    assert pass_page.locator(".pickup-code").inner_text() == code
    assert pass_page.locator(".pickup-qr svg").is_visible()
    body = pass_page.locator("body").inner_text()
    assert pickup.code not in body and "Martin" not in body and buyer.email not in body
    assert fits_the_phone(pass_page)
    pass_page.screenshot(path=tmp_path / "2-friend-pass.png", full_page=True)
    # and still does with no signal at the store
    wait_kept(pass_page, shared_pass_url(shared=shared))
    friend.set_offline(True)
    pass_page.reload()
    assert pass_page.locator(".pickup-code").inner_text() == code
    assert pass_page.locator(".pickup-qr svg").is_visible()
    friend.close()

    # When the member of staff opens the order and hands it over with the friend's code
    staff = phone_context(browser, live_server)
    counter = staff.new_page()
    sign_in(counter, live_server, "staff@centre.example")
    counter.goto(f"{live_server.url}/dashboard/stores/pickups/")
    assert (
        "May be collected by Paul, a friend of Léa Martin"
        in counter.locator(".queue-friend").inner_text()
    )
    counter.get_by_role("link", name=pickup.order.number).first.click()
    counter.wait_for_url(f"**/dashboard/stores/pickups/{pickup.pk}/")
    counter.fill("#pickup-code", code)
    counter.get_by_role("button", name="Hand over").click()

    # Then it is handed over, and the counter is told to whom
    done = counter.get_by_text(
        f"Order {pickup.order.number}: Collected by Paul, a friend of Léa Martin."
    )
    done.wait_for()
    assert fits_the_phone(counter)
    counter.screenshot(path=tmp_path / "3-handed-over.png", full_page=True)
    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.COLLECTED
    staff.close()

    # and the buyer's order page says their friend collected it
    page.goto(live_server.url + order_url)
    assert (
        page.locator(".pickup-sharing__collected").inner_text()
        == "Collected by your friend Paul, with the pass you shared."
    )
    assert fits_the_phone(page)
    page.screenshot(path=tmp_path / "4-buyer-collected.png", full_page=True)
    shopper.close()
