"""Click & collect checkout for a signed-in user's own basket: where and when it can be
collected (stores.selectors, as the site's checkout steps ask), then placing the order."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.api.basket import request_basket
from stores.selectors import (
    chosen_store_for_request,
    slots_available_for_stores,
    stores_for_basket,
)


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
