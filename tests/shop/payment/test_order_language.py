"""README "Languages": an order placed on /fr/ has its lines' titles in French, and when
Stripe's webhook (outside the language prefix) settles it, the confirmation the customer
reads is written in French too, as it is when they come back to the pay page."""

import pytest
from django.test import Client
from django.utils import translation
from oscar.core.loading import get_model

from shop.communication.models import OutboxMessage
from shop.payment.models import StripePayment
from tests.shop.payment.helpers import deliver, delivery_checkout, last_event, place_order

pytestmark = pytest.mark.django_db

Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")
TITLES = {"en": "Ethiopian beans", "fr": "Café éthiopien"}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_card_order_settled_by_the_webhook_is_confirmed_in_the_language_it_was_placed_in(
    client, fake_stripe, language
):
    with translation.override(language):  # the shop's pages under /fr/ for French
        item = delivery_checkout(client)
        Product.objects.filter(pk=item.pk).update(title_fr=TITLES["fr"])
        place_order(client)
    order = Order.objects.get()
    payment = StripePayment.objects.get(order=order)
    fake_stripe.customer_pays(payment.payment_intent_id)
    event = last_event(fake_stripe, "payment_intent.succeeded", payment.payment_intent_id)

    with translation.override("en"):  # as Stripe's request is: no prefix, no cookie
        response = deliver(Client(), fake_stripe, event)

    assert response.json()["outcome"] == "applied"
    assert payment.language == language
    assert order.lines.get().title == TITLES[language]
    message = OutboxMessage.objects.get(event_code="ORDER_PLACED")
    assert message.language == language
    assert TITLES[language] in message.body
