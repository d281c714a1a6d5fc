"""The signed-in customer's own orders, with their pickup, and "I'm here".

Any signed-in user, for orders placed with their account only: another's order number is
a 404, exactly like a number that does not exist. "I'm here" calls
stores.services.pickup_customer_arrived as the web page does (stores/views.py pickup_here).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from oscar.core.loading import get_model
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.api.errors import Refused
from stores.models import Pickup
from stores.services import (
    ACTIVE,
    PickupArrivalTooEarly,
    PickupTransitionError,
    pickup_arrival_opens,
    pickup_customer_arrived,
)

Order = get_model("order", "Order")


class PickupSerializer(serializers.Serializer):
    store = serializers.SlugField(source="store.slug")
    store_name = serializers.CharField(source="store.name")
    slot_starts_at = serializers.DateTimeField(source="slot.starts_at")
    slot_ends_at = serializers.DateTimeField(source="slot.ends_at")
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    code = serializers.CharField(help_text="Shown (or its QR) at the counter.")
    customer_arrived_at = serializers.DateTimeField(allow_null=True)
    ready_at = serializers.DateTimeField(allow_null=True)
    collected_at = serializers.DateTimeField(allow_null=True)
    arrival_from = serializers.SerializerMethodField(
        help_text='When "I\'m here" opens, if later than now (null: it works now or never).'
    )

    def get_arrival_from(self, pickup: Pickup) -> str | None:
        if pickup.status not in ACTIVE:
            return None
        now = timezone.now()
        opens = pickup_arrival_opens(pickup=pickup, now=now)
        return opens.isoformat() if opens is not None and opens > now else None


def _pickup(order: Any) -> Pickup | None:
    try:
        return order.pickup
    except Pickup.DoesNotExist:
        return None


class OrderSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()
    date_placed = serializers.DateTimeField()
    total_incl_tax = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    pickup = serializers.SerializerMethodField()

    @extend_schema_field(PickupSerializer(allow_null=True))
    def get_pickup(self, order: Any) -> dict | None:
        pickup = _pickup(order)
        return PickupSerializer(pickup).data if pickup is not None else None


class LineSerializer(serializers.Serializer):
    title = serializers.CharField()
    upc = serializers.CharField(allow_null=True)
    quantity = serializers.IntegerField()
    line_price_incl_tax = serializers.DecimalField(max_digits=12, decimal_places=2)


class OrderDetailSerializer(OrderSerializer):
    lines = LineSerializer(many=True, source="lines.all")


def _own_orders(request: Request) -> Any:
    return (
        Order.objects.filter(user=request.user)
        .select_related("pickup__store", "pickup__slot")
        .order_by("-date_placed", "-pk")
    )


def _own_order(request: Request, number: str) -> Any:
    order = _own_orders(request).filter(number=number).first()
    if order is None:
        raise Http404(_("You have no order with this number."))
    return order


class OrderListView(ListAPIView):
    """A signed-in user: their own orders, newest first, with each one's pickup."""

    permission_classes = [IsAuthenticated]
    serializer_class = OrderSerializer

    def get_queryset(self) -> Any:
        return _own_orders(self.request)


class OrderDetailView(APIView):
    """A signed-in user: one of their own orders, its lines and its pickup."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=OrderDetailSerializer)
    def get(self, request: Request, number: str) -> Response:
        order = _own_order(request, number)
        return Response(OrderDetailSerializer(order).data)


class ImHereView(APIView):
    """A signed-in user, for their own click & collect order: tell the store they are
    here (its queue shows it). 409 `refused` with the reason when it is too early or the
    pickup is over; 404 for an order without a pickup."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=PickupSerializer)
    def post(self, request: Request, number: str) -> Response:
        pickup = _pickup(_own_order(request, number))
        if pickup is None:
            raise Http404(_("This order is not collected in a store."))
        try:
            pickup = pickup_customer_arrived(pickup=pickup, now=timezone.now())
        except (PickupTransitionError, PickupArrivalTooEarly) as exc:
            raise Refused(str(exc)) from exc
        return Response(PickupSerializer(pickup).data)
