"""shop/catalogue/product_page.py: the product page's shared parts come from the cache, and
a cached part never shows what changed since, another store's stock, another language or
host, nor anything of one shopper's to another (bench/README.md, "pages_at_size.py")."""

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from oscar.core.loading import get_model
from oscar.test.factories import ProductAttributeFactory, ProductImageFactory, UserFactory

from stores.selectors import SESSION_STORE_KEY
from tests.factories import category, product
from tests.stores.factories import stock, store

pytestmark = pytest.mark.django_db

ProductAlert = get_model("customer", "ProductAlert")
ProductRecommendation = get_model("catalogue", "ProductRecommendation")
ProductReview = get_model("reviews", "ProductReview")
StockRecord = get_model("partner", "StockRecord")
JSONLD = re.compile(
    r'<script type="application/ld\+json" nonce="(?P<nonce>[^"]*)">(?P<body>.*?)</script>', re.S
)


def page(client: Client, item, prefix: str = "", **extra) -> str:
    response = client.get(prefix + item.get_absolute_url(), **extra)
    assert response.status_code == 200
    return response.content.decode()


def choose(client: Client, chosen) -> None:
    session = client.session
    session[SESSION_STORE_KEY] = chosen.pk
    session.save()


def main_part(html: str) -> str:
    return html.split('<div class="product_main product-detail__main">', 1)[1].split(
        "</article>", 1
    )[0]


def test_a_stock_change_an_order_and_a_new_title_show_at_once(client):
    item = product("Munster", price="4.90", stock=1)
    first = page(client, item)

    # Oscar allocates the stock of an order's lines at checkout.
    StockRecord.objects.get(product=item).allocate(1)
    sold_out = page(client, item)
    record = StockRecord.objects.get(product=item)
    record.price = "5.20"
    record.save()
    repriced = page(client, item)
    item.title = "Munster fermier"
    item.save()
    renamed = page(client, item)

    assert "Add to cart" in first
    assert "Add to cart" not in sold_out and "Notify me" in sold_out
    assert "€5.20" in repriced and "€4.90" not in repriced
    assert '<h1 class="product-detail__title">Munster fermier</h1>' in renamed


def test_attributes_categories_images_and_reviews_show_at_once(client):
    item = product("Munster")
    before = page(client, item)
    attribute = ProductAttributeFactory(
        product_class=item.get_product_class(), name="Pairing", code="pairing", type="text"
    )
    attribute.save_value(item, "Gewurztraminer")
    with_attribute = page(client, item)
    cheese = category("Cheese")
    item.categories.add(cheese)
    in_category = page(client, item)
    cheese.name = "Fromages"
    cheese.save()
    renamed_category = page(client, item)
    ProductImageFactory(product=item, caption="Munster on a board")
    with_image = page(client, item)
    ProductReview.objects.create(
        product=item, title="Great", body="Creamy", score=5, status=ProductReview.APPROVED,
        user=UserFactory(),
    )  # fmt: skip
    reviewed = page(client, item)

    assert "Gewurztraminer" not in before and "Gewurztraminer" in with_attribute
    assert ">Cheese</a></li>" in in_category
    assert ">Fromages</a></li>" in renamed_category and ">Cheese</a></li>" not in renamed_category
    assert 'alt="Munster on a board"' in with_image
    assert "1 customer review</a>" in reviewed and "Creamy" in reviewed
    assert "does not have any reviews yet" not in reviewed


def test_the_stock_follows_the_chosen_store_and_the_language(client):
    item = product("Pinot gris", stock=0)
    centre, gare = store("Centre"), store("Gare")
    stock(centre, item, 3)

    online = main_part(page(client, item))
    choose(client, centre)
    at_centre = main_part(page(client, item))
    choose(client, gare)
    at_gare = main_part(page(client, item))
    in_french = main_part(page(client, item, "/fr"))

    assert "Choose your store to see its stock" in online
    assert "In stock at Centre (3)" in at_centre and "Add to cart" in at_centre
    assert "Not in stock at Gare" in at_gare and "Add to cart" not in at_gare
    assert "Pas en stock à Gare" in in_french and "Not in stock" not in in_french


def test_links_follow_the_host(client, settings):
    settings.ALLOWED_HOSTS = ["shop.example", "www.shop.example"]
    item = product("Bretzel")

    one = page(client, item, HTTP_HOST="shop.example")
    two = page(client, item, HTTP_HOST="www.shop.example")

    assert "http://shop.example/catalogue/" in one and "www.shop.example" not in one
    assert "http://www.shop.example/catalogue/" in two


def test_nothing_of_one_shopper_reaches_another():
    item = product("Riesling", stock=0)
    buyer = get_user_model().objects.create_user("ann", "ann@example.com", "x")
    ProductAlert.objects.create(product=item, user=buyer, status=ProductAlert.ACTIVE)
    staff = get_user_model().objects.create_user(
        "sam", "sam@example.com", "x", is_superuser=True, is_staff=True
    )
    ann, sam, guest = Client(), Client(), Client()
    ann.force_login(buyer)
    sam.force_login(staff)

    seen = {
        name: page(client, item) for name, client in (("ann", ann), ("sam", sam), ("guest", guest))
    }

    assert "You have an active stock alert for this product." in seen["ann"]
    assert "active stock alert" not in seen["guest"] + seen["sam"]
    assert 'id="write_review"' in seen["ann"] and 'id="write_review"' not in seen["guest"]
    assert "Edit this product" in seen["sam"]
    assert "Edit this product" not in seen["ann"] + seen["guest"]
    assert 'name="email"' in seen["guest"]  # a guest's alert form asks for an address
    assert 'name="email"' not in seen["ann"]


def test_the_jsonld_is_cached_but_each_response_has_its_own_nonce(client):
    item = product("Munster", price="4.90")
    stock(store("Centre"), item, 3, price="4.90")

    first, second = page(client, item), page(client, item)
    one, two = JSONLD.search(first), JSONLD.search(second)
    record = StockRecord.objects.get(product=item, partner__store__isnull=False)
    record.num_in_stock = 0
    record.save()  # an ORM write, as the dashboard's and the counter's are
    after = json.loads(JSONLD.search(page(client, item))["body"])

    assert one["nonce"] and two["nonce"] and one["nonce"] != two["nonce"]
    assert json.loads(one["body"]) == json.loads(two["body"])
    assert json.loads(one["body"])["offers"][0]["availability"].endswith("InStock")
    assert after["offers"][0]["availability"].endswith("OutOfStock")


def test_recommended_items_are_cards_in_the_managers_ranking(client):
    item = product("Munster")
    first, second = product("Riesling"), product("Bretzel")
    hidden = product("Old stock")
    hidden.is_public = False
    hidden.save()
    for ranking, other in ((1, first), (5, second), (9, hidden)):
        ProductRecommendation.objects.create(primary=item, recommendation=other, ranking=ranking)

    html = page(client, item)
    shelf = html.split("<h2>Recommended items</h2>", 1)[1].split("</section>", 1)[0]

    assert re.findall(r">([^<>]+)</a></h3>", shelf) == ["Bretzel", "Riesling"]
    assert reverse("basket:add", kwargs={"pk": second.pk}) in shelf


def recommended(client: Client, item) -> list[str]:
    html = page(client, item)
    if "<h2>Recommended items</h2>" not in html:
        return []
    shelf = html.split("<h2>Recommended items</h2>", 1)[1].split("</section>", 1)[0]
    return re.findall(r">([^<>]+)</a></h3>", shelf)


def test_the_recommendations_cached_with_the_page_follow_every_change(client):
    item = product("Munster")
    first, second, third = product("Riesling"), product("Bretzel"), product("Kougelhopf")
    row = ProductRecommendation.objects.create(primary=item, recommendation=first, ranking=1)
    assert recommended(client, item) == ["Riesling"]

    # A row of the dashboard's formset saved (a new ranking), added, deleted...
    ProductRecommendation.objects.create(primary=item, recommendation=second, ranking=5)
    assert recommended(client, item) == ["Bretzel", "Riesling"]
    row.ranking = 9
    row.save()
    assert recommended(client, item) == ["Riesling", "Bretzel"]
    row.delete()
    assert recommended(client, item) == ["Bretzel"]
    # ... and the many-to-many from either side.
    item.recommended_products.add(third, through_defaults={"ranking": 7})
    assert recommended(client, item) == ["Kougelhopf", "Bretzel"]
    third.primary_recommendations.all().delete()  # nothing recommended *with* Kougelhopf
    second.recommended_products.clear()
    item.recommended_products.remove(second)
    assert recommended(client, item) == ["Kougelhopf"]
    item.recommended_products.clear()
    assert recommended(client, item) == []


def test_the_wish_list_menu_knows_which_lists_hold_the_product(client):
    wish_list = get_model("wishlists", "WishList")
    item, other = product("Munster"), product("Riesling")
    shopper = UserFactory()
    client.force_login(shopper)
    holding = wish_list.objects.create(owner=shopper, name="Cheeses")
    holding.add(item)
    empty = wish_list.objects.create(owner=shopper, name="Wines")
    wish_list.objects.create(owner=UserFactory(), name="Somebody else's").add(item)

    html = page(client, item)

    def add_url(w):
        return reverse(
            "customer:wishlists-add-product", kwargs={"key": w.key, "product_pk": item.pk}
        )

    def remove_url(w):
        return reverse(
            "customer:wishlists-remove-product", kwargs={"key": w.key, "product_pk": item.pk}
        )

    assert (add_url(empty) in html, add_url(holding) in html) == (True, False)
    assert (remove_url(holding) in html, remove_url(empty) in html) == (True, False)
    assert "Somebody else" not in html
    assert re.findall(r"Product is in <a [^>]*>'([^']+)'</a> wishlist", html) == ["Cheeses"]
    assert re.findall(r"Add to '([^']+)' wish list", html) == ["Wines"]
    # Another product: both lists are offered, none holds it.
    other_html = page(client, other)
    assert "Product is in" not in other_html
    assert re.findall(r"Add to '([^']+)' wish list", other_html) == ["Cheeses", "Wines"]
    assert all(
        reverse("customer:wishlists-add-product", kwargs={"key": w.key, "product_pk": other.pk})
        in other_html
        for w in (holding, empty)
    )


def test_the_menu_follows_a_renamed_category_and_the_language(client):
    cheese = category("Cheese")
    product("Munster", categories=[cheese])
    home = reverse("home")

    before = client.get(home).content.decode()
    cheese.name_fr = "Fromages"
    cheese.save()
    in_french = client.get("/fr" + home).content.decode()
    cheese.name_en = "Cheeses"
    cheese.save()
    after = client.get(home).content.decode()

    menu = re.compile(r'<nav class="catnav".*?</nav>', re.S)
    assert ">Cheese</a></li>" in menu.search(before).group(0)
    assert ">Fromages</a></li>" in menu.search(in_french).group(0)
    assert ">Cheeses</a></li>" in menu.search(after).group(0)


def test_the_cached_menu_marks_the_page_it_is_on(client):
    """The menu is one cached fragment per language and page (nav_primary.html): each
    page gets its own active link, never another's."""
    cheese, wine = category("Cheese"), category("Wine")
    product("Munster", categories=[cheese])
    product("Riesling", categories=[wine])
    menu = re.compile(r'<nav class="catnav".*?</nav>', re.S)
    active = re.compile(r'catnav__link is-active" href="[^"]*">([^<]+)</a>')

    def active_links(url: str) -> list[str]:
        return active.findall(menu.search(client.get(url).content.decode()).group(0))

    pages = {
        reverse("home"): [],
        reverse("catalogue:index"): ["All products"],
        cheese.get_absolute_url(): ["Cheese"],
        wine.get_absolute_url(): ["Wine"],
        reverse("stores:locator"): ["Stores"],
        "/fr" + reverse("catalogue:index"): ["Tous les produits"],
    }
    for _ in range(2):  # rendered, then from the cache
        assert {url: active_links(url) for url in pages} == pages


def test_recently_viewed_products_are_cards_newest_first_without_the_current_one(client):
    munster, riesling, bretzel = product("Munster"), product("Riesling"), product("Bretzel")
    for item in (munster, riesling, bretzel):
        page(client, item)
    html = page(client, munster)
    client.cookies["oscar_history"] = f'["garbage", 1.5, true, {riesling.pk}]'
    tolerant = page(client, munster)

    shelf = html.split("<h2>Products you recently viewed</h2>", 1)[1].split("</section>", 1)[0]
    assert re.findall(r">([^<>]+)</a></h3>", shelf) == ["Bretzel", "Riesling"]
    kept = tolerant.split("<h2>Products you recently viewed</h2>", 1)[1].split("</section>", 1)[0]
    assert re.findall(r">([^<>]+)</a></h3>", kept) == ["Riesling"]


def test_the_cached_product_follows_its_visibility_slug_and_deletion(client):
    """The product itself is cached with the parts (`product_cached`): a product taken
    off the shop, given a new URL or deleted answers so at once."""
    item = product("Munster", stock=5)
    url = item.get_absolute_url()
    for _ in range(2):  # versions made, then the product cached
        assert client.get(url).status_code == 200

    item.is_public = False
    item.save()
    assert client.get(url).status_code == 404
    item.is_public = True
    item.slug = "munster-fermier"
    item.save()
    moved = client.get(url)
    assert (moved.status_code, moved["Location"]) == (301, item.get_absolute_url())
    new_url = item.get_absolute_url()
    assert client.get(new_url).status_code == 200
    item.delete()
    assert client.get(new_url).status_code == 404
