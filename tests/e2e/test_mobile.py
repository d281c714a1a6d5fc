"""The storefront on a 375 px phone, in a real headless Chromium (Playwright).

Checks what a shopper's thumb and eyes need: nothing wider than the screen,
tap targets of at least 44x44 px for the header, navigation and main actions,
and 16 px body text. Screenshots land in pytest's tmp_path for a human to look at.
"""

import pytest
from oscar.test.factories import ProductImageFactory

from tests.browser import PHONE, browser_marks
from tests.factories import category, product

MIN_TAP = 44

pytestmark = browser_marks()

# The controls a shopper must be able to hit with a thumb, per page.
HEADER_CONTROLS = [
    "#site-search-q",
    ".site-search__button",
    ".brand",
    ".catnav__link",
    ".tabbar__item",
]
PAGE_CONTROLS = {
    "home": [".hero__cta", ".category-tile", ".product-card__cta"],
    "category": [".product-card__cta", "#id_sort_by", ".chip"],
    "product": ["#add_to_basket_form button[type=submit]", ".btn-wishlist"],
}


@pytest.fixture
def shop_pages(live_server):
    groceries = category("Groceries")
    cheese = category("Cheese", parent=groceries)
    category("Bakery", parent=groceries)
    category("Home and garden")
    items = []
    for i in range(10):
        item = product(
            f"Munster AOP, farmhouse cheese from the Vosges valleys {i}",
            price=f"{5 + i}.95",
            categories=[cheese],
            description="A soft washed-rind cheese with a strong smell and a mild taste.",
        )
        ProductImageFactory(product=item)
        items.append(item)
    return {
        "home": live_server.url + "/",
        "category": live_server.url + groceries.get_absolute_url(),
        "product": live_server.url + items[0].get_absolute_url(),
    }


def small_controls(page, selectors: list[str]) -> list[str]:
    """The visible elements among `selectors` smaller than MIN_TAP in either direction."""
    too_small = []
    for selector in selectors:
        elements = page.locator(selector)
        assert elements.count() > 0, f"{selector} is missing"
        for element in elements.all():
            if not element.is_visible():
                continue
            box = element.bounding_box()
            # Rounding: a 43.99 px box is a 44 px box on screen.
            if box["width"] < MIN_TAP - 0.5 or box["height"] < MIN_TAP - 0.5:
                too_small.append(f"{selector} {box['width']:.0f}x{box['height']:.0f}")
    return too_small


@pytest.mark.parametrize("name", ["home", "category", "product"])
def test_page_fits_a_phone_and_is_thumb_friendly(browser, shop_pages, name, tmp_path):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(shop_pages[name], wait_until="networkidle")
    page.screenshot(path=tmp_path / f"{name}-375.png", full_page=True)

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    body_font = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert body_font >= 16
    assert small_controls(page, HEADER_CONTROLS + PAGE_CONTROLS[name]) == []
    # Categories, stores, basket and account sit in the tab bar, at the bottom of the screen.
    tabbar = page.locator(".tabbar").bounding_box()
    assert tabbar["y"] + tabbar["height"] == pytest.approx(PHONE["height"], abs=1)
    for href in ("/categories/", "/stores/", "/basket/", "/accounts/login/"):
        assert page.locator(f'.tabbar a[href="{href}"]').is_visible()
    assert errors == []
    context.close()


def test_desktop_header_is_one_row_and_tab_bar_hidden(browser, shop_pages, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    page.goto(shop_pages["home"], wait_until="networkidle")
    page.screenshot(path=tmp_path / "home-1280.png")

    assert not page.locator(".tabbar").is_visible()
    tops = [
        page.locator(selector).first.bounding_box()
        for selector in (
            ".brand",
            "#site-search-q",
            ".header-action--account",
            ".header-action--basket",
        )
    ]
    centres = [box["y"] + box["height"] / 2 for box in tops]
    assert max(centres) - min(centres) < 4
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    context.close()


def test_sort_order_submits_without_an_inline_script(browser, shop_pages):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(shop_pages["category"], wait_until="networkidle")

    with page.expect_navigation():
        page.select_option("#id_sort_by", "price-desc")

    assert "sort_by=price-desc" in page.url
    prices = page.locator(".product-card .price").all_inner_texts()
    assert prices[0].strip() == "€14.95"
    context.close()


def test_add_to_basket_from_the_product_page(browser, shop_pages):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(shop_pages["product"], wait_until="networkidle")

    page.click("#add_to_basket_form button[type=submit]")
    page.wait_for_load_state("networkidle")

    assert page.locator(".tabbar .count-badge").inner_text().startswith("1")
    # The confirmation message can be dismissed without Bootstrap's JS.
    alerts = page.locator("#messages .alert")
    shown = alerts.count()
    assert shown >= 1
    page.click("#messages .alert .close >> nth=0")
    assert alerts.count() == shown - 1
    context.close()
