"""Demo countries and fulfilment partners: an online warehouse and four Strasbourg shops.

Partners are identified by `code`, countries by their ISO 3166-1 alpha-2 code.
"""

from dataclasses import dataclass

STRASBOURG = "Strasbourg"
FRANCE = "FR"


@dataclass(frozen=True)
class CountrySpec:
    iso_3166_1_a2: str
    iso_3166_1_a3: str
    iso_3166_1_numeric: str
    printable_name: str
    name: str


# Shipping countries for guest checkout; France first.
COUNTRIES: tuple[CountrySpec, ...] = (
    CountrySpec("FR", "FRA", "250", "France", "French Republic"),
    CountrySpec("DE", "DEU", "276", "Germany", "Federal Republic of Germany"),
    CountrySpec("BE", "BEL", "056", "Belgium", "Kingdom of Belgium"),
    CountrySpec("LU", "LUX", "442", "Luxembourg", "Grand Duchy of Luxembourg"),
    CountrySpec("CH", "CHE", "756", "Switzerland", "Swiss Confederation"),
    CountrySpec(
        "GB", "GBR", "826", "United Kingdom", "United Kingdom of Great Britain and Northern Ireland"
    ),
)


@dataclass(frozen=True)
class PartnerSpec:
    code: str
    name: str
    line1: str
    postcode: str
    # Prefix of the partner's SKUs: "<prefix>-<UPC>".
    sku_prefix: str
    is_physical: bool


ONLINE = PartnerSpec(
    code="online",
    name="Solomo Online",
    line1="24 rue du Havre",
    postcode="67100",
    sku_prefix="WEB",
    is_physical=False,
)

SHOPS: tuple[PartnerSpec, ...] = (
    PartnerSpec(
        code="strasbourg-centre",
        name="Solomo Strasbourg Centre",
        line1="12 rue des Grandes Arcades",
        postcode="67000",
        sku_prefix="CEN",
        is_physical=True,
    ),
    PartnerSpec(
        code="strasbourg-krutenau",
        name="Solomo Krutenau",
        line1="31 rue de Zurich",
        postcode="67000",
        sku_prefix="KRU",
        is_physical=True,
    ),
    PartnerSpec(
        code="strasbourg-neudorf",
        name="Solomo Neudorf",
        line1="90 route du Polygone",
        postcode="67100",
        sku_prefix="NEU",
        is_physical=True,
    ),
    PartnerSpec(
        code="strasbourg-robertsau",
        name="Solomo Robertsau",
        line1="78 rue Boecklin",
        postcode="67000",
        sku_prefix="ROB",
        is_physical=True,
    ),
)

# The online partner comes first: Oscar's default strategy prices a product
# from its first stock record, so it must be created before the shops' ones.
PARTNERS: tuple[PartnerSpec, ...] = (ONLINE, *SHOPS)
