"""`manage.py seed_demo`: idempotent, additive, and a believable Strasbourg shop."""

import io

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.sites.models import Site
from django.core.management import CommandError, call_command
from django.db.models import Count
from oscar.core.loading import get_model
from oscar.test.factories import create_product
from PIL import Image

from shop.demo.catalogue import PRODUCTS
from shop.demo.places import SHOPS
from shop.security.roles import ROLES

Category = get_model("catalogue", "Category")
Country = get_model("address", "Country")
Partner = get_model("partner", "Partner")
PartnerAddress = get_model("partner", "PartnerAddress")
Product = get_model("catalogue", "Product")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductImage = get_model("catalogue", "ProductImage")
StockRecord = get_model("partner", "StockRecord")
User = get_user_model()

DEMO_UPCS = [spec.upc for spec in PRODUCTS]

# What the seed creates in an empty database.
SEEDED = {
    "products": 66,
    "categories": 13,
    "product_categories": 66,
    "images": 66,
    "partners": 5,
    "partner_addresses": 5,
    "stockrecords": 290,
    "users": 9,
    "countries": 6,
}


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {
        "products": Product.objects.count(),
        "categories": Category.objects.count(),
        "product_categories": ProductCategory.objects.count(),
        "images": ProductImage.objects.count(),
        "partners": Partner.objects.count(),
        "partner_addresses": PartnerAddress.objects.count(),
        "stockrecords": StockRecord.objects.count(),
        # The synthetic customers of the marketing demo are tested in tests/loyalty/test_seed.py.
        "users": User.objects.exclude(username__startswith="pop2026-").count(),
        "countries": Country.objects.count(),
    }


@pytest.mark.django_db
def test_seeding_twice_gives_the_same_rows():
    first_output = seed()
    after_first = row_counts()

    second_output = seed()

    assert len(PRODUCTS) == SEEDED["products"]
    assert after_first == SEEDED
    assert row_counts() == SEEDED
    assert "Categories: 13 created, 0 existing" in first_output
    assert "Products: 66 created, 0 existing" in first_output
    assert "  products 10/66" in first_output
    assert "Categories: 0 created, 13 existing" in second_output
    assert "Products: 0 created, 66 existing" in second_output
    assert "Stock records: 0 created, 290 existing" in second_output
    assert "Users: 0 created, 9 existing" in second_output


@pytest.mark.django_db
def test_existing_data_is_kept_and_only_what_is_missing_is_added():
    # Given a shop that already has its own data
    Site.objects.filter(pk=settings.SITE_ID).update(domain="shop.example.org", name="Mine")
    other = create_product(
        upc="4006381333931", title="Local honey", price="7.00", num_in_stock=3, partner_name="Farm"
    )
    groceries = Category.add_root(name="Groceries", description="Our own description")
    warehouse = Partner.objects.create(code="online", name="Our warehouse")
    camille = User.objects.create_user(
        username="camille", email="shopper@solomo.example", password="her-own-password"
    )
    before = row_counts()

    # When the demo is seeded, twice
    output = seed()
    seed()

    # Then the other rows are untouched
    other.refresh_from_db()
    assert other.title == "Local honey"
    assert list(other.stockrecords.values_list("partner__name", "price", "num_in_stock")) == [
        ("Farm", 7, 3)
    ]
    assert other.images.count() == 0
    site = Site.objects.get(pk=settings.SITE_ID)
    assert (site.domain, site.name) == ("shop.example.org", "Mine")
    groceries.refresh_from_db()
    assert groceries.description == "Our own description"
    assert Category.objects.filter(depth=1, name="Groceries").count() == 1
    warehouse.refresh_from_db()
    assert warehouse.name == "Our warehouse"
    assert warehouse.addresses.count() == 0
    camille.refresh_from_db()
    assert camille.username == "camille"
    assert camille.check_password("her-own-password")
    assert not camille.check_password("solomo-shopper")

    # And only the missing demo rows were added
    assert row_counts() == {
        "products": before["products"] + 66,
        "categories": before["categories"] + 12,
        "product_categories": 66,
        "images": 66,
        "partners": before["partners"] + 4,
        "partner_addresses": 4,
        "stockrecords": before["stockrecords"] + 290,
        "users": before["users"] + 8,
        "countries": 6,
    }
    assert warehouse.stockrecords.count() == 66
    assert "Categories: 12 created, 1 existing" in output
    assert "Partners: 4 created, 1 existing" in output
    assert "Users: 8 created, 1 existing" in output
    shopper_row = next(line for line in output.splitlines() if "shopper@" in line)
    assert "(not the demo password)" in shopper_row
    assert "exists" in shopper_row


@pytest.mark.django_db
def test_catalogue_is_complete_with_images_and_stock():
    seed()

    products = Product.objects.filter(upc__in=DEMO_UPCS)
    assert Product.objects.browsable().filter(upc__in=DEMO_UPCS).count() == 66
    categories_in_use = ProductCategory.objects.values("category").distinct().count()
    assert categories_in_use == 11
    online = Partner.objects.get(code="online")
    for product in products.prefetch_related("images", "stockrecords__partner"):
        assert len(product.description.split(". ")) >= 2, product.title
        (image,) = product.images.all()
        assert image.display_order == 0
        assert image.original.storage.exists(image.original.name)
        assert image.original.size < 40_000
        with Image.open(image.original.path) as picture:
            assert (picture.format, picture.size) == ("JPEG", (600, 600))
        first_record = min(product.stockrecords.all(), key=lambda record: record.pk)
        assert first_record.partner == online, "Oscar's default strategy uses the first record"
        assert 20 <= first_record.num_in_stock <= 200
        assert first_record.price_currency == settings.OSCAR_DEFAULT_CURRENCY
    for spec in SHOPS:
        shop = Partner.objects.get(code=spec.code)
        stocked = shop.stockrecords.filter(product__in=products)
        assert 50 <= stocked.count() < 66, spec.code
        assert stocked.filter(num_in_stock=0).exists(), spec.code
        assert max(stocked.values_list("num_in_stock", flat=True)) <= 25
        address = shop.primary_address
        assert (address.line4, address.country_id) == ("Strasbourg", "FR")
    assert Partner.objects.annotate(n=Count("stockrecords")).get(code="online").n == 66
    assert Country.objects.filter(is_shipping_country=True).count() == 6


@pytest.mark.django_db
def test_demo_users_get_their_roles(client):
    output = seed()

    def role_of(email: str):
        user = User.objects.get(email=email)
        return user, list(user.groups.values_list("name", flat=True))

    centre = Partner.objects.get(code="strasbourg-centre")
    staff, staff_groups = role_of("staff.centre@solomo.example")
    assert list(staff.partners.all()) == [centre]
    assert staff_groups == ["Store staff"]
    assert staff.has_perm("partner.dashboard_access")
    assert not staff.user_permissions.exists()  # the group is the role, nothing by hand
    assert not staff.is_staff  # Oscar shows staff users every partner's orders and stock
    catalogue, catalogue_groups = role_of("catalogue@solomo.example")
    assert catalogue.is_staff and catalogue_groups == ["Catalogue managers"]
    marketer, marketer_groups = role_of("marketing@solomo.example")
    assert marketer.is_staff and marketer_groups == ["Marketers"]
    assert marketer.has_perms(["offer.change_conditionaloffer", "voucher.add_voucher"])
    assert marketer.has_perms(["loyalty.change_earningrule", "loyalty.change_tierlevel"])
    support, support_groups = role_of("support@solomo.example")
    assert support.is_staff and support_groups == ["Support"]
    # Each group holds exactly its role's permissions (shop/security/roles.py).
    for role in ROLES:
        held = {
            f"{app_label}.{codename}"
            for app_label, codename in Group.objects.get(name=role.group).permissions.values_list(
                "content_type__app_label", "codename"
            )
        }
        existing_optional = {
            name
            for name in role.optional_permissions
            if Permission.objects.filter(
                content_type__app_label=name.split(".")[0], codename=name.split(".")[1]
            ).exists()
        }
        assert held == set(role.permissions) | existing_optional, role.group
    assert Group.objects.get(name="Marketers").permissions.count() == 51
    admin = User.objects.get(email="admin@solomo.example")
    assert admin.is_superuser and admin.is_staff and not admin.groups.exists()
    shopper, shopper_groups = role_of("shopper@solomo.example")
    assert not (shopper.is_staff or shopper.partners.exists() or shopper_groups)
    assert shopper.get_full_name() == "Camille Martin"
    assert Site.objects.get(pk=settings.SITE_ID).domain == "localhost:8000"  # SITE_URL's
    assert "Demo logins" in output
    for email, password in [
        ("shopper@solomo.example", "solomo-shopper"),
        ("staff.centre@solomo.example", "solomo-staff"),
        ("catalogue@solomo.example", "solomo-catalogue"),
        ("marketing@solomo.example", "solomo-marketer"),
        ("support@solomo.example", "solomo-support"),
        ("admin@solomo.example", "solomo-admin"),
    ]:
        row = next(line for line in output.splitlines() if line.startswith(email))
        assert password in row
        assert client.login(username=email, password=password)
    client.logout()

    # Each one's dashboard (the full matrix: tests/shop/dashboard/test_roles_matrix.py)
    for user, url, status in [
        (staff, "/dashboard/stores/pickups/", 200),
        (staff, "/dashboard/orders/", 403),
        (staff, "/dashboard/catalogue/", 403),
        (catalogue, "/dashboard/catalogue/", 200),
        (catalogue, "/dashboard/orders/", 403),
        (marketer, "/dashboard/vouchers/", 200),
        (marketer, "/dashboard/orders/", 403),
        (support, "/dashboard/orders/", 200),
        (support, "/dashboard/vouchers/", 403),
        (shopper, "/dashboard/", 403),
    ]:
        client.force_login(user)
        assert client.get(url).status_code == status, (user.email, url)


@pytest.mark.django_db
def test_verbosity_zero_prints_nothing():
    assert seed(verbosity=0) == ""
    assert Product.objects.filter(upc__in=DEMO_UPCS).count() == 66


@pytest.mark.django_db
def test_unwritable_media_root_fails_cleanly_without_products(settings, tmp_path):
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    settings.MEDIA_ROOT = str(not_a_directory / "media")

    with pytest.raises(CommandError, match="MEDIA_ROOT"):
        seed()

    assert not Product.objects.filter(upc__in=DEMO_UPCS).exists()
    assert not ProductImage.objects.exists()
    # Sections before the products were committed on their own.
    assert Category.objects.count() == SEEDED["categories"]
