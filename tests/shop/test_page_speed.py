"""README, "Performance": the dashboard home and the shop's home page cost a fixed number
of queries whatever the data, the index's figures are Oscar's, and a new web worker does
its first-request work before serving."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from oscar.apps.dashboard import views as oscar_views
from oscar.core.loading import get_model
from oscar.test import factories as oscar

from shop.catalogue.cards import card_versions_bump
from shop.dashboard.views import staff_index_stats
from shop.warmup import worker_warm_up
from tests.factories import product
from tests.loyalty.factories import order_for

pytestmark = pytest.mark.django_db

Order = get_model("order", "Order")
Basket = get_model("basket", "Basket")


def _staff():
    return get_user_model().objects.create_user("hq", "hq@example.com", "pw", is_staff=True)


def _orders(count: int, *, hours_ago: list[int]):
    """`count` orders by new customers, placed `hours_ago[i % len]` hours ago."""
    item = product("Bretzel", price="4.20", stock=1000)
    for i in range(count):
        customer = oscar.UserFactory()
        order = order_for(customer, (item, 1 + i % 3))
        placed = timezone.now() - timedelta(hours=hours_ago[i % len(hours_ago)], minutes=5)
        Order.objects.filter(pk=order.pk).update(date_placed=placed)
    Basket.objects.create(owner=oscar.UserFactory())
    oscar.ConditionalOfferFactory(end_datetime=timezone.now() + timedelta(days=1))
    oscar.VoucherFactory(
        code=f"V{Order.objects.count()}",
        name=f"V{Order.objects.count()}",
        end_datetime=timezone.now() + timedelta(days=1),
    )


def test_the_index_shows_the_same_figures_as_oscars(db):
    _orders(7, hours_ago=[0, 1, 3, 7, 22, 30])
    request = RequestFactory().get("/dashboard/")
    request.user = _staff()
    view = oscar_views.IndexView()
    view.setup(request)

    oscars = view.get_stats()
    ours = staff_index_stats()

    def plain(stats):
        stats = dict(stats)
        chart = stats.pop("hourly_report_dict")
        stats["order_status_breakdown"] = list(stats["order_status_breakdown"])
        stats["offer_maps"] = list(stats["offer_maps"])
        # The two calls run microseconds apart: compare the bars, not their end times.
        bars = [(b["total_incl_tax"], b["percentage"]) for b in chart["order_total_hourly"]]
        return stats, bars, chart["max_revenue"], chart["y_range"]

    assert plain(ours) == plain(oscars)
    assert ours["total_orders"] == 7
    assert ours["total_orders_last_day"] == 6
    assert sum(b["total_incl_tax"] for b in ours["hourly_report_dict"]["order_total_hourly"]) > 0


def test_the_index_costs_the_same_queries_with_more_orders(client, django_assert_num_queries):
    client.force_login(_staff())
    _orders(1, hours_ago=[1])
    client.get(reverse("dashboard:index"))  # sessions and caches settle

    # Session, user, permissions, menu; then eleven for the figures (totals over every
    # row, the last day's over the last day's rows: shop/dashboard/views.py).
    with django_assert_num_queries(16):
        first = client.get(reverse("dashboard:index"))
    _orders(12, hours_ago=[0, 2, 5, 26])
    with django_assert_num_queries(16):
        more = client.get(reverse("dashboard:index"))

    assert (first.context["total_orders"], more.context["total_orders"]) == (1, 13)


@pytest.mark.parametrize("cards", ["cached", "rendered"])
@pytest.mark.parametrize("signed_in", [False, True], ids=["guest", "shopper"])
def test_the_home_page_costs_the_same_queries_with_more_products(
    client, signed_in, cards, django_assert_num_queries
):
    if signed_in:
        client.force_login(oscar.UserFactory())
    for i in range(2):
        oscar.ProductImageFactory(product=product(f"Cheese {i}"))
    client.get(reverse("home"))  # thumbnails made, caches filled

    # Session, user, then (signed in) notifications and the basket, read with whether
    # it has lines (an empty one: no lines query, shop/basket_load.py; the dashboard
    # link's answer is cached per user, shop/security/dashboard_link.py); the newest
    # product ids. Cards and the category tree (menu and tiles) from the cache cost
    # nothing; rendered again (all retired, as a change of a store does), the category
    # tree (2) and the products with what a card reads: 6 queries whatever their number.
    expected = (6 if signed_in else 1) + (8 if cards == "rendered" else 0)

    def measured():
        if cards == "rendered":
            card_versions_bump(everything=True)
        with django_assert_num_queries(expected):
            return client.get(reverse("home"))

    measured()
    for i in range(10):
        oscar.ProductImageFactory(product=product(f"More cheese {i}"))
    client.get(reverse("home"))
    page = measured()

    assert len(page.context["featured_ids"]) == 8
    assert page.content.decode().count('class="product-card"') == 8


def test_a_new_worker_loads_urls_templates_and_languages_before_serving():
    from django.template import engines
    from oscar.apps.dashboard.nav import _dashboard_url_names_to_config

    _dashboard_url_names_to_config.cache_clear()

    done = worker_warm_up()

    assert done["resolvers"] > 50
    assert done["templates"] >= 20
    assert done["languages"] == 2
    # The cached loader now holds the dashboard's templates: no compiling on a request.
    loader = engines["django"].engine.template_loaders[0]
    cached = set(getattr(loader, "get_template_cache", {}))
    assert {"oscar/dashboard/index.html", "oscar/dashboard/layout.html"} <= cached
    # and Oscar's dashboard menu knows which app each of its pages belongs to.
    assert _dashboard_url_names_to_config.cache_info().currsize == 1


def test_the_worker_warm_up_never_stops_a_worker(settings, caplog):
    settings.LANGUAGES = [("xx-broken", "Nowhere")]

    done = worker_warm_up()

    assert done["languages"] == 0
    assert [r.getMessage() for r in caplog.records if r.name == "shop.warmup"] == [
        "Worker warm-up failed; the first requests will be slower"
    ]
