"""A gift link on a 320 px phone, in a real headless Chromium (R23): made, shared (the link
copied where there is no Web Share API), opened by a friend and accepted."""

import pytest

from loyalty.models import GiftLink, GiftLinkStatus
from tests.browser import browser_marks
from tests.loyalty.factories import funded_member

# Live server: committed data, on PostgreSQL (the ledger's append-only triggers).
pytestmark = browser_marks(pytest.mark.postgres)

NARROW = {"width": 320, "height": 640}
LONG_WORD = "Gewürztraminervendangestardives"


def _phone(browser, live_server, client, member):
    client.force_login(member.user)
    context = browser.new_context(viewport=NARROW, is_mobile=True, has_touch=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.add_init_script("delete Navigator.prototype.share; delete navigator.share;")
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    context.set_default_timeout(10_000)
    return context


def test_r23_a_gift_link_fits_320px_from_the_form_to_the_friends_points(
    browser, live_server, client
):
    giver = funded_member(900, first_name="Léa", last_name=LONG_WORD)
    friend = funded_member(0, first_name=LONG_WORD, last_name="Kléber")
    context = _phone(browser, live_server, client, giver)
    page = context.new_page()
    page.goto(f"{live_server.url}/loyalty/gift/")

    page.fill("#id_link_points", "250")
    page.fill("#id_link_message", LONG_WORD * 3)
    page.click("#gift-link button[type=submit]")
    page.wait_for_selector(".share__button")
    widths = {"giver": page.evaluate("document.documentElement.scrollWidth")}
    page.get_by_role("button", name="Share the link").tap()
    page.locator(".share__status").wait_for(state="visible")
    copied = page.evaluate("navigator.clipboard.readText()")
    link = GiftLink.objects.get()
    assert copied == f"{live_server.url}/loyalty/g/{link.token}/"
    context.close()

    context = _phone(browser, live_server, client, friend)
    page = context.new_page()
    page.goto(copied)
    widths["friend"] = page.evaluate("document.documentElement.scrollWidth")
    assert page.inner_text("#giftlink-title") == "L*** G. offers you 250 points"
    page.get_by_role("button", name="Accept the points").tap()
    page.wait_for_selector(".loyalty-history")
    widths["friend's points"] = page.evaluate("document.documentElement.scrollWidth")

    assert widths == {"giver": 320, "friend": 320, "friend's points": 320}
    assert "Gift from L*** G." in page.inner_text(".loyalty-history")
    link.refresh_from_db()
    assert (link.status, link.recipient) == (GiftLinkStatus.ACCEPTED, friend)
    context.close()
