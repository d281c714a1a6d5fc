"""Catalogue data that cannot hurt: no negative price anywhere, no script in a description.

A price below zero is refused by the database (CHECK) and by the catalogue managers' stock
form, so no order can total below zero because of one. Descriptions are cleaned to an
allow-list when saved in the dashboard and again when printed, so HTML imported another
way never reaches the page with a script, an event handler or a `javascript:` link.
"""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.template import Context, Template
from django.urls import reverse
from oscar.core.loading import get_class, get_model
from oscar.test.factories import (
    ProductAttributeFactory,
    create_basket,
    create_order,
    create_product,
)

from tests.factories import category

StockRecord = get_model("partner", "StockRecord")
Category = get_model("catalogue", "Category")
Product = get_model("catalogue", "Product")

pytestmark = pytest.mark.django_db

HOSTILE = (
    "<p>Washed rind, <strong>strong</strong> smell, <em>mild</em> taste.</p>"
    "<script>alert('script')</script>"
    "<img src=x onerror=\"alert('onerror')\">"
    "<p onclick=\"alert('onclick')\">Click</p>"
    "<a href=\"javascript:alert('link')\">Win</a>"
    "<a href=\"JaVaScRiPt:alert('mixed-case')\">Win again</a>"
    '<a href="https://example.com/munster" title="Farm">Farm</a>'
    '<iframe src="https://evil.example/"></iframe><style>body{display:none}</style>'
)
CLEAN = (
    "<p>Washed rind, <strong>strong</strong> smell, <em>mild</em> taste.</p>"
    "<p>Click</p>"
    '<a rel="noopener nofollow">Win</a>'
    '<a rel="noopener nofollow">Win again</a>'
    '<a href="https://example.com/munster" title="Farm" rel="noopener nofollow">Farm</a>'
)
# Escaped text is harmless (the meta description is the description's text); these are not.
NOTHING_OF = (
    "<script>alert",
    "onerror=",
    "onclick=",
    "javascript:",
    "<iframe",
    "evil.example",
    "<style>body",
)


def assert_harmless(html: str) -> None:
    for fragment in NOTHING_OF:
        assert fragment not in html.lower(), fragment


# --- Prices ------------------------------------------------------------------------------


def test_database_refuses_a_negative_price():
    record = create_product(price=Decimal("9.99")).stockrecords.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        StockRecord.objects.filter(pk=record.pk).update(price=Decimal("-50.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        StockRecord.objects.create(
            product=record.product,
            partner=record.partner,
            partner_sku="negative",
            price=Decimal("-0.01"),
            num_in_stock=1,
        )

    record.refresh_from_db()
    assert record.price == Decimal("9.99")
    # No price at all stays possible: the product is then not for sale from that partner.
    StockRecord.objects.filter(pk=record.pk).update(price=None)
    StockRecord.objects.filter(pk=record.pk).update(price=Decimal("0.00"))


def test_an_order_cannot_total_below_zero_through_a_negative_price():
    product = create_product(price=Decimal("9.99"), num_in_stock=5)
    record = product.stockrecords.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        StockRecord.objects.filter(pk=record.pk).update(price=Decimal("-50.00"))

    basket = create_basket(empty=True)
    basket.add_product(product, 1)
    order = create_order(basket=basket, guest_email="guest@example.com")

    assert order.total_incl_tax == Decimal("9.99")
    assert order.lines.get().unit_price_incl_tax == Decimal("9.99")


def stock_form(record, price: str):
    # Oscar's loader finds our fork of the form, as the catalogue dashboard does.
    form_class = get_class("dashboard.catalogue.forms", "StockRecordForm")
    from django.contrib.auth import get_user_model

    manager, _created = get_user_model().objects.get_or_create(
        username="cm@example.com", defaults={"email": "cm@example.com", "is_staff": True}
    )
    return form_class(
        record.product.get_product_class(),
        manager,
        data={
            "partner": record.partner_id,
            "partner_sku": record.partner_sku,
            "price_currency": "EUR",
            "price": price,
            "num_in_stock": "5",
            "low_stock_threshold": "",
        },
        instance=record,
    )


def test_catalogue_stock_form_refuses_a_negative_price_with_a_message():
    record = create_product(price=Decimal("9.99"), num_in_stock=5).stockrecords.get()

    refused = stock_form(record, "-50.00")
    accepted = stock_form(record, "0.00")

    assert not refused.is_valid()
    assert refused.errors == {"price": ["A price can't be negative."]}
    assert accepted.is_valid(), accepted.errors
    accepted.save()
    record.refresh_from_db()
    assert record.price == Decimal("0.00")


def test_catalogue_product_page_shows_the_price_error(client):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("hq@example.com", "hq@example.com", "pw")
    product = create_product(title="Munster", price=Decimal("9.99"), num_in_stock=5)
    record = product.stockrecords.get()
    client.force_login(admin)
    url = reverse("dashboard:catalogue-product", kwargs={"pk": product.pk})
    data = {
        "title_en": product.title,
        "upc": product.upc or "",
        "description_en": product.description,
        "is_public": "on",
        "structure": product.structure,
        "slug": product.slug,
        "stockrecords-TOTAL_FORMS": "1",
        "stockrecords-INITIAL_FORMS": "1",
        "stockrecords-MIN_NUM_FORMS": "0",
        "stockrecords-MAX_NUM_FORMS": "1000",
        "stockrecords-0-id": record.pk,
        "stockrecords-0-product": product.pk,
        "stockrecords-0-partner": record.partner_id,
        "stockrecords-0-partner_sku": record.partner_sku,
        "stockrecords-0-price_currency": "EUR",
        "stockrecords-0-price": "-50.00",
        "stockrecords-0-num_in_stock": "5",
        "productcategory_set-TOTAL_FORMS": "0",
        "productcategory_set-INITIAL_FORMS": "0",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "recommended_products-TOTAL_FORMS": "0",
        "recommended_products-INITIAL_FORMS": "0",
        "attributes-TOTAL_FORMS": "0",
        "attributes-INITIAL_FORMS": "0",
    }

    page = client.post(url, data)

    assert page.status_code == 200
    assert "A price can&#x27;t be negative." in page.content.decode()
    record.refresh_from_db()
    assert record.price == Decimal("9.99")


# --- Descriptions ------------------------------------------------------------------------


def test_filter_keeps_the_allow_list_and_drops_the_rest():
    rendered = Template("{% load shop_html %}{{ value|sanitized }}").render(
        Context({"value": HOSTILE})
    )
    empty = Template("{% load shop_html %}[{{ value|sanitized }}]").render(Context({"value": None}))

    assert rendered == CLEAN
    assert empty == "[]"


def test_product_page_prints_an_imported_description_harmlessly(client):
    # Imported straight into the database, past any form.
    product = create_product(title="Munster", price=Decimal("9.99"), num_in_stock=3)
    Product.objects.filter(pk=product.pk).update(description=HOSTILE)

    html = client.get(product.get_absolute_url()).content.decode()

    assert CLEAN in html
    assert_harmless(html)


def test_product_page_prints_rich_text_attributes_harmlessly(client):
    product = create_product(title="Munster", price=Decimal("9.99"), num_in_stock=3)
    attribute = ProductAttributeFactory(
        product_class=product.get_product_class(), name="Pairing", code="pairing", type="richtext"
    )
    attribute.save_value(product, HOSTILE)

    html = client.get(product.get_absolute_url()).content.decode()

    assert "Pairing" in html
    assert CLEAN in html
    assert_harmless(html)


def test_category_page_prints_imported_descriptions_harmlessly(client):
    cheese = category("Cheese")
    Category.objects.filter(pk=cheese.pk).update(description=HOSTILE, long_description=HOSTILE)
    create_product(title="Munster", price=Decimal("9.99"), num_in_stock=3).categories.add(cheese)

    html = client.get(cheese.get_absolute_url()).content.decode()

    assert html.count(CLEAN) == 2
    assert_harmless(html)


def test_dashboard_product_form_sanitises_on_save():
    product = create_product(title="Munster", price=Decimal("9.99"), num_in_stock=3)
    form_class = get_class("dashboard.catalogue.forms", "ProductForm")
    form = form_class(
        product.get_product_class(),
        data={
            "title_en": "Munster",
            "upc": "",
            "description_en": HOSTILE,
            "is_public": "on",
            "structure": product.structure,
            "slug": product.slug,
        },
        instance=product,
    )

    assert form.is_valid(), form.errors
    form.save()
    product.refresh_from_db()
    assert product.description == CLEAN


def test_dashboard_category_form_sanitises_on_save():
    form_class = get_class("dashboard.catalogue.forms", "CategoryForm")
    form = form_class(
        data={
            "name_en": "Cheese",
            "slug": "cheese",
            "description_en": HOSTILE,
            "is_public": "on",
            "treebeard_position": "first-child",
            "treebeard_ref_node": "",
        }
    )

    assert form.is_valid(), form.errors
    saved = form.save()
    assert Category.objects.get(pk=saved.pk).description == CLEAN
