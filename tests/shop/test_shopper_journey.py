"""A shopper browses, searches, fills a basket and checks out as a guest."""

import pytest
from django.urls import reverse
from oscar.core.loading import get_model

from tests.factories import ADDRESS, category, product, shipping_country

Order = get_model("order", "Order")

pytestmark = pytest.mark.django_db


def test_guest_browses_searches_and_checks_out(client, settings):
    # Without Stripe keys, the local demo's test payment stands in for a card
    # (tests/shop/payment/test_card_journey.py pays by card).
    settings.PAYMENT_TEST_METHOD = True
    # Given a catalogue with a category and products in stock
    shipping_country("FR")
    coffee = category("Coffee")
    beans = product("Ethiopian Yirgacheffe beans", price="12.50", stock=5, categories=[coffee])
    product("Stoneware mug", price="8.00", stock=3)

    # When the shopper opens the category, the product is listed (django-oscar#3853)
    response = client.get(coffee.get_absolute_url())
    assert response.status_code == 200
    assert [p.pk for p in response.context["products"]] == [beans.pk]

    # and a search finds it by a word of its title
    response = client.get(reverse("search:search"), {"q": "yirgacheffe"})
    assert response.status_code == 200
    assert [p.pk for p in response.context["results"]] == [beans.pk]

    # When they add two to the basket
    response = client.post(
        reverse("basket:add", kwargs={"pk": beans.pk}), {"quantity": 2}, follow=True
    )
    assert response.status_code == 200
    assert response.context["request"].basket.num_items == 2

    # and check out as a guest
    response = client.post(
        reverse("checkout:index"),
        {"username": "guest@example.com", "options": "anonymous"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("checkout:delivery")
    response = client.post(
        reverse("checkout:shipping-address"),
        ADDRESS,
        follow=True,
    )
    assert response.status_code == 200
    # Shipping method (a single free one) and payment method (only one) are skipped
    assert response.redirect_chain[-1][0] == reverse("checkout:preview")
    response = client.get(reverse("checkout:preview"))
    assert response.status_code == 200
    assert response.context["basket"].num_items == 2

    response = client.post(reverse("checkout:preview"), {"action": "place_order"}, follow=True)

    # Then the order exists, for the guest, with the right lines and total
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("checkout:thank-you")
    order = Order.objects.get()
    assert order.guest_email == "guest@example.com"
    assert order.user is None
    assert [(line.product_id, line.quantity) for line in order.lines.all()] == [(beans.pk, 2)]
    assert str(order.total_incl_tax) == "25.00"
    assert order.currency == "EUR"
    assert order.shipping_address.line4 == "Strasbourg"
    beans.stockrecords.get().refresh_from_db()
    assert beans.stockrecords.get().num_allocated == 2
    assert response.context["order"] == order
