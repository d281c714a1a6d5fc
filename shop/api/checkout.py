"""Click & collect checkout for a signed-in user's own basket: where and when it can be
collected (stores.selectors, as the site's checkout steps ask), then placing the order."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from oscar.apps.order.exceptions import UnableToPlaceOrder
from oscar.apps.payment.exceptions import PaymentError, UnableToTakePayment
from oscar.core.loading import get_class
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty.models import Member
from loyalty.selectors import member_for_user
from loyalty.services.errors import LoyaltyError
from loyalty.services.redemption import redeem_check
from shop.api.basket import request_basket
from shop.api.errors import Refused
from shop.api.orders import OrderSerializer
from shop.checkout.pickup import PickupChoice, basket_use_store_stock
from shop.checkout.views import PAYMENT_PROBLEM
from shop.constants import AWAITING_PAYMENT
from shop.orders.placement import PaymentChoice, Shipping, order_place
from shop.payment import gateway
from shop.payment import methods as payment_methods
from shop.payment.methods import AT_PICKUP, CARD
from shop.payment.settlement import order_confirmation_send
from shop.shipping.methods import ClickAndCollect
from stores.models import Store
from stores.selectors import (
    chosen_store_for_request,
    slots_available,
    slots_available_for_stores,
    stores_for_basket,
)

OrderNumberGenerator = get_class("order.utils", "OrderNumberGenerator")
OrderTotalCalculator = get_class("checkout.calculators", "OrderTotalCalculator")


class SlotSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    remaining = serializers.IntegerField(help_text="Pickups this slot can still take.")


class PickupStoreSerializer(serializers.Serializer):
    store = serializers.SlugField(source="store.slug")
    store_name = serializers.CharField(source="store.name")
    slots = SlotSerializer(many=True)


class PickupOptionsView(APIView):
    """A signed-in user: the stores that hold their whole basket, nearest to their chosen
    store first, each with the slots that still have room."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PickupStoreSerializer(many=True))
    def get(self, request: Request) -> Response:
        basket = request_basket(request)
        chosen = chosen_store_for_request(request._request)
        near: dict[str, Any] = (
            {"lat": chosen.latitude, "lng": chosen.longitude} if chosen is not None else {}
        )
        stores = stores_for_basket(basket_or_lines=basket, **near) if basket.id else []
        slots = slots_available_for_stores(stores=stores, now=timezone.now())
        options = [{"store": store, "slots": slots[store.pk]} for store in stores]
        return Response(PickupStoreSerializer(options, many=True).data)


class CheckoutSerializer(serializers.Serializer):
    store = serializers.SlugField(help_text="One of the pickup options' stores.")
    slot = serializers.DateTimeField(help_text="One of that store's slots' starts_at.")
    payment = serializers.ChoiceField(
        choices=[AT_PICKUP.code, CARD.code], help_text="Pay at pickup, or by card now."
    )
    points = serializers.IntegerField(
        min_value=0, default=0, help_text="Loyalty points to pay part of the order with."
    )


class CardPaymentSerializer(serializers.Serializer):
    client_secret = serializers.CharField(help_text="Confirm it with Stripe's SDK.")
    publishable_key = serializers.CharField()


class PlacedSerializer(serializers.Serializer):
    order = OrderSerializer()
    card = CardPaymentSerializer(
        allow_null=True, help_text="For a card payment: the PaymentIntent to confirm."
    )


def _field_error(name: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({name: [message]})


def _pickup_choice(basket: Any, slug: str, starts_at: dt.datetime) -> PickupChoice:
    """The store and slot, checked as the site's pickup steps check them; the basket's
    lines then come from that store's stock (shop/checkout/pickup.py)."""
    store = Store.objects.active().filter(slug=slug, pickup_enabled=True).first()
    if store is None:
        raise _field_error("store", _("No store has this name."))
    free = {
        slot.starts_at
        for slot in slots_available(store=store, basket_or_lines=basket, now=timezone.now())
    }
    if starts_at not in free:
        raise _field_error("slot", _("Please choose a pickup time from the list."))
    try:
        basket_use_store_stock(basket=basket, store=store)
    except LookupError as exc:
        raise _field_error(
            "store", _("This store does not sell everything in your basket.")
        ) from exc
    return PickupChoice(store=store, starts_at=starts_at)


def _points(request: Request, points: int, total: Any) -> tuple[Member | None, int]:
    member = member_for_user(user=request.user)
    if not points:
        return member, 0
    if member is None:
        raise _field_error("points", _("You have not joined the loyalty programme yet."))
    try:
        return member, redeem_check(
            balance=member.balance, points=points, order_total=total.incl_tax
        )
    except LoyaltyError as exc:
        raise _field_error("points", exc.message) from exc


def _card(order: Any) -> dict | None:
    if order.status != AWAITING_PAYMENT:
        return None
    intent = gateway.payment_intent_retrieve(order.stripe_payment.payment_intent_id)
    return {"client_secret": intent["client_secret"], "publishable_key": gateway.publishable_key()}


class CheckoutView(APIView):
    """A signed-in user: place a click & collect order of their basket, in a store and slot
    from the pickup options, paid at pickup or by card (then confirm the returned
    PaymentIntent), with points if they are a member. The order is placed by
    shop.orders.placement.order_place, the one placement service, as the site's checkout
    does: once per basket. 400 with the field at fault; 409 `refused` when the payment or
    the order cannot go through (nothing is taken then)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=CheckoutSerializer, responses={201: PlacedSerializer})
    def post(self, request: Request) -> Response:
        given = CheckoutSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        basket = request_basket(request)
        if not basket.id or basket.is_empty:
            raise exceptions.ValidationError(_("Your basket is empty."))
        method = payment_methods.ALL[data["payment"]]
        if method not in payment_methods.methods_available(pickup=True):
            raise _field_error("payment", _("This way of paying is not offered."))
        pickup = _pickup_choice(basket, data["store"], data["slot"])
        shipping = ClickAndCollect()
        charge = shipping.calculate(basket)
        total = OrderTotalCalculator(request._request).calculate(basket, charge)
        member, points = _points(request, data["points"], total)
        try:
            placed = order_place(
                basket=basket,
                user=request.user,
                order_number=OrderNumberGenerator().order_number(basket),
                total=total,
                shipping=Shipping(method=shipping, charge=charge),
                payment=PaymentChoice(method=method, member=member, points=points),
                pickup=pickup,
                request=request._request,
            )
        except (UnableToTakePayment, UnableToPlaceOrder) as exc:
            raise Refused(str(exc)) from exc
        except PaymentError as exc:
            raise Refused(str(PAYMENT_PROBLEM), code="payment_error", status_code=502) from exc
        order = placed.order
        if placed.created and order.status != AWAITING_PAYMENT:
            order_confirmation_send(order)
        body = {"order": order, "card": _card(order)}
        status_code = status.HTTP_201_CREATED if placed.created else status.HTTP_200_OK
        return Response(PlacedSerializer(body).data, status=status_code)
