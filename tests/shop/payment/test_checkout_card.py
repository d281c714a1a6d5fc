"""Card checkout: idempotent PaymentIntents (R6), double submit (R7), and every branch of
the journey -- click & collect, pay at pickup, 3-D Secure (R9), declines, cancelling,
points + card, no Stripe keys, and who may open the pay page."""

from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model
from oscar.test.factories import UserFactory

from loyalty.models import EntryKind
from loyalty.services.ledger import points_credit
from shop.communication.models import OutboxMessage
from shop.payment.models import PaymentStatus, StripePayment
from stores.models import Pickup
from stores.services import pickup_hand_over, pickup_mark_ready
from tests.concurrency import hold_row_locks, run_concurrently
from tests.factories import product, shipping_country
from tests.fake_stripe import PUBLISHABLE_KEY
from tests.loyalty.factories import member_factory
from tests.shop.checkout_fixtures import choose_pickup, open_store, redemption_rules, start_checkout
from tests.shop.payment.helpers import (
    ADDRESS,
    delivery_checkout,
    member_delivery_checkout,
    pay_cancel,
    pay_return,
    pay_url,
    place_order,
    use_points,
    webhook,
)
from tests.stores.factories import stock

Basket = get_model("basket", "Basket")
Order = get_model("order", "Order")
PaymentEvent = get_model("order", "PaymentEvent")

pytestmark = pytest.mark.django_db

NO_PAYMENT_TAKEN = "no payment has been taken"


def intent_posts(fake) -> list[tuple[str, str, dict, str | None]]:
    """The PaymentIntent creations the fake received (not cancels or confirms)."""
    return [r for r in fake.requests if r[0] == "POST" and r[1] == "/v1/payment_intents"]


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def paid_events(order) -> list[tuple[str, Decimal]]:
    return [(e.event_type.name, e.amount) for e in order.payment_events.order_by("pk")]


def confirmations() -> int:
    return OutboxMessage.objects.filter(event_code="ORDER_PLACED").count()


def allocated(item) -> int:
    return sum(r.num_allocated or 0 for r in item.stockrecords.all())


def member(balance=1500):
    created = member_factory(email="member@example.com")
    if balance:
        points_credit(member=created, amount=balance, reason="Earned", idempotency_key="seed")
    return created


def redemptions(member_) -> list[tuple[str, int]]:
    return list(
        member_.entries.filter(kind__in=(EntryKind.REDEEM, EntryKind.REVERSAL))
        .order_by("pk")
        .values_list("kind", "amount")
    )


@pytest.fixture
def points_rules():
    """The marketers' redemption rules: 1 point = 0.01, at least 100, at most half."""
    redemption_rules(point_value="0.01", min_points=100, max_share="0.5")


# --- R6: one PaymentIntent per order, whoever retries ----------------------------------------


@pytest.mark.usefixtures("fast_retries")
@pytest.mark.parametrize("fault", ["timeout_next", "disconnect_next"])
def test_library_retries_after_a_lost_answer_create_one_payment_intent(
    client, fake_stripe, settings, fault
):
    settings.STRIPE_TIMEOUT = 0.5
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    delivery_checkout(client)
    # Stripe creates the PaymentIntent, then its answer never arrives
    getattr(fake_stripe, fault)("POST", "/v1/payment_intents")

    response = place_order(client)

    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == pay_url(order)
    assert len(fake_stripe.payment_intents) == 1
    key = f"pi:{order.number}:2500:eur"
    assert [r[3] for r in intent_posts(fake_stripe)] == [key, key]
    payment = StripePayment.objects.get()
    assert payment.payment_intent_id == next(iter(fake_stripe.payment_intents))


def test_shopper_retrying_place_order_after_timeouts_gets_one_payment_intent(
    client, fake_stripe, settings
):
    settings.STRIPE_TIMEOUT = 0.3
    settings.STRIPE_MAX_NETWORK_RETRIES = 0  # only the shopper retries
    beans = delivery_checkout(client)
    fake_stripe.timeout_next("POST", "/v1/payment_intents", count=4)

    for _attempt in range(4):
        response = place_order(client)
        assert response.status_code == 200
        assert NO_PAYMENT_TAKEN in response.content.decode()
        assert not Order.objects.exists()
        assert allocated(beans) == 0
    response = place_order(client)

    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == pay_url(order)
    assert len(fake_stripe.payment_intents) == 1
    key = f"pi:{order.number}:2500:eur"
    assert [r[3] for r in intent_posts(fake_stripe)] == [key] * 5
    assert StripePayment.objects.get().payment_intent_id == next(iter(fake_stripe.payment_intents))
    assert allocated(beans) == 2


@pytest.mark.usefixtures("fast_retries")
def test_stripe_unreachable_takes_nothing_and_gives_the_points_back(
    client, fake_stripe, settings, points_rules
):
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    shopper = member(balance=1500)
    lamp = member_delivery_checkout(client, shopper.user, price="20.00")
    use_points(client, 1000)
    # Three attempts (the library's two retries included), all refused: nothing created
    fake_stripe.fail_next("POST", "/v1/payment_intents", 500, after_commit=False, count=3)

    response = place_order(client)

    assert response.status_code == 200
    assert NO_PAYMENT_TAKEN in response.content.decode()
    assert len(intent_posts(fake_stripe)) == 3
    assert fake_stripe.payment_intents == {}
    assert not Order.objects.exists()
    assert allocated(lamp) == 0
    shopper.refresh_from_db()
    assert shopper.balance == 1500
    assert redemptions(shopper) == [(EntryKind.REDEEM, -1000), (EntryKind.REVERSAL, 1000)]
    assert response.context["request"].basket.num_items == 1  # basket restored

    # Stripe answers again: the same click places one order, points spent once more
    response = place_order(client)
    order = Order.objects.get()
    assert response["Location"] == pay_url(order)
    shopper.refresh_from_db()
    assert shopper.balance == 500
    assert fake_stripe.payment_intents[order.stripe_payment.payment_intent_id]["amount"] == 1000


# --- R7: five concurrent place-order posts of one basket -------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_five_concurrent_place_order_posts_make_one_order_and_one_payment(fake_stripe):
    first = Client()
    beans = delivery_checkout(first)
    basket = Basket.objects.get()
    browsers = []
    for _ in range(5):
        browser = Client()
        for name, morsel in first.cookies.items():
            browser.cookies[name] = morsel.value  # the same session, the same basket
        browsers.append(browser)

    responses = run_concurrently(
        [lambda b=b: place_order(b) for b in browsers],
        lock=hold_row_locks("basket_basket", [basket.pk]),
        until_blocked=5,
    )

    assert [r for r in responses if isinstance(r, Exception)] == []
    order = Order.objects.get()
    assert [(r.status_code, r["Location"]) for r in responses] == [(302, pay_url(order))] * 5
    assert len(fake_stripe.payment_intents) == 1
    payment = StripePayment.objects.get()
    assert payment.order == order
    assert payment.payment_intent_id == next(iter(fake_stripe.payment_intents))
    assert allocated(beans) == 2
    # Every browser can open the pay page
    assert browsers[0].get(pay_url(order)).status_code == 200


# --- Click & collect ------------------------------------------------------------------------


def pickup_ready_to_choose(client, *, price="8.00", quantity=1):
    mug = product("Mug", price=price, stock=10)
    shop = open_store()
    record = stock(shop, mug, 3, price=price)
    start_checkout(client, mug, quantity=quantity)
    _slot, response = choose_pickup(client, shop)
    return shop, record, response


def choose_method(client, code):
    return client.post(reverse("checkout:payment-method"), {"method": code})


def queue_pickups(staff) -> list[Pickup]:
    response = staff.get(reverse("stores-dashboard:queue"))
    assert response.status_code == 200
    return list(response.context["pickups"])


def test_click_and_collect_paid_by_card_reaches_the_store_queue_once_paid(client, fake_stripe):
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    _shop, record, response = pickup_ready_to_choose(client, quantity=2)

    # Both ways of paying are offered
    assert response.redirect_chain[-1][0] == reverse("checkout:payment-method")
    assert [m.code for m in response.context["form"].methods] == ["card", "pay-at-pickup"]
    page = response.content.decode()
    assert "Card" in page and "Pay at pickup" in page

    assert choose_method(client, "card")["Location"] == reverse("checkout:preview")
    response = place_order(client)
    order = Order.objects.get()
    assert response["Location"] == pay_url(order)
    pickup = Pickup.objects.get(order=order)
    assert order.status == "Pending payment"
    record.refresh_from_db()
    assert record.num_allocated == 2
    assert queue_pickups(staff) == []  # not to prepare before it is paid
    assert staff.get(reverse("stores-dashboard:detail", args=[pickup.pk])).status_code == 404

    payment = order.stripe_payment
    fake_stripe.customer_pays(payment.payment_intent_id)
    back = pay_return(client, order)

    assert back["Location"] == reverse("checkout:thank-you")
    order.refresh_from_db()
    assert order.status == "Pending"
    assert paid_events(order) == [("Paid", Decimal("16.00"))]
    assert queue_pickups(staff) == [pickup]
    assert confirmations() == 1


def test_click_and_collect_paid_at_pickup_is_debited_at_hand_over(client, fake_stripe):
    _shop, record, _response = pickup_ready_to_choose(client, price="8.00", quantity=2)
    choose_method(client, "pay-at-pickup")

    response = place_order(client)

    assert response["Location"] == reverse("checkout:thank-you")
    order = Order.objects.get()
    assert order.status == "Pending"
    assert fake_stripe.requests == []  # Stripe is not involved
    source = order.sources.get()
    assert (source.source_type.code, source.amount_allocated, source.amount_debited) == (
        "pay-at-pickup",
        Decimal("16.00"),
        Decimal("0.00"),
    )
    assert paid_events(order) == []

    pickup = Pickup.objects.get(order=order)
    pickup_mark_ready(pickup=pickup, now=timezone.now())
    pickup_hand_over(pickup=pickup, code=pickup.code, now=timezone.now())

    source.refresh_from_db()
    assert source.amount_debited == Decimal("16.00")
    assert paid_events(order) == [("Paid at pickup", Decimal("16.00"))]
    assert order.payment_events.get().reference == f"pickup:{pickup.pk}"
    record.refresh_from_db()
    assert (record.num_in_stock, record.num_allocated) == (1, 0)


# --- 3-D Secure and declines (R9) ------------------------------------------------------------


def basket_items(client) -> int:
    return client.get(reverse("basket:summary")).context["basket"].num_items


def test_three_d_secure_then_paid_keeps_stock_and_basket_consistent(client, fake_stripe):
    beans = delivery_checkout(client)
    place_order(client)
    order = Order.objects.get()
    payment = order.stripe_payment
    page = client.get(pay_url(order))
    return_url = page.context["stripe"]["return_url"]

    # The bank asks for 3-D Secure: Stripe.js sends the shopper to its page, then back
    intent = fake_stripe.customer_pays(
        payment.payment_intent_id, "pm_card_threeDSecure2Required", return_url=return_url
    )
    assert intent["status"] == "requires_action"
    back = pay_return(client, order)

    assert back["Location"] == pay_url(order)
    again = client.get(back["Location"])
    assert again.status_code == 200
    assert again.context["stripe"]["client_secret"] == intent["client_secret"]
    assert messages_of(again) == []
    order.refresh_from_db()
    assert (order.status, order.stripe_payment.status) == (
        "Pending payment",
        PaymentStatus.REQUIRES_ACTION,
    )
    assert allocated(beans) == 2
    assert basket_items(client) == 0

    # The shopper completes the bank's page, which redirects to our return URL
    challenge = intent["next_action"]["redirect_to_url"]["url"]
    done = requests.get(f"{challenge}/complete", allow_redirects=False, timeout=5)
    assert done.status_code == 302
    location = urlsplit(done.headers["Location"])
    assert location.path == urlsplit(return_url).path
    back = client.get(f"{location.path}?{location.query}")

    assert back["Location"] == reverse("checkout:thank-you")
    assert client.get(back["Location"]).context["order"] == order
    order.refresh_from_db()
    assert order.status == "Pending"
    assert paid_events(order) == [("Paid", Decimal("25.00"))]
    assert allocated(beans) == 2  # allocated once, at placement
    assert basket_items(client) == 0  # not restored
    assert confirmations() == 1


def test_a_declined_card_then_another_card_pays_the_one_order(client, fake_stripe):
    beans = delivery_checkout(client)
    place_order(client)
    order = Order.objects.get()
    pi_id = order.stripe_payment.payment_intent_id

    fake_stripe.customer_pays(pi_id, "pm_card_chargeDeclined")
    back = pay_return(client, order)

    assert back["Location"] == pay_url(order)
    page = client.get(back["Location"])
    assert messages_of(page) == [
        "Your payment did not go through: Your card was declined. Please try another card."
    ]
    order.refresh_from_db()
    assert order.status == "Pending payment"
    assert order.stripe_payment.last_error == "Your card was declined."
    assert allocated(beans) == 2
    assert paid_events(order) == []

    fake_stripe.customer_pays(pi_id, "pm_card_visa")
    back = pay_return(client, order)

    assert back["Location"] == reverse("checkout:thank-you")
    assert Order.objects.count() == 1
    order.refresh_from_db()
    assert order.status == "Pending"
    assert paid_events(order) == [("Paid", Decimal("25.00"))]
    assert len(fake_stripe.payment_intents) == 1
    assert allocated(beans) == 2
    assert confirmations() == 1


# --- Cancelling, points + card ---------------------------------------------------------------


def test_points_and_card_pay_the_rest_by_card(client, fake_stripe, points_rules):
    shopper = member(balance=1500)
    member_delivery_checkout(client, shopper.user, price="20.00")
    use_points(client, 1000)
    preview = client.get(reverse("checkout:preview"))
    assert preview.context["amount_left_to_pay"] == Decimal("10.00")

    response = place_order(client)

    order = Order.objects.get()
    assert response["Location"] == pay_url(order)
    assert order.total_incl_tax == Decimal("20.00")
    payment = order.stripe_payment
    intent = fake_stripe.payment_intents[payment.payment_intent_id]
    assert (intent["amount"], intent["currency"]) == (1000, "eur")
    assert [r[3] for r in intent_posts(fake_stripe)] == [f"pi:{order.number}:1000:eur"]
    shopper.refresh_from_db()
    assert shopper.balance == 500

    fake_stripe.customer_pays(payment.payment_intent_id)
    assert pay_return(client, order)["Location"] == reverse("checkout:thank-you")

    order.refresh_from_db()
    assert order.status == "Pending"
    sources = {
        s.source_type.code: (s.amount_allocated, s.amount_debited) for s in order.sources.all()
    }
    assert sources == {
        "loyalty-points": (Decimal("10.00"), Decimal("10.00")),
        "stripe-card": (Decimal("10.00"), Decimal("10.00")),
    }
    assert paid_events(order) == [
        ("Loyalty points", Decimal("10.00")),
        ("Paid", Decimal("10.00")),
    ]
    shopper.refresh_from_db()
    assert shopper.balance == 500
    assert redemptions(shopper) == [(EntryKind.REDEEM, -1000)]


def test_shopper_cancels_on_the_pay_page_and_everything_comes_back_once(
    client, fake_stripe, points_rules
):
    shopper = member(balance=1500)
    lamp = member_delivery_checkout(client, shopper.user, price="20.00")
    use_points(client, 1000)
    place_order(client)
    order = Order.objects.get()
    pi_id = order.stripe_payment.payment_intent_id
    assert allocated(lamp) == 1

    response = pay_cancel(client, order)

    assert response.status_code == 302
    assert response["Location"] == reverse("basket:summary")
    assert messages_of(response) == [
        f"Order {order.number} is cancelled and nothing was charged. "
        "Its items are back in your basket."
    ]
    assert basket_items(client) == 1
    intent = fake_stripe.payment_intents[pi_id]
    assert (intent["status"], intent["cancellation_reason"]) == (
        "canceled",
        "requested_by_customer",
    )
    order.refresh_from_db()
    assert order.status == "Cancelled"
    assert order.stripe_payment.status == PaymentStatus.CANCELED
    assert allocated(lamp) == 0
    shopper.refresh_from_db()
    assert shopper.balance == 1500
    assert redemptions(shopper) == [(EntryKind.REDEEM, -1000), (EntryKind.REVERSAL, 1000)]

    # Cancelling again, and Stripe's canceled event, give nothing back a second time
    again = pay_cancel(client, order)
    assert again["Location"] == reverse("basket:summary")
    response, _event = webhook(client, fake_stripe, "payment_intent.canceled", intent)
    assert response.status_code == 200
    shopper.refresh_from_db()
    assert shopper.balance == 1500
    assert redemptions(shopper) == [(EntryKind.REDEEM, -1000), (EntryKind.REVERSAL, 1000)]
    assert allocated(lamp) == 0
    assert paid_events(order) == [("Loyalty points", Decimal("10.00"))]
    assert confirmations() == 0
    assert basket_items(client) == 1  # put back once, not once per click


# --- Without Stripe keys ---------------------------------------------------------------------


@pytest.fixture
def no_stripe(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_PUBLISHABLE_KEY = ""


NO_CARD = (
    "Card payment is not available in this shop yet: choose click & collect and pay when "
    "you pick up your order."
)


def test_without_stripe_keys_a_delivery_checkout_is_sent_back_to_choose_pickup(client, no_stripe):
    shipping_country("FR")
    beans = product("Ethiopian beans", price="12.50", stock=5)
    stock(open_store(), beans, 3, price="12.50")
    client.post(reverse("basket:add", kwargs={"pk": beans.pk}), {"quantity": 1})
    client.post(
        reverse("checkout:index"), {"username": "guest@example.com", "options": "anonymous"}
    )

    response = client.post(reverse("checkout:shipping-address"), ADDRESS, follow=True)

    # Delivery skips the method step (one method), then the payment step finds no way to
    # pay: back to the first step, which offers click & collect, with the reason.
    assert [url for url, _status in response.redirect_chain] == [
        reverse("checkout:shipping-method"),
        reverse("checkout:payment-method"),
        reverse("checkout:delivery"),
    ]
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]][-1] == NO_CARD
    assert f'href="{reverse("checkout:pickup")}"' in response.content.decode()
    assert response.context["delivery_payable"] is False
    response = place_order(client)
    assert response["Location"] == reverse("checkout:delivery")
    assert messages_of(response) == [NO_CARD]
    assert not Order.objects.exists()


def test_without_stripe_keys_a_pickup_checkout_goes_to_preview_with_pay_at_pickup(
    client, no_stripe
):
    _shop, _record, response = pickup_ready_to_choose(client)

    assert response.redirect_chain[-1][0] == reverse("checkout:preview")
    assert response.context["payment_method"].code == "pay-at-pickup"
    assert place_order(client)["Location"] == reverse("checkout:thank-you")
    order = Order.objects.get()
    assert order.status == "Pending"
    assert [s.source_type.code for s in order.sources.all()] == ["pay-at-pickup"]


def test_the_test_payment_method_pays_a_delivery_order_without_stripe(client, no_stripe, settings):
    settings.PAYMENT_TEST_METHOD = True
    delivery_checkout(client)

    response = place_order(client)

    assert response["Location"] == reverse("checkout:thank-you")
    order = Order.objects.get()
    assert order.status == "Pending"
    source = order.sources.get()
    assert (source.source_type.code, source.amount_allocated, source.amount_debited) == (
        "test-payment",
        Decimal("25.00"),
        Decimal("25.00"),
    )
    assert paid_events(order) == [("Test payment (no money moved)", Decimal("25.00"))]
    assert not StripePayment.objects.exists()


# --- Who may open the pay page ---------------------------------------------------------------


def test_only_the_browser_that_placed_the_order_sees_its_pay_page(client, fake_stripe):
    delivery_checkout(client)
    place_order(client)
    order = Order.objects.get()
    intent = fake_stripe.payment_intents[order.stripe_payment.payment_intent_id]

    mine = client.get(pay_url(order))
    assert mine.status_code == 200
    assert mine.context["stripe"]["publishable_key"] == PUBLISHABLE_KEY
    assert mine.context["stripe"]["client_secret"] == intent["client_secret"]
    assert PUBLISHABLE_KEY in mine.content.decode()
    assert intent["client_secret"] in mine.content.decode()

    stranger = Client()
    for response in (
        stranger.get(pay_url(order)),
        pay_return(stranger, order),
        pay_cancel(stranger, order),
    ):
        assert response.status_code == 404
        assert intent["client_secret"] not in response.content.decode()
        assert PUBLISHABLE_KEY not in response.content.decode()
    order.refresh_from_db()
    assert order.status == "Pending payment"
    assert fake_stripe.payment_intents[intent["id"]]["status"] == "requires_payment_method"

    # Another signed-in customer is a stranger too
    someone = Client()
    someone.force_login(UserFactory())
    assert someone.get(pay_url(order)).status_code == 404
