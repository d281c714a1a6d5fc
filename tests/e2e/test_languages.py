"""A phone whose browser prefers French, at 375 px (README "Languages")."""

import pytest

from tests.browser import PHONE, browser_marks, fits_the_phone
from tests.factories import category, product
from tests.stores.factories import every_day, store

pytestmark = browser_marks()


@pytest.fixture
def french_catalogue(live_server):
    cheese = category("Cheese")
    cheese.name_fr = "Fromages"
    cheese.save()
    munster = product("Munster cheese", categories=[cheese])
    munster.title_fr = "Fromage de Munster"
    munster.save()
    product("Country loaf", categories=[cheese])
    return {"store": store("Petite France", hours=every_day()), "url": live_server.url}


def test_french_phone_gets_the_french_shop_until_it_chooses_english(browser, french_catalogue):
    context = browser.new_context(viewport=PHONE, is_mobile=True, locale="fr-FR")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    base = french_catalogue["url"]

    # First visit at / : the French shop, catalogue text included.
    page.goto(base + "/", wait_until="load")
    assert page.url == base + "/fr/"
    assert page.locator("html").get_attribute("lang") == "fr"
    tile = page.locator(".category-tile", has_text="Fromages")
    assert tile.count() == 1
    with page.expect_navigation():
        tile.first.click()
    assert page.locator("h1").inner_text() == "Fromages"
    cards = page.locator(".product-card").all_inner_texts()
    assert any("Fromage de Munster" in card for card in cards)
    # Only in English: shown in English rather than left blank.
    assert any("Country loaf" in card for card in cards)
    assert not any("Munster cheese" in card for card in cards)
    assert fits_the_phone(page)

    # The store map's zoom buttons speak French too.
    page.goto(f"{base}/fr/stores/{french_catalogue['store'].slug}/", wait_until="load")
    zoom_in = page.locator(".leaflet-control-zoom-in")
    zoom_in.wait_for()
    assert zoom_in.get_attribute("title") == "Zoom avant"
    assert zoom_in.get_attribute("aria-label") == "Zoom avant"
    assert page.locator(".leaflet-control-zoom-out").get_attribute("aria-label") == "Zoom arrière"

    # Choosing English with the switcher wins over the browser's French from then on.
    page.goto(base + "/fr/", wait_until="load")
    with page.expect_navigation():
        page.select_option("#language-select", "en")
    page.goto(base + "/", wait_until="load")
    assert page.url == base + "/"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator(".category-tile", has_text="Cheese").count() == 1
    assert errors == []
    context.close()
