"""The Stock page on a 320 px phone, in a real headless Chromium (Playwright).

A member of staff finds a product by title, changes its quantity and sees the form
error when typing less than what orders hold; nothing is wider than the screen.
"""

import re

import pytest
from oscar.test.factories import create_product

from tests.browser import browser_marks
from tests.stores.factories import staff_of, stock, store

pytestmark = browser_marks()

NARROW = {"width": 320, "height": 640}


@pytest.mark.postgres  # the live server's flush must be allowed to empty the audit log
def test_staff_edit_stock_on_a_320px_phone_without_sideways_scroll(browser, live_server, tmp_path):
    # Given a store whose stock includes a long product title and a held unit
    shop = store("Strasbourg Centre — Place Kléber, ground floor and basement")
    for n in range(30):
        stock(shop, create_product(title=f"Bretzel {n:02d}"), 5)
    munster = stock(
        shop,
        create_product(title="Munster fermier AOP au lait cru des vallées vosgiennes " * 2),
        10,
        allocated=2,
    )
    staff_of(shop, "staff@centre.example")
    context = browser.new_context(viewport=NARROW, device_scale_factor=2, is_mobile=True)
    context.route(
        re.compile(r"^(?!" + re.escape(live_server.url) + ")https?://"),
        lambda route: route.abort(),
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login-username", "staff@centre.example")
    page.fill("#id_login-password", "pw")
    page.click("button[name=login_submit]")
    page.wait_for_load_state()

    # When they open the Stock page: a full page of records fits the screen
    page.goto(f"{live_server.url}/dashboard/stores/stock/")
    page.screenshot(path=tmp_path / "1-stock.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]

    # and search for the product and type less than what orders hold
    page.fill("#stock-q", "munster")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()
    assert page.locator(".stock-item").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    page.fill(f"#stock-{munster.pk}-num_in_stock", "1")
    page.locator(f"#stock-{munster.pk} button[type=submit]").click()
    page.wait_for_load_state()

    # Then the form says why, on a page that fits the screen too
    assert page.get_by_text("2 units are allocated to orders").is_visible()
    page.screenshot(path=tmp_path / "2-error.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]

    # and a quantity at or above it is saved, back on the search
    page.fill(f"#stock-{munster.pk}-num_in_stock", "4")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert "q=munster" in page.url
    munster.refresh_from_db()
    assert munster.num_in_stock == 4
    context.close()
