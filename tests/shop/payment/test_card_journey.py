"""A guest pays a home-delivery order by card, through Stripe's flow, end to end."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse
from oscar.core.loading import get_model

from loyalty.models import Reward, RewardKind
from loyalty.services.ledger import points_credit
from loyalty.services.rewards import reward_redeem
from shop.payment.models import PaymentStatus, StripePayment
from tests.factories import product, shipping_country
from tests.loyalty.factories import member_factory
from tests.shop.payment.helpers import (
    ADDRESS,
    delivery_checkout,
    member_delivery_checkout,
    place_order,
)

Order = get_model("order", "Order")
ConditionalOffer = get_model("offer", "ConditionalOffer")
Range = get_model("offer", "Range")
Condition = get_model("offer", "Condition")
Benefit = get_model("offer", "Benefit")

pytestmark = pytest.mark.django_db


def test_guest_pays_a_delivery_order_by_card(client, fake_stripe):
    beans = delivery_checkout(client)

    # Placing the order creates it awaiting payment and opens the pay page
    response = place_order(client)
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("checkout:pay", kwargs={"order_number": order.number})
    assert order.status == "Pending payment"
    assert beans.stockrecords.get().num_allocated == 2
    payment = StripePayment.objects.get(order=order)
    intent = fake_stripe.payment_intents[payment.payment_intent_id]
    assert (intent["amount"], intent["currency"]) == (2500, "eur")
    assert intent["metadata"] == {"order_number": order.number, "shop": "solomo"}
    assert intent["description"] == f"Solomo order {order.number}"  # fixed under its key

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert page.context["stripe"]["client_secret"] == intent["client_secret"]
    assert mail.outbox == []  # not confirmed before it is paid

    # Stripe.js confirms the card and sends the browser back
    fake_stripe.customer_pays(payment.payment_intent_id)
    back = client.get(reverse("checkout:pay-return", kwargs={"order_number": order.number}))

    assert back.status_code == 302
    assert back["Location"] == reverse("checkout:thank-you")
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == "Pending"
    assert payment.status == PaymentStatus.SUCCEEDED
    assert str(payment.amount_received) == "25.000"
    assert [(e.event_type.name, str(e.amount)) for e in order.payment_events.all()] == [
        ("Paid", "25.00")
    ]
    source = order.sources.get()
    assert (str(source.amount_allocated), str(source.amount_debited)) == ("25.00", "25.00")
    thanks = client.get(back["Location"])
    assert thanks.context["order"] == order


def test_shopper_gives_up_on_the_pay_page_and_finds_the_items_back_in_the_basket(
    client, fake_stripe
):
    beans = delivery_checkout(client, quantity=2, stock=5)
    place_order(client)
    order = Order.objects.get()
    assert client.get(reverse("basket:summary")).context["basket"].num_items == 0

    response = client.post(
        reverse("checkout:pay-cancel", kwargs={"order_number": order.number}), follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("basket:summary")
    assert [str(m) for m in response.context["messages"]] == [
        f"Order {order.number} is cancelled and nothing was charged. "
        "Its items are back in your basket."
    ]
    basket = response.context["basket"]
    assert [(line.product_id, line.quantity) for line in basket.all_lines()] == [(beans.pk, 2)]
    order.refresh_from_db()
    assert order.status == "Cancelled"
    assert beans.stockrecords.get().num_allocated == 0
    intent = fake_stripe.payment_intents[order.stripe_payment.payment_intent_id]
    assert (intent["status"], intent["cancellation_reason"]) == (
        "canceled",
        "requested_by_customer",
    )
    # The cancelled order's pay page says so, and offers nothing to pay
    page = client.get(reverse("checkout:pay", kwargs={"order_number": order.number}))
    assert page.status_code == 200
    assert "stripe" not in page.context
    assert b"This order was cancelled and nothing was charged." in page.content


def test_a_signed_in_shopper_finds_pay_now_on_an_order_awaiting_payment(client, fake_stripe):
    user = get_user_model().objects.create_user(
        username="lea", email="lea@example.com", password="pw"
    )
    client.force_login(user)
    shipping_country("FR")
    item = product("Mug", price="8.00", stock=3)
    client.post(reverse("basket:add", kwargs={"pk": item.pk}), {"quantity": 1})
    client.post(reverse("checkout:shipping-address"), ADDRESS)
    client.get(reverse("checkout:shipping-method"))
    place_order(client)
    order = Order.objects.get()
    assert order.status == "Pending payment"

    page = client.get(reverse("customer:order", kwargs={"order_number": order.number}))

    pay_url = reverse("checkout:pay", kwargs={"order_number": order.number})
    assert f'href="{pay_url}"'.encode() in page.content
    # Another browser of the same account may pay it too; a stranger may not
    other = Client()
    other.force_login(user)
    assert other.get(pay_url).status_code == 200
    assert Client().get(pay_url).status_code == 404


def test_a_reward_voucher_used_on_an_unpaid_order_is_usable_again_once_it_is_cancelled(
    client, fake_stripe
):
    # A member spent 500 points on a 10 € voucher and applies it to a card order
    member = member_factory()
    points_credit(member=member, amount=500, reason="Orders", idempotency_key="e:1")
    reward = Reward.objects.create(
        name="10 € off", kind=RewardKind.DISCOUNT, points_cost=500, value="10.00"
    )
    voucher = reward_redeem(member=member, reward=reward, idempotency_key="r:1").voucher
    member_delivery_checkout(client, member.user, price="30.00")
    client.post(reverse("basket:vouchers-add"), {"code": voucher.code})
    place_order(client)
    order = Order.objects.get()
    assert order.total_incl_tax == Decimal("20.00")
    offer = voucher.offers.get()
    voucher.refresh_from_db()
    offer.refresh_from_db()
    assert (voucher.num_orders, offer.num_orders, voucher.applications.count()) == (1, 1, 1)

    # When they give up on paying
    client.post(reverse("checkout:pay-cancel", kwargs={"order_number": order.number}))

    # Then the voucher counts as unused again and can be applied to the next basket
    voucher.refresh_from_db()
    offer.refresh_from_db()
    assert (voucher.num_orders, voucher.total_discount) == (0, Decimal("0.00"))
    assert (offer.num_orders, offer.num_applications, offer.total_discount) == (
        0,
        0,
        Decimal("0.00"),
    )
    assert voucher.applications.count() == 0
    is_available, _message = voucher.is_available_to_user(member.user)
    assert is_available is True


def discounts(client) -> list:
    basket = client.get(reverse("basket:summary")).context["basket"]
    return [(d["name"], d["discount"]) for d in basket.offer_discounts]


def test_a_capped_offer_used_up_by_an_unpaid_order_applies_again_once_it_is_cancelled(
    client, fake_stripe
):
    # Given a site offer for one order only, cached by a first basket page
    everything = Range.objects.create(name="Everything", includes_all_products=True)
    ConditionalOffer.objects.create(
        name="Five euros off, once",
        offer_type=ConditionalOffer.SITE,
        condition=Condition.objects.create(range=everything, type=Condition.COUNT, value=1),
        benefit=Benefit.objects.create(range=everything, type=Benefit.FIXED, value=5),
        max_global_applications=1,
    )
    member = member_factory()
    lamp = member_delivery_checkout(client, member.user, price="30.00", stock=5)
    assert discounts(client) == [("Five euros off, once", Decimal("5.00"))]

    # When an order uses it, the next basket is not discounted (shop/offer/cache.py)
    place_order(client)
    order = Order.objects.get()
    assert order.total_incl_tax == Decimal("25.00")
    client.post(reverse("basket:add", kwargs={"pk": lamp.pk}), {"quantity": 1})
    assert discounts(client) == []

    # And once the order is given up, the offer applies again
    client.post(reverse("checkout:pay-cancel", kwargs={"order_number": order.number}))
    assert discounts(client) == [("Five euros off, once", Decimal("5.00"))]
