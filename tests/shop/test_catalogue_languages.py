"""Catalogue text per language and the language of a first visit (README "Languages")."""

import io

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation
from oscar.core.loading import get_class, get_model

from tests.factories import category, product
from tests.shop.dashboard.stock_fixtures import stock_form_data

Category = get_model("catalogue", "Category")
Product = get_model("catalogue", "Product")

pytestmark = pytest.mark.django_db

FRENCH_BROWSER = "fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7"


def translated_cheese():
    """A category and a product with English and French text."""
    cheese = category("Cheese")
    cheese.name_fr = "Fromages"
    cheese.description_fr = "<p>Coupés à la demande.</p>"
    cheese.description_en = "<p>Cut to order.</p>"
    cheese.save()
    munster = product("Munster cheese", categories=[cheese], description="<p>Pungent.</p>")
    munster.title_fr = "Fromage de Munster"
    munster.description_fr = "<p>Puissant à l'extérieur.</p>"
    munster.save()
    return cheese, munster


def url_in(language: str, obj) -> str:
    with translation.override(language):
        return obj.get_absolute_url()


def test_french_product_page_shows_the_french_title_and_description(client):
    _, munster = translated_cheese()

    french = client.get(url_in("fr", munster))
    english = client.get(url_in("en", munster))

    assert french.status_code == english.status_code == 200
    assert url_in("fr", munster).startswith("/fr/")
    assert ">Fromage de Munster</h1>" in french.text
    assert "Puissant à l&#x27;extérieur." in french.text or "Puissant à l'extérieur." in (
        french.text
    )
    assert "Munster cheese" not in french.text
    assert ">Munster cheese</h1>" in english.text
    assert "Pungent." in english.text
    assert "Fromage de Munster" not in english.text


def test_french_category_page_shows_the_french_name(client):
    cheese, _ = translated_cheese()

    french = client.get(url_in("fr", cheese))
    english = client.get(url_in("en", cheese))

    assert french.status_code == english.status_code == 200
    assert "<h1>Fromages</h1>" in french.text
    assert "Coupés à la demande." in french.text
    assert "Fromage de Munster" in french.text
    assert "<h1>Cheese</h1>" in english.text
    assert "Fromages" not in english.text


def test_text_only_in_english_is_shown_on_french_pages(client):
    bread = category("Bakery")
    loaf = product("Country loaf", categories=[bread], description="<p>Crusty.</p>")

    page = client.get(url_in("fr", loaf))
    listing = client.get(url_in("fr", bread))

    assert (loaf.title_en, loaf.title_fr) == ("Country loaf", None)
    assert ">Country loaf</h1>" in page.text
    assert "Crusty." in page.text
    assert "<h1>Bakery</h1>" in listing.text
    assert "Country loaf" in listing.text


def test_french_search_finds_french_titles_and_untranslated_english_ones(client):
    translated_cheese()
    product("Country loaf")

    french = client.get("/fr/search/", {"q": "fromage"})
    french_untranslated = client.get("/fr/search/", {"q": "loaf"})
    english = client.get("/search/", {"q": "fromage"})

    with translation.override("fr"):
        assert [p.title for p in french.context["results"]] == ["Fromage de Munster"]
        assert [p.title for p in french_untranslated.context["results"]] == ["Country loaf"]
    assert list(english.context["results"]) == []


def test_french_listing_is_sorted_by_the_titles_shown(client):
    shop = category("Shop")
    for english, french in [("Apple juice", "Jus de pomme"), ("Zucchini", "Courgette")]:
        item = product(english, categories=[shop])
        item.title_fr = french
        item.save()
    product("Bread", categories=[shop])

    french = client.get(url_in("fr", shop), {"sort_by": "title-asc"})
    english = client.get(url_in("en", shop), {"sort_by": "title-asc"})

    with translation.override("fr"):
        titles = [p.title for p in french.context["products"]]
    assert titles == ["Bread", "Courgette", "Jus de pomme"]
    assert [p.title for p in english.context["products"]] == ["Apple juice", "Bread", "Zucchini"]


def test_pages_cached_in_one_language_are_not_served_in_the_other(client):
    # The real cache (Redis in CI): anything cached while rendering the English pages,
    # e.g. Oscar's category URLs, must not leak into the French ones, nor back.
    cache.clear()
    cheese, munster = translated_cheese()

    english_home = client.get("/")
    french_home = client.get("/fr/")
    english_again = client.get("/")
    french_category = client.get(url_in("fr", cheese))

    assert "Cheese" in english_home.text and "Fromages" not in english_home.text
    assert "Fromages" in french_home.text and "Fromage de Munster" in french_home.text
    assert f'href="{url_in("fr", cheese)}"' in french_home.text
    assert "Munster cheese" not in french_home.text
    assert english_again.text.count("Fromage") == 0
    assert f'href="{url_in("en", cheese)}"' in english_again.text
    assert "<h1>Fromages</h1>" in french_category.text


def test_dashboard_product_form_saves_english_and_french(client, admin_user):
    item = product("Munster cheese", categories=[category("Cheese")])
    client.force_login(admin_user)
    url = reverse("dashboard:catalogue-product", kwargs={"pk": item.pk})

    page = client.get(url)
    response = client.post(
        url,
        {
            **stock_form_data(item, item.stockrecords.get(), num_in_stock=10),
            "title_en": "Munster AOP",
            "title_fr": "Munster AOP au lait cru",
            "description_en": "<p>Washed rind.</p>",
            "description_fr": "<p>Croûte lavée.</p><script>alert(1)</script>",
        },
    )

    assert page.status_code == 200
    assert "Title (English)" in page.text and "Title (French)" in page.text
    assert "Description (French)" in page.text
    assert response.status_code == 302, [
        (name, response.context[name].errors)
        for name in ("form", "stockrecord_formset", "category_formset", "image_formset")
        if name in response.context and response.context[name].errors
    ]
    item.refresh_from_db()
    assert (item.title_en, item.title_fr) == ("Munster AOP", "Munster AOP au lait cru")
    assert (item.description_en, item.description_fr) == (
        "<p>Washed rind.</p>",
        "<p>Croûte lavée.</p>",
    )
    # The untranslated column keeps the English text for readers without the translation layer.
    assert Product.objects.filter(pk=item.pk).values_list("title", flat=True).get() == (
        "Munster AOP"
    )


def test_dashboard_category_form_saves_english_and_french():
    form_class = get_class("dashboard.catalogue.forms", "CategoryForm")
    missing_english = form_class(data={"name_fr": "Fromages", "treebeard_position": "first-child"})
    form = form_class(
        data={
            "name_en": "Cheese",
            "name_fr": "Fromages",
            "description_en": "<p>Cut to order.</p>",
            "description_fr": "<p>Coupés à la demande.</p>",
            "is_public": "on",
            "treebeard_position": "first-child",
            "treebeard_ref_node": "",
        }
    )

    assert not missing_english.is_valid()
    assert list(missing_english.errors) == ["name_en"]
    assert form.is_valid(), form.errors
    saved = Category.objects.get(pk=form.save().pk)
    assert (saved.name_en, saved.name_fr, saved.slug) == ("Cheese", "Fromages", "cheese")
    assert saved.description_fr == "<p>Coupés à la demande.</p>"
    with translation.override("fr"):
        assert saved.name == "Fromages"
    with translation.override("en"):
        assert saved.name == "Cheese"


def test_first_visit_follows_the_browser_language(client):
    french_first = client.get("/", HTTP_ACCEPT_LANGUAGE=FRENCH_BROWSER)
    french_deep = client.get("/catalogue/?sort_by=newest", HTTP_ACCEPT_LANGUAGE=FRENCH_BROWSER)
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    no_header = client.get("/")

    assert (french_first.status_code, french_first["Location"]) == (302, "/fr/")
    assert french_deep["Location"] == "/fr/catalogue/?sort_by=newest"
    assert "Accept-Language" in french_first["Vary"] and "Cookie" in french_first["Vary"]
    assert english.status_code == no_header.status_code == 200
    assert "Accept-Language" in english["Vary"]
    assert client.get("/fr/", HTTP_ACCEPT_LANGUAGE="en").status_code == 200


def test_the_language_chosen_wins_over_the_browser_language(client):
    # A French browser chooses English with the language switcher...
    chosen = client.post(
        reverse("set_language"),
        {"language": "en", "next": "/"},
        HTTP_ACCEPT_LANGUAGE=FRENCH_BROWSER,
    )
    home = client.get("/", HTTP_ACCEPT_LANGUAGE=FRENCH_BROWSER)
    # ...and an English one chooses French.
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    french_choice = client.get("/stores/", HTTP_ACCEPT_LANGUAGE="en")

    assert chosen.status_code == 302
    assert home.status_code == 200
    assert '<html lang="en"' in home.text
    assert french_choice["Location"] == "/fr/stores/"


def test_only_pages_with_a_french_version_are_redirected(client):
    post = client.post("/basket/add/1/", HTTP_ACCEPT_LANGUAGE=FRENCH_BROWSER)
    health = client.get("/health/", HTTP_ACCEPT_LANGUAGE=FRENCH_BROWSER)
    worker = client.get("/sw.js", HTTP_ACCEPT_LANGUAGE=FRENCH_BROWSER)

    assert post.status_code != 302 or not post["Location"].startswith("/fr/")
    assert health.status_code == 200
    assert worker.status_code == 200


def test_store_map_zoom_buttons_are_named_in_the_page_language(client):
    from tests.stores.factories import store

    shop = store("Petite France")

    french = client.get(f"/fr/stores/{shop.slug}/")
    english = client.get(f"/stores/{shop.slug}/")

    assert 'data-zoom-in="Zoom avant"' in french.text
    assert 'data-zoom-out="Zoom arrière"' in french.text
    assert 'data-zoom-in="Zoom in"' in english.text
    assert 'data-zoom-out="Zoom out"' in english.text


def test_seed_gives_the_demo_catalogue_french_text_and_keeps_staff_edits(client):
    from django.core.management import call_command

    from shop.demo.catalogue import CATEGORIES, PRODUCTS

    def seed() -> str:
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        return out.getvalue()

    demo_rows = len(CATEGORIES) + len(PRODUCTS)
    first = seed()
    espresso = Product.objects.get(upc="3770015010017")
    espresso.title_fr = "Espresso maison"
    espresso.save()
    Product.objects.filter(upc="3770015020016").update(title_fr=None, description_fr=None)
    second = seed()

    assert f"French catalogue text: {demo_rows} created, 0 existing" in first
    assert f"French catalogue text: 1 created, {demo_rows - 1} existing" in second
    espresso.refresh_from_db()
    assert espresso.title_fr == "Espresso maison"
    assert Product.objects.get(upc="3770015020016").title_fr == "Kougelhopf, 500 g"
    assert not Product.objects.filter(upc__in=[p.upc for p in PRODUCTS], title_fr=None).exists()
    assert not Category.objects.filter(name_fr=None).exists()
    groceries = Category.objects.get(name_en="Groceries")
    assert "<h1>Épicerie</h1>" in client.get(url_in("fr", groceries)).text
    assert "<h1>Groceries</h1>" in client.get(url_in("en", groceries)).text
