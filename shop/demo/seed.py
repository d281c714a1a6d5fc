"""The writes behind `manage.py seed_demo`: each function adds what is missing, atomically.

Rows are found by natural keys (country code, category name path, product UPC,
partner code, user email). A row that already exists is never changed (except
that demo products and categories without French text get it), so the seed can run
again, or on a database that already holds other data.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.contrib.sites.models import Site
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q

from shop.security import roles
from shop.sites import site_domain

from .catalogue import CATEGORIES, PRODUCTS
from .catalogue_fr import CATEGORIES_FR, PRODUCTS_FR
from .images import product_image_jpeg
from .people import USERS, Role, UserSpec
from .places import COUNTRIES, FRANCE, PARTNERS, STRASBOURG, PartnerSpec

Category = apps.get_model("catalogue", "Category")
Country = apps.get_model("address", "Country")
Partner = apps.get_model("partner", "Partner")
PartnerAddress = apps.get_model("partner", "PartnerAddress")
Product = apps.get_model("catalogue", "Product")
ProductCategory = apps.get_model("catalogue", "ProductCategory")
ProductClass = apps.get_model("catalogue", "ProductClass")
ProductImage = apps.get_model("catalogue", "ProductImage")
StockRecord = apps.get_model("partner", "StockRecord")
User = get_user_model()

SITE_NAME = "Solomo"
PRODUCT_CLASS_SLUG = "standard"
PRODUCT_CLASS_NAME = "Standard"
# The role (shop/security/roles.py) each kind of demo account is given.
DEMO_ROLES: dict[Role, roles.Role] = {
    Role.STORE_STAFF: roles.STORE_STAFF_MEMBER,
    Role.CATALOGUE_MANAGER: roles.CATALOGUE_MANAGER,
    Role.MARKETER: roles.MARKETER,
    Role.SUPPORT: roles.SUPPORT_AGENT,
}


class SeedError(Exception):
    """The database holds something the seed cannot work with; the message says what."""


@dataclass
class Tally:
    created: int = 0
    existing: int = 0
    # Rows deliberately not written, with the reason.
    skipped: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.existing


@dataclass(frozen=True)
class DemoLogin:
    spec: UserSpec
    created: bool
    # Whether the demo password signs this user in (False for another person's account).
    demo_password_works: bool


def stock_level(*, partner: PartnerSpec, upc: str) -> int | None:
    """Units of a product a partner holds, or None if it does not sell it.

    Seeded by partner and UPC, so the answer is the same on every run and does
    not move when products are added to or reordered in the catalogue.
    """
    rng = random.Random(f"solomo-demo:{partner.code}:{upc}")
    if not partner.is_physical:
        return rng.randint(20, 200)
    if rng.random() < 0.15:
        return None
    if rng.random() < 0.15:
        return 0
    return rng.randint(1, 25)


@transaction.atomic
def site_seed() -> bool:
    """Name the current Site after the shop if it still has Django's example.com; True if so."""
    # The domain is SITE_URL's (shop.sites keeps it so on every migrate).
    site, created = Site.objects.get_or_create(
        pk=settings.SITE_ID, defaults={"name": SITE_NAME, "domain": site_domain()}
    )
    if created:
        return True
    if site.domain != "example.com":
        return False
    site.name, site.domain = SITE_NAME, site_domain()
    site.save(update_fields=["name", "domain"])
    return True


@transaction.atomic
def countries_seed() -> Tally:
    """France and its neighbours as shipping countries (existing countries are left as they are)."""
    tally = Tally()
    for spec in COUNTRIES:
        _, created = Country.objects.get_or_create(
            iso_3166_1_a2=spec.iso_3166_1_a2,
            defaults={
                "iso_3166_1_a3": spec.iso_3166_1_a3,
                "iso_3166_1_numeric": spec.iso_3166_1_numeric,
                "printable_name": spec.printable_name,
                "name": spec.name,
                "is_shipping_country": True,
            },
        )
        if created:
            tally.created += 1
        else:
            tally.existing += 1
    return tally


@transaction.atomic
def categories_seed() -> tuple[Tally, dict[tuple[str, ...], "Category"]]:
    """The category tree, matched by name under the same parent; returns them by path."""
    tally = Tally()
    by_path: dict[tuple[str, ...], Category] = {}
    for spec in CATEGORIES:
        name = spec.path[-1]
        parent = by_path[spec.path[:-1]] if len(spec.path) > 1 else None
        siblings = parent.get_children() if parent else Category.get_root_nodes()
        # The English name, whatever language the command runs in (README "Languages").
        matches = list(siblings.filter(name_en=name)[:2])
        if len(matches) > 1:
            raise SeedError(
                f"There are several categories named {' > '.join(spec.path)!r}; "
                "rename or merge them, then run the seed again."
            )
        if matches:
            by_path[spec.path] = matches[0]
            tally.existing += 1
        elif parent:
            by_path[spec.path] = parent.add_child(name_en=name, description_en=spec.description)
            tally.created += 1
        else:
            by_path[spec.path] = Category.add_root(name_en=name, description_en=spec.description)
            tally.created += 1
    return tally, by_path


@transaction.atomic
def product_class_seed() -> tuple["ProductClass", bool]:
    """The product class of every demo product: shipped, with stock tracked."""
    return ProductClass.objects.get_or_create(
        slug=PRODUCT_CLASS_SLUG,
        defaults={"name": PRODUCT_CLASS_NAME, "requires_shipping": True, "track_stock": True},
    )


def products_seed(
    *,
    categories: dict[tuple[str, ...], "Category"],
    product_class: "ProductClass",
    on_progress: Callable[[int, int], None] | None = None,
) -> Tally:
    """Each missing product with its category and a generated image; existing UPCs are skipped.

    `on_progress(done, total)` is called every 10 products and after the last.
    If anything fails, no product is kept and the image files written so far
    are deleted.
    """
    tally = Tally()
    colours = {spec.path: spec.colours for spec in CATEGORIES}
    written: list[ProductImage] = []
    try:
        with transaction.atomic():
            existing_upcs = set(
                Product.objects.filter(upc__in=[spec.upc for spec in PRODUCTS]).values_list(
                    "upc", flat=True
                )
            )
            for done, spec in enumerate(PRODUCTS, start=1):
                if spec.upc in existing_upcs:
                    tally.existing += 1
                else:
                    product = Product.objects.create(
                        structure=Product.STANDALONE,
                        upc=spec.upc,
                        title_en=spec.title,
                        description_en=spec.description,
                        product_class=product_class,
                        is_public=True,
                    )
                    ProductCategory.objects.create(
                        product=product, category=categories[spec.category]
                    )
                    image = ProductImage(product=product, display_order=0)
                    jpeg = product_image_jpeg(title=spec.title, colours=colours[spec.category])
                    image.original.save(f"{spec.upc}.jpg", ContentFile(jpeg), save=False)
                    written.append(image)
                    image.save()
                    tally.created += 1
                if on_progress and (done % 10 == 0 or done == len(PRODUCTS)):
                    on_progress(done, len(PRODUCTS))
    except BaseException:
        # The rows are rolled back; the files are not, so remove them here.
        for image in written:
            image.original.storage.delete(image.original.name)
        raise
    return tally


@transaction.atomic
def catalogue_french_seed(*, categories: dict[tuple[str, ...], "Category"]) -> Tally:
    """The French name, title and description of each demo category and product that has
    none yet (README "Languages"); French text already there, edited by staff, is kept."""
    tally = Tally()
    for path, (name, description) in CATEGORIES_FR.items():
        category = categories[path]
        if category.name_fr:
            tally.existing += 1
            continue
        category.name_fr, category.description_fr = name, description
        category.save(update_fields=["name_fr", "description_fr"])
        tally.created += 1
    for product in Product.objects.filter(upc__in=list(PRODUCTS_FR)).order_by("pk"):
        if product.title_fr:
            tally.existing += 1
            continue
        product.title_fr, product.description_fr = PRODUCTS_FR[product.upc]
        product.save(update_fields=["title_fr", "description_fr"])
        tally.created += 1
    return tally


@transaction.atomic
def partners_seed() -> tuple[Tally, dict[str, "Partner"]]:
    """The online warehouse and the Strasbourg shops, each new one with its address."""
    try:
        france = Country.objects.get(iso_3166_1_a2=FRANCE)
    except Country.DoesNotExist as exc:
        raise SeedError("Country FR is missing; countries must be seeded first.") from exc
    tally = Tally()
    partners: dict[str, Partner] = {}
    for spec in PARTNERS:
        partner, created = Partner.objects.get_or_create(
            code=spec.code, defaults={"name": spec.name}
        )
        if created:
            PartnerAddress.objects.create(
                partner=partner,
                line1=spec.line1,
                line4=STRASBOURG,
                postcode=spec.postcode,
                country=france,
            )
            tally.created += 1
        else:
            tally.existing += 1
        partners[spec.code] = partner
    return tally, partners


@transaction.atomic
def stockrecords_seed(*, partners: dict[str, "Partner"]) -> Tally:
    """Stock of every demo product at the online partner and of most of them at each shop.

    A partner that already has a stock record for a product keeps it. Records
    are inserted product by product, the online partner's first, because
    Oscar's default strategy prices a product from its first stock record.
    """
    tally = Tally()
    products = {
        product.upc: product
        for product in Product.objects.filter(upc__in=[spec.upc for spec in PRODUCTS])
    }
    stocked = set(
        StockRecord.objects.filter(partner__in=partners.values()).values_list(
            "partner_id", "product_id"
        )
    )
    skus_in_use = set(
        StockRecord.objects.filter(partner__in=partners.values()).values_list(
            "partner_id", "partner_sku"
        )
    )
    new_records = []
    for product_spec in PRODUCTS:
        product = products.get(product_spec.upc)
        if product is None:
            raise SeedError(
                f"Product {product_spec.upc} is missing; products must be seeded first."
            )
        for partner_spec in PARTNERS:
            level = stock_level(partner=partner_spec, upc=product_spec.upc)
            if level is None:
                continue
            partner = partners[partner_spec.code]
            sku = f"{partner_spec.sku_prefix}-{product_spec.upc}"
            if (partner.pk, product.pk) in stocked:
                tally.existing += 1
            elif (partner.pk, sku) in skus_in_use:
                tally.skipped.append(f"{partner.code}: SKU {sku} belongs to another product")
            else:
                new_records.append(
                    StockRecord(
                        partner=partner,
                        product=product,
                        partner_sku=sku,
                        price=product_spec.price,
                        price_currency=settings.OSCAR_DEFAULT_CURRENCY,
                        num_in_stock=level,
                    )
                )
    # No signal work is lost: Oscar's stock-alert receiver ignores new records.
    StockRecord.objects.bulk_create(new_records)
    tally.created = len(new_records)
    return tally


@transaction.atomic
def users_seed(*, partners: dict[str, "Partner"]) -> list[DemoLogin]:
    """The demo accounts; a user whose email or username is taken is left untouched.

    For such a user the result says whether the demo password still works (checked
    without writing, so an old password hash is not upgraded either).

    Each staff account gets its role (shop/security/roles.py; the roles are synced first):
    store staff are in "Store staff" and among their shop's partner users, but not
    `is_staff` (Oscar shows staff users every partner's orders and stock); the catalogue
    manager, the marketer and support are staff in their role's group.
    """
    try:
        roles.roles_sync()
    except roles.RoleError as exc:
        raise SeedError(str(exc)) from exc

    logins = []
    for spec in USERS:
        taken = User.objects.filter(
            Q(email__iexact=spec.email) | Q(username__iexact=spec.email)
        ).first()
        if taken:
            # hashers.check_password, not User.check_password: the latter may rehash and save.
            works = check_password(spec.password, taken.password)
            logins.append(DemoLogin(spec=spec, created=False, demo_password_works=works))
            continue
        user = User(
            username=spec.email,
            email=spec.email,
            first_name=spec.first_name,
            last_name=spec.last_name,
            is_staff=spec.role == Role.ADMIN,
            is_superuser=spec.role == Role.ADMIN,
        )
        user.set_password(spec.password)
        user.save()
        if spec.role in DEMO_ROLES:
            partner = partners[spec.partner_code] if spec.partner_code else None
            roles.role_give(user, DEMO_ROLES[spec.role], partner=partner)
        logins.append(DemoLogin(spec=spec, created=True, demo_password_works=True))
    return logins
