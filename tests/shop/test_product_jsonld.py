"""README "Open data for local search": the product page's schema.org Product, an Offer per
store, in a nonce'd data block that no text of the product can break out of, in the page's
language, for a fixed number of queries."""

import json
import re

import pytest
from django.utils import translation
from oscar.core.loading import get_model
from oscar.test.factories import ProductImageFactory, UserFactory

from tests.factories import product
from tests.shop.catalogue_fixtures import product_page_retire, product_view_writes
from tests.stores.factories import stock, store

pytestmark = pytest.mark.django_db

StockRecord = get_model("partner", "StockRecord")
SITE = "https://boutique.example.fr"
SCHEMA = "https://schema.org/"
JSONLD = re.compile(
    r'<script type="application/ld\+json" nonce="(?P<nonce>[^"]+)">(?P<body>.*?)</script>', re.S
)
AVAILABILITY = {SCHEMA + v for v in ("InStock", "OutOfStock", "LimitedAvailability")}


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


def product_jsonld(response) -> dict:
    """The page's one Product block, after checking it carries the response's CSP nonce."""
    html = response.content.decode()
    blocks = [m for m in JSONLD.finditer(html) if '"Product"' in m["body"]]
    assert len(blocks) == 1
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])[1]
    assert blocks[0]["nonce"] == nonce
    return json.loads(blocks[0]["body"])


def check_offer(offer: dict) -> None:
    """What schema.org (and search engines' local offers) expect of each Offer."""
    assert offer["@type"] == "Offer"
    assert re.fullmatch(r"\d+\.\d\d", offer["price"])
    assert offer["priceCurrency"] == "EUR"
    assert offer["availability"] in AVAILABILITY
    assert offer["url"].startswith(SITE + "/")
    place = offer["availableAtOrFrom"]
    assert place["@type"] == "Store"  # a LocalBusiness, which is a Place
    assert place["url"].startswith(f"{SITE}/stores/") and place["@id"] == place["url"]
    assert set(place["address"]) == {
        "@type",
        "streetAddress",
        "postalCode",
        "addressLocality",
        "addressCountry",
    }
    assert place["address"]["@type"] == "PostalAddress"
    assert place["geo"]["@type"] == "GeoCoordinates"
    assert isinstance(place["geo"]["latitude"], float)
    assert isinstance(place["geo"]["longitude"], float)


@pytest.fixture
def munster():
    item = product(
        "Munster",
        upc="4006381333931",
        price="5.00",
        description="<p>Un fromage <b>fort</b> &amp; crémeux.</p>\n<p>Affiné 5 semaines.</p>",
        attributes={"brand": "Ferme Haxaire"},
    )
    ProductImageFactory(product=item)
    centre = store("Centre", lat=48.5819, lng=7.7507)
    gare = store("Gare", lat=48.5850, lng=7.7350, pickup_enabled=False, line2="Hall 2")
    halles = store("Halles")
    stock(centre, item, 12, price="4.50", allocated=2)
    low = stock(gare, item, 3, price="4.80", allocated=1)
    StockRecord.objects.filter(pk=low.pk).update(low_stock_threshold=2)
    stock(halles, item, 4, price="4.60", allocated=4)
    stock(store("Fermé", is_active=False), item, 9)  # closed: no offer
    stock(store("Réserve"), item, 9, price=None)  # not for sale there: no offer
    return {"product": item, "centre": centre, "gare": gare, "halles": halles}


def test_the_product_page_carries_a_product_with_an_offer_per_store(client, munster):
    item, centre, gare = munster["product"], munster["centre"], munster["gare"]

    data = product_jsonld(client.get(item.get_absolute_url()))

    url = f"{SITE}/catalogue/munster_{item.pk}/"
    image = data.pop("image")
    offers = data.pop("offers")
    assert data == {
        "@context": "https://schema.org",
        "@type": "Product",
        "@id": url,
        "url": url,
        "name": "Munster",
        "description": "Un fromage fort & crémeux. Affiné 5 semaines.",
        "sku": "4006381333931",
        "gtin": "4006381333931",
        "brand": {"@type": "Brand", "name": "Ferme Haxaire"},
    }
    assert len(image) == 1 and image[0].startswith(f"{SITE}/media/")
    for offer in offers:
        check_offer(offer)
    assert [(o["availableAtOrFrom"]["name"], o["price"], o["availability"]) for o in offers] == [
        ("Centre", "4.50", SCHEMA + "InStock"),
        ("Gare", "4.80", SCHEMA + "LimitedAvailability"),
        ("Halles", "4.60", SCHEMA + "OutOfStock"),
    ]
    assert [o.get("availableDeliveryMethod") for o in offers] == [
        SCHEMA + "OnSitePickup",
        None,  # Gare offers no click & collect
        SCHEMA + "OnSitePickup",
    ]
    assert offers[0]["availableAtOrFrom"] == {
        "@type": "Store",
        "@id": f"{SITE}/stores/{centre.slug}/",
        "name": "Centre",
        "url": f"{SITE}/stores/{centre.slug}/",
        "address": {
            "@type": "PostalAddress",
            "streetAddress": centre.line1,
            "postalCode": "67000",
            "addressLocality": "Strasbourg",
            "addressCountry": "FR",
        },
        "geo": {"@type": "GeoCoordinates", "latitude": 48.5819, "longitude": 7.7507},
    }
    assert offers[1]["availableAtOrFrom"]["address"]["streetAddress"] == f"{gare.line1}, Hall 2"
    assert {o["url"] for o in offers} == {url}


def test_the_french_page_says_it_in_french(client, munster):
    item = munster["product"]
    item.title_fr = "Munster fermier"
    item.description_fr = "<p>Fromage <i>lavé</i></p>"
    item.save()

    with translation.override("fr"):
        path = item.get_absolute_url()
    data = product_jsonld(client.get(path))

    assert path.startswith("/fr/")
    assert (data["name"], data["description"]) == ("Munster fermier", "Fromage lavé")
    assert data["url"] == f"{SITE}{path}"
    assert {o["url"] for o in data["offers"]} == {f"{SITE}{path}"}


def test_no_text_of_a_product_can_end_the_script(client):
    title = "</script><script>alert(1)</script> & <!-- Munster"
    item = product(title, upc="<b>1</b>")
    stock(store("</script>"), item, 1, price="2.00")

    response = client.get(item.get_absolute_url())
    data = product_jsonld(response)

    block = JSONLD.search(response.content.decode())["body"]
    assert "<" not in block and ">" not in block and "&" not in block
    assert data["name"] == title
    assert data["sku"] == "<b>1</b>" and "gtin" not in data
    assert data["offers"][0]["availableAtOrFrom"]["name"] == "</script>"


def test_a_product_sold_nowhere_has_no_offers_and_no_optional_fields(client):
    item = product("Bretzel")

    data = product_jsonld(client.get(item.get_absolute_url()))

    assert data["offers"] == []
    assert set(data) == {"@context", "@type", "@id", "url", "name", "offers"}


@pytest.mark.parametrize("signed_in", [False, True], ids=["guest", "shopper"])
def test_more_stores_cost_no_more_queries(client, munster, signed_in, django_assert_num_queries):
    if signed_in:
        client.force_login(UserFactory())
    item = munster["product"]
    for i in range(6):  # enough stores nearby for the "in stock nearby" list's first look
        stock(store(f"Nouveau {i}"), item, 5, price="4.90")
    # The whole page, its shared parts rendered again (as after a stock change); the
    # JSON-LD's share is 1 of them: the stores' stock records with their stores (one query
    # for every store); images and brand are read with what the page shows
    # (shop/catalogue/product_page.py). A shopper's share: session, user, the empty
    # basket (read with whether it has lines, shop/basket_load.py), notifications, their
    # review, their wish lists (one query) and the dashboard link's answer stored for
    # them (shop/security/dashboard_link.py, no query once cached).
    expected = (18 if signed_in else 11) + product_view_writes(signed_in=signed_in)
    client.get(item.get_absolute_url())  # caches filled
    product_page_retire(item)
    with django_assert_num_queries(expected):
        first = product_jsonld(client.get(item.get_absolute_url()))
    for i in range(8):
        stock(store(f"Encore {i}"), item, 5, price="4.90")
    client.get(item.get_absolute_url())
    product_page_retire(item)

    with django_assert_num_queries(expected):
        more = product_jsonld(client.get(item.get_absolute_url()))

    assert (len(first["offers"]), len(more["offers"])) == (9, 17)
