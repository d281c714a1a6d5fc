"""Factories for our tests, built on Oscar's own (oscar.test.factories)."""

from decimal import Decimal

from oscar.core.loading import get_model
from oscar.test.factories import CategoryFactory, create_product

Country = get_model("address", "Country")
Category = get_model("catalogue", "Category")


# A shipping address in France, as the checkout's form posts it.
ADDRESS = {
    "first_name": "Léa",
    "last_name": "Muller",
    "line1": "12 rue des Juifs",
    "line4": "Strasbourg",
    "postcode": "67000",
    "country": "FR",
    "phone_number": "",
}


def shipping_country(code: str = "FR") -> "Country":
    names = {"FR": ("FRA", "250", "France"), "GB": ("GBR", "826", "United Kingdom")}
    a3, numeric, name = names[code]
    country, _ = Country.objects.get_or_create(
        iso_3166_1_a2=code,
        defaults={
            "iso_3166_1_a3": a3,
            "iso_3166_1_numeric": numeric,
            "printable_name": name,
            "name": name,
            "is_shipping_country": True,
        },
    )
    return country


def category(name: str, parent: "Category | None" = None) -> "Category":
    if parent is None:
        return CategoryFactory(name=name)
    return parent.add_child(name=name)


def product(title: str, *, price: str = "9.99", stock: int = 10, categories=(), **kwargs):
    """A public product with one stock record and the given categories."""
    item = create_product(title=title, price=Decimal(price), num_in_stock=stock, **kwargs)
    for cat in categories:
        item.categories.add(cat)
    return item
