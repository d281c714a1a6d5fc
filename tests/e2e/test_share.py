"""Share on a 375 px phone without the Web Share API: the link is copied (README "Social").

Real clipboard permission in a headless Chromium; `navigator.share` is removed by an init
script so the page takes the fallback whatever the Chromium build offers.
"""

import re

import pytest

from tests.browser import PHONE, browser_marks, fits_the_phone
from tests.factories import product

pytestmark = browser_marks(pytest.mark.postgres)


def test_tap_share_without_web_share_copies_the_tagged_link(browser, live_server):
    item = product("Kougelhopf aux amandes de la boulangerie du coin")
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    context.route(
        re.compile(r"^(?!" + re.escape(live_server.url) + ")https?://"),
        lambda route: route.abort(),
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.add_init_script("delete Navigator.prototype.share; delete navigator.share;")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live_server.url}{item.get_absolute_url()}")
    assert page.evaluate("typeof navigator.share") == "undefined"

    share = page.get_by_role("button", name="Share")
    box = share.bounding_box()
    assert box["height"] >= 44
    share.tap()

    status = page.locator(".share__status")
    status.wait_for(state="visible")
    assert status.inner_text() == "Link copied"
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == (
        f"{live_server.url}{item.get_absolute_url()}"
        "?utm_source=share&utm_medium=copy&utm_campaign=product-share"
    )
    assert fits_the_phone(page)
    context.close()
