"""The demo catalogue: categories and products of a small Strasbourg shop.

Plain data, read by `shop.demo.seed`: the categories here, the products in
products.json beside this module (upc, title, category path, price, description). A
product's UPC (a valid EAN-13 in the fictitious 3770015 company prefix) is its natural
key: never change one, or a re-run would create a second product.
"""

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path


@dataclass(frozen=True)
class CategorySpec:
    path: tuple[str, ...]
    description: str
    # Gradient of the generated product images (top-left, bottom-right).
    colours: tuple[str, str] = ("#5c6b73", "#253237")


@dataclass(frozen=True)
class ProductSpec:
    upc: str
    title: str
    category: tuple[str, ...]
    price: Decimal
    description: str


GROCERIES = ("Groceries",)
COFFEE = ("Groceries", "Coffee & tea")
BAKERY = ("Groceries", "Bakery")
CHEESE = ("Groceries", "Cheese")
WINE = ("Groceries", "Wine & beer")
SWEETS = ("Groceries", "Sweets & spreads")
HOME = ("Home",)
KITCHEN = ("Home", "Kitchen")
DECORATION = ("Home", "Decoration")
BEAUTY = ("Beauty",)
KIDS = ("Kids",)
GARDEN = ("Garden",)
ELECTRONICS = ("Electronics accessories",)

# Parents before their children.
CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec(GROCERIES, "Fresh and regional food from Alsace and beyond."),
    CategorySpec(
        COFFEE, "Beans roasted in Strasbourg, teas and herbal infusions.", ("#8d5b3e", "#3b2418")
    ),
    CategorySpec(BAKERY, "Baked every morning by our partner bakers.", ("#e0a458", "#9c5f1d")),
    CategorySpec(CHEESE, "Alsatian and Vosges cheeses, cut to order.", ("#f2d16b", "#c59b22")),
    CategorySpec(WINE, "Alsace wines, crémant and local craft beer.", ("#8e2c48", "#4a1024")),
    CategorySpec(SWEETS, "Honey, jams, gingerbread and treats.", ("#d9735b", "#8f3420")),
    CategorySpec(HOME, "Everything for the home."),
    CategorySpec(
        KITCHEN,
        "Cookware and tools, from Soufflenheim pottery to sharp knives.",
        ("#4f7c82", "#1f3d42"),
    ),
    CategorySpec(
        DECORATION, "Textiles, glass and gifts with an Alsatian touch.", ("#b48ead", "#6a4766")
    ),
    CategorySpec(BEAUTY, "Gentle soaps and care, mostly made in France.", ("#e8a0b4", "#a8506b")),
    CategorySpec(KIDS, "Toys, books and games for little ones.", ("#67b7d1", "#2a6f8a")),
    CategorySpec(GARDEN, "For balconies, courtyards and allotments.", ("#7fb069", "#3d6b2c")),
    CategorySpec(ELECTRONICS, "Chargers, cables and audio for your phone.", ("#5d6d7e", "#1c2833")),
)


def _products() -> tuple[ProductSpec, ...]:
    rows = json.loads((Path(__file__).with_name("products.json")).read_text(encoding="utf-8"))
    return tuple(
        ProductSpec(
            upc=row["upc"],
            title=row["title"],
            category=tuple(row["category"]),
            price=Decimal(row["price"]),
            description=row["description"],
        )
        for row in rows
    )


PRODUCTS: tuple[ProductSpec, ...] = _products()
