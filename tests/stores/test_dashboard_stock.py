"""The Stock page: store staff change only their own store's stock, within bounds (R38, R40).

Roles: staff of store A, staff of store B, HQ (a superuser and a catalogue manager holding
partner.change_stockrecord), a shopper and anonymous.
"""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import translation
from oscar.core.loading import get_model
from oscar.test.factories import create_product

from stores.services import StockChangeRefused, StockRecordNotFound, stock_set
from tests.stores.factories import staff_of, stock, store

StockRecord = get_model("partner", "StockRecord")

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def world():
    a, b = store("Store A"), store("Store B")
    manager = User.objects.create_user("cm@example.com", "cm@example.com", "pw", is_staff=True)
    manager.user_permissions.add(
        Permission.objects.get(content_type__app_label="partner", codename="change_stockrecord")
    )
    munster = create_product(title="Munster fermier")
    bretzel = create_product(title="Bretzel")
    return {
        "stores": {"A": a, "B": b},
        "users": {
            "A staff": staff_of(a, "a@example.com"),
            "B staff": staff_of(b, "b@example.com"),
            "HQ": User.objects.create_superuser("hq@example.com", "hq@example.com", "pw"),
            "catalogue manager": manager,
            "shopper": User.objects.create_user("s@example.com", "s@example.com", "pw"),
        },
        "records": {
            "A": stock(a, munster, 10, price="9.99", allocated=2),
            "B": stock(b, bretzel, 7, price="3.50"),
        },
    }


def edit_url(record) -> str:
    return reverse("stores-dashboard:stock-edit", kwargs={"pk": record.pk})


LIST = reverse("stores-dashboard:stock")
SEES = {
    "A staff": {"A"},
    "B staff": {"B"},
    "HQ": {"A", "B"},
    "catalogue manager": {"A", "B"},
}


@pytest.mark.parametrize("who", ["A staff", "B staff", "HQ", "catalogue manager"])
def test_list_shows_only_the_stores_records_the_role_may_see(client, world, who):
    client.force_login(world["users"][who])

    page = client.get(LIST)

    assert page.status_code == 200
    shown = {record.pk for record, _form in page.context["rows"]}
    assert shown == {world["records"][key].pk for key in SEES[who]}
    html = page.content.decode()
    assert ("Munster fermier" in html) is ("A" in SEES[who])
    assert ("Bretzel" in html) is ("B" in SEES[who])


def test_shopper_gets_404_and_anonymous_the_login_page(client, world):
    record = world["records"]["A"]
    anonymous = client.get(LIST)
    assert anonymous.status_code == 302
    assert anonymous.url.startswith(reverse("customer:login"))
    assert client.post(edit_url(record), {"num_in_stock": "0"}).status_code == 302

    client.force_login(world["users"]["shopper"])
    assert client.get(LIST).status_code == 404
    assert client.get(edit_url(record)).status_code == 404
    assert client.post(edit_url(record), {"num_in_stock": "0"}).status_code == 404
    record.refresh_from_db()
    assert record.num_in_stock == 10


@pytest.mark.parametrize("who", ["A staff", "B staff", "HQ", "catalogue manager"])
@pytest.mark.parametrize("which", ["A", "B"])
def test_edit_matrix_404_for_another_stores_record(client, world, who, which):
    record = world["records"][which]
    allowed = which in SEES[who]
    client.force_login(world["users"][who])

    detail = client.get(edit_url(record))
    change = client.post(edit_url(record), {"num_in_stock": "4"})

    assert detail.status_code == (200 if allowed else 404)
    assert change.status_code == (302 if allowed else 404)
    record.refresh_from_db()
    assert record.num_in_stock == (4 if allowed else {"A": 10, "B": 7}[which])


def test_hq_filters_by_store_and_staff_cannot_filter_into_another_store(client, world):
    a, b = world["stores"]["A"], world["stores"]["B"]
    client.force_login(world["users"]["HQ"])
    page = client.get(LIST, {"store": b.pk})
    assert [r.pk for r, _f in page.context["rows"]] == [world["records"]["B"].pk]
    assert page.context["show_store_filter"] is True

    client.force_login(world["users"]["A staff"])
    page = client.get(LIST, {"store": b.pk})
    assert [r.pk for r, _f in page.context["rows"]] == [world["records"]["A"].pk]
    assert page.context["show_store_filter"] is False
    assert f'value="{a.pk}"' not in page.content.decode()


def test_search_by_title_or_sku_and_pagination_keeps_the_search(client, world):
    a = world["stores"]["A"]
    for n in range(30):
        stock(a, create_product(title=f"Kougelhopf {n:02d}"), 1)
    client.force_login(world["users"]["A staff"])

    by_title = client.get(LIST, {"q": "kougelhopf"})
    second = client.get(LIST, {"q": "kougelhopf", "page": "2"})
    by_sku = client.get(LIST, {"q": world["records"]["A"].partner_sku})

    assert by_title.context["page"].paginator.count == 30
    assert len(by_title.context["rows"]) == 25
    assert "?q=kougelhopf&amp;page=2" in by_title.content.decode()
    assert [r.product.title for r, _f in second.context["rows"]] == [
        f"Kougelhopf {n:02d}" for n in range(25, 30)
    ]
    assert [r.pk for r, _f in by_sku.context["rows"]] == [world["records"]["A"].pk]
    # Another store's SKU finds nothing for A's staff.
    assert client.get(LIST, {"q": world["records"]["B"].partner_sku}).context["rows"] == []


def test_search_finds_a_title_in_either_language_on_a_french_page(client, world):
    munster = world["records"]["A"].product
    munster.title_fr = "Munster de la ferme"
    munster.save()
    client.force_login(world["users"]["A staff"])
    with translation.override("fr"):
        french_list = reverse("stores-dashboard:stock")
    assert french_list.startswith("/fr/")

    for query in ("fermier", "ferme", "MUNSTER"):
        page = client.get(french_list, {"q": query})
        assert [r.pk for r, _f in page.context["rows"]] == [world["records"]["A"].pk], query
        assert "Munster de la ferme" in page.content.decode()
    assert client.get(french_list, {"q": "kougelhopf"}).context["rows"] == []


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("1", "2 units are allocated to orders"),
        ("-1", "greater than or equal to 0"),
        ("100001", "less than or equal to 100000"),
        (str(2**31), "less than or equal to 100000"),
        ("ten", "Enter a whole number"),
        ("", "This field is required"),
    ],
)
def test_quantity_out_of_bounds_is_a_form_error_not_a_500(client, world, typed, error):
    record = world["records"]["A"]
    client.force_login(world["users"]["A staff"])

    page = client.post(edit_url(record), {"num_in_stock": typed})

    assert page.status_code == 200
    assert error in page.content.decode()
    record.refresh_from_db()
    assert (record.num_in_stock, record.num_allocated) == (10, 2)


def test_quantity_may_go_down_to_what_is_allocated_and_returns_to_the_list(client, world):
    record = world["records"]["A"]
    client.force_login(world["users"]["A staff"])

    page = client.post(edit_url(record), {"num_in_stock": "2", "next": f"{LIST}?q=munster"})

    assert page.status_code == 302
    assert page.url == f"{LIST}?q=munster"
    record.refresh_from_db()
    assert (record.num_in_stock, record.num_allocated) == (2, 2)


def test_next_outside_the_site_is_ignored(client, world):
    client.force_login(world["users"]["A staff"])
    page = client.post(
        edit_url(world["records"]["A"]), {"num_in_stock": "3", "next": "https://evil.example/"}
    )
    assert page.url == LIST


def test_staff_cannot_set_prices_by_default(client, world, settings):
    settings.STORES_STAFF_SET_PRICES = False
    record = world["records"]["A"]
    client.force_login(world["users"]["A staff"])

    listing = client.get(LIST)
    page = client.post(edit_url(record), {"num_in_stock": "5", "price": "-50.00"})

    assert 'name="price"' not in listing.content.decode()
    assert "Prices are set by the head office." in listing.content.decode()
    assert page.status_code == 302
    record.refresh_from_db()
    assert (record.num_in_stock, record.price) == (5, Decimal("9.99"))
    with pytest.raises(StockChangeRefused, match="Prices are set by the head office"):
        stock_set(
            stockrecord_id=record.pk,
            num_in_stock=5,
            price=Decimal("1.00"),
            user=world["users"]["A staff"],
        )


@pytest.mark.parametrize("who", ["A staff", "HQ"])
def test_prices_when_allowed_are_bounded(client, world, settings, who):
    settings.STORES_STAFF_SET_PRICES = who == "A staff"
    record = world["records"]["A"]
    client.force_login(world["users"][who])

    negative = client.post(edit_url(record), {"num_in_stock": "10", "price": "-50.00"})
    too_high = client.post(edit_url(record), {"num_in_stock": "10", "price": "100000.00"})
    record.refresh_from_db()
    assert record.price == Decimal("9.99")
    saved = client.post(edit_url(record), {"num_in_stock": "10", "price": "12.50"})

    assert negative.status_code == 200
    assert "greater than or equal to 0" in negative.content.decode()
    assert too_high.status_code == 200
    assert "less than or equal to 99999.99" in too_high.content.decode()
    assert saved.status_code == 302
    record.refresh_from_db()
    assert record.price == Decimal("12.50")


def test_changes_are_post_with_csrf(client, world):
    record = world["records"]["A"]
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(world["users"]["A staff"])
    client.force_login(world["users"]["A staff"])

    read = checked.get(edit_url(record), {"num_in_stock": "0"})
    forged = checked.post(edit_url(record), {"num_in_stock": "0"})
    put = client.put(edit_url(record), "num_in_stock=0")
    post_to_list = client.post(LIST, {"num_in_stock": "0"})

    assert read.status_code == 200
    assert forged.status_code == 403
    assert put.status_code == 405
    assert post_to_list.status_code == 405
    record.refresh_from_db()
    assert record.num_in_stock == 10


def test_links_between_the_store_pages(client, world):
    client.force_login(world["users"]["A staff"])
    for name in ("stores-dashboard:queue", "stores-dashboard:stores"):
        assert f'href="{LIST}"' in client.get(reverse(name)).content.decode()


def test_service_refuses_another_stores_record_and_bad_types(world):
    a_staff = world["users"]["A staff"]
    with pytest.raises(StockRecordNotFound):
        stock_set(stockrecord_id=world["records"]["B"].pk, num_in_stock=1, user=a_staff)
    with pytest.raises(StockChangeRefused) as refused:
        stock_set(stockrecord_id=world["records"]["A"].pk, num_in_stock=True, user=a_staff)
    assert refused.value.field == "num_in_stock"
    with pytest.raises(StockChangeRefused, match="between 0 and 100000"):
        stock_set(stockrecord_id=world["records"]["A"].pk, num_in_stock=100_001, user=a_staff)
    hq = world["users"]["HQ"]
    for price in (Decimal("NaN"), Decimal("-0.01"), Decimal("100000")):
        with pytest.raises(StockChangeRefused, match="between 0 and 99999.99"):
            stock_set(stockrecord_id=world["records"]["A"].pk, num_in_stock=5, price=price, user=hq)
    assert StockRecord.objects.get(pk=world["records"]["B"].pk).num_in_stock == 7
    assert StockRecord.objects.get(pk=world["records"]["A"].pk).num_in_stock == 10


# --- Concurrency (PostgreSQL, real threads) ----------------------------------------------


def _allocate(record_id: int, quantity: int):
    from django.db import transaction

    with transaction.atomic():
        record = StockRecord.objects.select_related("partner", "product").get(pk=record_id)
        record.allocate(quantity)
    return "allocated"


def _set(record_id: int, num_in_stock: int, user):
    return stock_set(stockrecord_id=record_id, num_in_stock=num_in_stock, user=user)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("num_in_stock", [6, 2])
def test_concurrent_stock_edit_and_checkout_never_lose_an_allocation(num_in_stock):
    """A checkout allocating 3 and a member of staff setting the stock, at the same time.

    Either order leaves `num_allocated` equal to what the successful allocations took: the
    edit never writes back a stale allocation, and it is refused rather than put the stock
    below what is held. Setting 6 always succeeds with both; setting 2 fits only if it
    goes first (then the checkout is refused), else the edit is refused.
    """
    from shop.partner.exceptions import InsufficientStock
    from tests.concurrency import hold_row_locks, run_concurrently

    shop = store("Store A")
    record = stock(shop, create_product(title="Munster"), 10)
    staff = staff_of(shop, "a@example.com")

    results = run_concurrently(
        [lambda: _allocate(record.pk, 3), lambda: _set(record.pk, num_in_stock, staff)],
        until_blocked=2,
        lock=hold_row_locks("partner_stockrecord", [record.pk]),
    )

    record.refresh_from_db()
    allocated_ok = results[0] == "allocated"
    set_ok = not isinstance(results[1], Exception)
    assert record.num_allocated == (3 if allocated_ok else 0)
    assert record.num_in_stock == (num_in_stock if set_ok else 10)
    assert record.num_allocated <= record.num_in_stock
    if num_in_stock == 6:
        assert allocated_ok and set_ok, results
    else:
        # Exactly one of the two wins; the loser says why.
        assert allocated_ok != set_ok, results
        loser = results[1] if allocated_ok else results[0]
        assert isinstance(loser, StockChangeRefused if allocated_ok else InsufficientStock)
