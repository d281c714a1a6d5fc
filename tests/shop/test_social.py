"""Share buttons and review purchase badges (README "Social")."""

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from oscar.core.loading import get_model
from oscar.test.factories import UserFactory, WishListFactory, create_basket, create_order

from tests.factories import product
from tests.stores.factories import pickup_order, store

pytestmark = pytest.mark.django_db

ProductReview = get_model("reviews", "ProductReview")
Order = get_model("order", "Order")


def _review(item, user, title="Good"):
    return ProductReview.objects.create(
        product=item,
        user=user,
        score=5,
        title=title,
        body="Tasty.",
        status=ProductReview.APPROVED,
    )


def _order(user, item, status):
    basket = create_basket(empty=True)
    basket.add_product(item, 1)
    order = create_order(basket=basket, user=user)
    Order.objects.filter(pk=order.pk).update(status=status)
    return order


def _badges(response) -> list[str]:
    page = response.content.decode()
    return [
        " ".join(html.unescape(text).split())
        for text in re.findall(r'<p class="review-purchase"[^>]*>(.*?)</p>', page, re.S)
    ]


def test_review_badges_verified_collected_at_store_and_not_verified(client):
    # A pickup collected at a store, a delivered order completed, a pending order
    centre = store("Strasbourg Centre")
    collector = UserFactory()
    pickup = pickup_order(centre, user=collector, status="collected")
    item = pickup.order.lines.get().product
    buyer, pending = UserFactory(), UserFactory()
    _order(buyer, item, "Complete")
    _order(pending, item, "Pending")
    _review(item, collector, "Collected")
    _review(item, buyer, "Delivered")
    _review(item, pending, "Pending")

    response = client.get(item.get_absolute_url())

    assert response.status_code == 200
    assert _badges(response) == [
        "Verified purchase, collected at Strasbourg Centre",
        "Verified purchase",
    ]
    page = response.content.decode()
    assert page.count('data-review-purchase="store"') == 1
    assert page.count('data-review-purchase="verified"') == 1
    # Three reviews shown; the pending order's has no badge.
    assert page.count('<article class="review">') == 3
    assert page.count('class="review-purchase"') == 2


def test_all_reviews_page_shows_the_badges(client):
    centre = store("Neudorf")
    collector = UserFactory()
    pickup = pickup_order(centre, user=collector, status="collected")
    item = pickup.order.lines.get().product
    _review(item, collector)
    _review(item, UserFactory(), "Not bought")

    response = client.get(
        reverse("catalogue:reviews-list", kwargs={"product_slug": item.slug, "product_pk": item.pk})
    )

    assert response.status_code == 200
    assert _badges(response) == ["Verified purchase, collected at Neudorf"]


def test_french_product_page_translates_share_and_badge(client):
    centre = store("Strasbourg Centre")
    collector = UserFactory()
    pickup = pickup_order(centre, user=collector, status="collected")
    item = pickup.order.lines.get().product
    _review(item, collector)

    with translation.override("fr"):
        url = item.get_absolute_url()
    response = client.get(url)

    page = response.content.decode()
    assert url.startswith("/fr/")
    assert "<span>Partager</span>" in page
    assert 'data-copied-text="Lien copié"' in page
    assert _badges(response) == ["Achat vérifié, retiré à Strasbourg Centre"]


def test_uncollected_pickup_is_not_a_verified_purchase(client):
    centre = store("Krutenau")
    shopper = UserFactory()
    pickup = pickup_order(centre, user=shopper, status="uncollected")
    item = pickup.order.lines.get().product
    _review(item, shopper)

    assert _badges(client.get(item.get_absolute_url())) == []


def _page_queries(client, url) -> int:
    client.get(url)  # warm: caches and thumbnails
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_badges_cost_the_same_queries_for_one_or_five_reviews(client):
    item = product("Munster")
    centre = store("Strasbourg Centre")
    # Pages show at most three reviews; the fourth and fifth stay off the page.
    one_url = item.get_absolute_url()
    reviewer = UserFactory()
    _order(reviewer, item, "Complete")
    _review(item, reviewer)
    one = _page_queries(client, one_url)

    for n in range(4):
        user = UserFactory()
        if n % 2:
            _order(user, item, "Complete")
        else:
            pickup = pickup_order(centre, user=user, status="collected")
            line = pickup.order.lines.get()
            type(line).objects.filter(pk=line.pk).update(product=item)
        _review(item, user, f"Review {n}")
    response = client.get(one_url)
    assert len(_badges(response)) == 3
    five = _page_queries(client, one_url)

    assert five == one


def test_product_page_share_button_carries_utm_tags(client):
    item = product("Kougelhopf")

    response = client.get(item.get_absolute_url())

    page = response.content.decode()
    base = f"http://testserver{item.get_absolute_url()}"
    tags = "utm_source=share&amp;utm_medium={}&amp;utm_campaign=product-share"
    assert f'data-share-url="{base}?{tags.format("web_share")}"' in page
    assert f'data-copy-url="{base}?{tags.format("copy")}"' in page
    assert 'data-share-title="Kougelhopf"' in page
    assert 'data-copied-text="Link copied"' in page
    assert "shop/js/share.js" in page


def test_owner_shared_wishlist_page_offers_its_shared_link(client):
    owner = UserFactory()
    wishlist = WishListFactory(owner=owner, visibility="Shared", name="Noël")
    client.force_login(owner)

    response = client.get(reverse("customer:wishlists-detail", kwargs={"key": wishlist.key}))

    assert response.status_code == 200
    page = response.content.decode()
    with translation.override("en"):
        base = f"http://testserver{wishlist.get_shared_url()}"
    assert base.endswith(f"/wishlists/{wishlist.key}/")
    tags = "utm_source=share&amp;utm_medium={}&amp;utm_campaign=wishlist-share"
    assert f'data-share-url="{base}?{tags.format("web_share")}"' in page
    assert f'data-copy-url="{base}?{tags.format("copy")}"' in page
    assert 'data-share-title="Noël"' in page
    assert "Share this wish list" in page


def test_owner_private_wishlist_page_offers_to_make_it_shared_instead(client):
    owner = UserFactory()
    wishlist = WishListFactory(owner=owner, visibility="Private")
    client.force_login(owner)

    response = client.get(reverse("customer:wishlists-detail", kwargs={"key": wishlist.key}))

    page = response.content.decode()
    assert "data-share" not in page
    update = reverse("customer:wishlists-update", kwargs={"key": wishlist.key})
    assert f'<a href="{update}">set its visibility to shared</a>' in page
