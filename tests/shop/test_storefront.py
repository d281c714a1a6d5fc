"""The mobile-first storefront shell: pages render, carry no inline script or CDN asset,
speak French under /fr/, and listings and the product page cost a fixed number of queries."""

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from oscar.test.factories import ProductImageFactory

from stores.selectors import SESSION_STORE_KEY
from tests.factories import category, product
from tests.shop.catalogue_fixtures import product_page_retire, product_view_writes
from tests.stores.factories import every_day, exceptional_day, stock, store

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_language():
    # A request under /fr/ leaves French active in this thread, and reverse() follows it.
    with translation.override(settings.LANGUAGE_CODE):
        yield


class AssetParser(HTMLParser):
    """Collects <script> tags (attributes + body) and the URLs pages load."""

    def __init__(self):
        super().__init__()
        self.scripts: list[dict] = []
        self.urls: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts.append({"attrs": attrs, "body": ""})
            self._in_script = True
            self.urls.append(attrs.get("src") or "")
        elif tag == "link":
            self.urls.append(attrs.get("href") or "")
        elif tag in ("img", "source", "iframe"):
            self.urls.append(attrs.get("src") or "")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1]["body"] += data


def parse(response) -> AssetParser:
    parser = AssetParser()
    parser.feed(response.content.decode())
    return parser


@pytest.fixture
def catalogue():
    cheese = category("Cheese")
    munster = product("Munster AOP", price="5.95", categories=[cheese])
    ProductImageFactory(product=munster)
    product("Bretzel", price="1.20", categories=[cheese])
    return {"category": cheese, "product": munster}


def storefront_urls(catalogue) -> dict[str, str]:
    return {
        "home": reverse("home"),
        "catalogue": reverse("catalogue:index"),
        "category": catalogue["category"].get_absolute_url(),
        "product": catalogue["product"].get_absolute_url(),
        "search": reverse("search:search") + "?q=munster",
        "basket": reverse("basket:summary"),
        "login": reverse("customer:login"),
        "french home": "/fr/",
    }


def test_storefront_pages_render_without_inline_scripts_or_third_party_assets(client, catalogue):
    for name, url in storefront_urls(catalogue).items():
        response = client.get(url)

        assert response.status_code == 200, name
        page = parse(response)
        inline = [
            s
            for s in page.scripts
            if not s["attrs"].get("src") and s["attrs"].get("type") != "application/ld+json"
        ]
        assert inline == [], f"{name}: inline <script> {inline}"
        blocking = [s for s in page.scripts if "src" in s["attrs"] and "defer" not in s["attrs"]]
        assert blocking == [], f"{name}: scripts without defer {blocking}"
        external = [u for u in page.urls if u.startswith(("http://", "https://", "//"))]
        assert external == [], f"{name} loads {external}"
        assert b"onclick=" not in response.content, name


def test_listings_show_their_products(client, catalogue):
    for url in (
        reverse("catalogue:index"),
        catalogue["category"].get_absolute_url(),
        reverse("search:search") + "?q=munster",
        reverse("home"),
    ):
        html = client.get(url).content.decode()

        assert "Munster AOP" in html, url
        assert catalogue["product"].get_absolute_url() in html, url


def test_pages_have_the_mobile_head(client, catalogue):
    response = client.get(catalogue["product"].get_absolute_url())

    html = response.content.decode()
    assert '<html lang="en"' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<meta name="theme-color" content="#0b6e69">' in html
    assert '<meta name="description" content="">' not in html
    assert 'rel="icon"' in html


def test_french_under_fr_prefix(client, catalogue):
    response = client.get("/fr/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="fr"' in html
    assert "Achetez sur votre téléphone, retirez près de chez vous" in html
    assert "Acheter par catégorie" in html


def test_language_switcher_posts_to_set_language_without_javascript(client, catalogue):
    response = client.get(reverse("catalogue:index"))

    html = response.content.decode()
    assert f'action="{reverse("set_language")}" method="post"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert '<option value="fr" lang="fr">Français</option>' in html
    switched = client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert switched.status_code == 302
    assert switched["Location"] == "/fr/"


def test_home_page_shows_categories_and_newest_products(client, catalogue):
    newest = product("Kougelhopf")

    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert response.context["featured_ids"][0] == newest.pk
    html = response.content.decode()
    assert catalogue["category"].get_absolute_url() in html
    assert "Buy on your phone, pick up near you" in html


def test_header_links_to_search_basket_and_account(client, catalogue):
    response = client.get(reverse("home"))

    html = response.content.decode()
    assert f'action="{reverse("search:search")}"' in html
    assert 'name="q"' in html
    assert f'href="{reverse("basket:summary")}"' in html
    assert f'href="{reverse("customer:login")}"' in html


def test_product_card_images_have_dimensions_and_lazy_loading(client):
    for i in range(6):
        ProductImageFactory(product=product(f"Cheese {i}"))

    response = client.get(reverse("catalogue:index"))

    html = response.content.decode()
    cards = html.count('class="product-card"')
    assert cards == 6
    assert html.count('loading="lazy"') == 2  # all but the first four
    assert html.count('fetchpriority="high"') == 1
    assert html.count('src="/media/cache/') == 6  # thumbnails, never the originals
    assert html.count('<img src="/media/cache/') == html.count("<img src=")


def test_dashboard_keeps_oscars_onbodyload_script(client):
    staff = get_user_model().objects.create_user(
        username="staff", email="staff@example.com", password="x", is_staff=True
    )
    client.force_login(staff)

    response = client.get(reverse("dashboard:index"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "$(function() {" in html
    assert "oscar/js/jquery/jquery.min.js" in html


def test_basket_page_passes_its_url_to_shop_js(client):
    response = client.get(reverse("basket:summary"))

    assert f'data-basket-url="{reverse("basket:summary")}"' in response.content.decode()


# --- Queries ------------------------------------------------------------------------------


def _queries(client, url) -> int:
    client.get(url)  # warm: thumbnails are generated (and stored) on the first view
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _add_products(cheese, start: int, stop: int) -> None:
    for i in range(start, stop):
        item = product(f"Cheese {i}", categories=[cheese], price=f"{i + 1}.00")
        if i % 2:
            ProductImageFactory(product=item)


# Exact costs today; a change to the listing templates that adds a query shows up here.
# The cards of every listing come from the cache (shop/catalogue/cards.py), and so do the
# menu's categories (shop/templatetags/catalogue_cache.py): only the page's ids and titles
# are read, with the COUNT (listings) and the category itself on its page.
LISTING_QUERIES = {"catalogue": 2, "category": 3, "search": 2, "home": 1}


@pytest.mark.parametrize("page", ["catalogue", "category", "search", "home"])
def test_listing_queries_do_not_grow_with_the_number_of_products(client, page):
    # Given a page showing 6 products (some with images), then one showing 24
    cheese = category("Cheese")
    _add_products(cheese, 0, 6)
    url = {
        "catalogue": reverse("catalogue:index"),
        "category": cheese.get_absolute_url(),
        "search": reverse("search:search") + "?q=cheese",
        "home": reverse("home"),
    }[page]
    with_6 = _queries(client, url)

    _add_products(cheese, 6, 24)
    with_24 = _queries(client, url)

    # Then both cost the same, fixed number of queries
    assert with_24 == with_6
    assert with_24 == LISTING_QUERIES[page]


def _add_stores_with_stock(item, start: int, stop: int) -> list:
    """Stores around Strasbourg's centre (a few hundred metres apart), open every day with a
    special day tomorrow, each with some of `item` in stock."""
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    added = []
    for i in range(start, stop):
        shop = store(f"Store {i}", lat=48.5734 + i * 0.002, lng=7.7521, hours=every_day())
        exceptional_day(shop, tomorrow, [("10:00", "12:00")], reason="Inventory")
        stock(shop, item, i + 1)
        added.append(shop)
    return added


def _store_stock_lines(html: str) -> int:
    return html.split('<ul class="store-stock">', 1)[1].split("</ul>", 1)[0].count("<li>")


# The product page with its store block ("In stock in these stores"). Rendered (its shared
# parts retired, as a stock change does): our product view (shop/catalogue/views.py) reads
# the product with its class and stock records, then what the shared parts show (images,
# the reviews' count, attribute values for the table and the JSON-LD's brand), and writes
# nothing (views are counted in Redis);
# the nearest stores with the product in stock are one query (their stock is joined,
# their hours are not read); the JSON-LD adds 1, the stores' stock records with their
# stores (one query for every store); with a chosen store, plus the session (the store
# comes from the cache: stores/selectors/choice.py). Cached
# (shop/catalogue/product_page.py): nothing but that session; the product with its stock
# records (for the "Add to basket" form) and the recommended ids are cached under the
# product's version with the shared parts, and the shelves' order and cards, the
# recently viewed cards and the menu's categories come from the cache.
PRODUCT_QUERIES = {
    ("visitor", "rendered"): 10,
    ("my store", "rendered"): 11,
    ("visitor", "cached"): 0,
    ("my store", "cached"): 1,
}


def _product_page_queries(client, item, how: str) -> int:
    url = item.get_absolute_url()
    client.get(url)  # warm: thumbnails are generated (and stored) on the first view
    if how == "rendered":
        product_page_retire(item)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("how", ["rendered", "cached"])
@pytest.mark.parametrize("who", ["visitor", "my store"])
def test_product_page_queries_do_not_grow_with_the_number_of_stores(client, who, how):
    # Given a product in stock in 4 stores with opening hours, then in 16
    mug = product("Mug", stock=5)
    first = _add_stores_with_stock(mug, 0, 4)
    if who == "my store":
        session = client.session
        session[SESSION_STORE_KEY] = first[0].pk
        session.save()
    with_4 = _product_page_queries(client, mug, how)

    _add_stores_with_stock(mug, 4, 16)
    with_16 = _product_page_queries(client, mug, how)

    # Then both cost the same, fixed number of queries, and the block lists 3 stores
    assert with_16 == with_4
    assert with_16 == PRODUCT_QUERIES[(who, how)] + product_view_writes(signed_in=False)
    assert _store_stock_lines(client.get(mug.get_absolute_url()).content.decode()) == 3


def test_product_page_in_stock_in_fewer_stores_than_it_lists_costs_one_query_more(client):
    # Given a product in stock in 2 stores only (the block lists up to 3, and looks for 4)
    mug = product("Mug", stock=5)
    _add_stores_with_stock(mug, 0, 2)
    store("Elsewhere", lat=48.8566, lng=2.3522)  # sells no mugs

    # When a visitor opens its page
    queries = _product_page_queries(client, mug, "rendered")

    # Then one more query finds there are no others, instead of widening the search
    # step by step to the whole world (seven queries)
    expected = PRODUCT_QUERIES[("visitor", "rendered")] + 1
    assert queries == expected + product_view_writes(signed_in=False)
    html = client.get(mug.get_absolute_url()).content.decode()
    assert _store_stock_lines(html) == 2
    assert "Store 0</a> · 1 in stock" in html
    assert "Store 1</a> · 2 in stock" in html


def test_product_page_shows_one_price_line_when_prices_include_tax(client):
    item = product("Munster", price="12.90")

    html = client.get(item.get_absolute_url()).content.decode()

    info = re.search(r'<table class="table table-sm product-detail__info">.*?</table>', html, re.S)
    rows = re.findall(r'<th scope="row">([^<]+)</th><td>([^<]+)</td>', info.group(0))
    assert [(name, value) for name, value in rows if "rice" in name or "ax" in name] == [
        ("Price", "€12.90")
    ]
