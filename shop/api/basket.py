"""The signed-in user's basket: see it, add a product. Any signed-in user, their own open
basket only (Oscar's: the same one the site shows them). Quantities are checked by the
site's own form (shop/basket_add.py: one message saying how many can be added), prices and
stock come from the store-aware strategy (shop/partner/strategy.py)."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field
from oscar.apps.basket.signals import basket_addition
from oscar.core.loading import get_class, get_model
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.basket_add import AddToBasketForm

Product = get_model("catalogue", "Product")
Selector = get_class("partner.strategy", "Selector")
Applicator = get_class("offer.applicator", "Applicator")


def request_basket(request: Request) -> Any:
    """Oscar's open basket of the user DRF authenticated (DRF sets it on the Django
    request, so Oscar's lazy basket loads the owner's), priced for that user."""
    basket = request._request.basket  # type: ignore[attr-defined]  # Oscar's BasketMiddleware
    basket.strategy = Selector().strategy(request=request._request, user=request.user)
    basket.reset_offer_applications()
    Applicator().apply(basket, request.user, request._request)
    return basket


class BasketLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product = serializers.IntegerField(source="product_id")
    title = serializers.CharField(source="product.get_title")
    quantity = serializers.IntegerField()
    unit_price_incl_tax = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    line_price_incl_tax = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)


class BasketSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    num_items = serializers.IntegerField()
    currency = serializers.CharField(allow_null=True)
    total_incl_tax = serializers.DecimalField(max_digits=12, decimal_places=2)
    lines = serializers.SerializerMethodField()

    @extend_schema_field(BasketLineSerializer(many=True))
    def get_lines(self, basket: Any) -> list[Any]:
        lines = basket.all_lines() if basket.id else []
        return list(BasketLineSerializer(lines, many=True).data)


class BasketAddSerializer(serializers.Serializer):
    product = serializers.IntegerField(help_text="A product's id (a variant's, not its parent's).")
    quantity = serializers.IntegerField(min_value=1, default=1)


class BasketView(APIView):
    """A signed-in user: their basket (GET); add a product to it (POST)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=BasketSerializer)
    def get(self, request: Request) -> Response:
        return Response(BasketSerializer(request_basket(request)).data)

    @extend_schema(request=BasketAddSerializer, responses={201: BasketSerializer})
    def post(self, request: Request) -> Response:
        given = BasketAddSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        product = get_object_or_404(Product.objects.public(), pk=given.validated_data["product"])
        basket = request_basket(request)
        form = AddToBasketForm(basket, product, data={"quantity": given.validated_data["quantity"]})
        if not form.is_valid():
            raise exceptions.ValidationError(
                {
                    ("product" if name == "__all__" else name): [str(m) for m in errors]
                    for name, errors in form.errors.items()
                }
            )
        basket.add_product(product, form.cleaned_data["quantity"], form.cleaned_options())
        basket_addition.send(
            sender=self, product=product, user=request.user, request=request._request
        )
        return Response(
            BasketSerializer(request_basket(request)).data, status=status.HTTP_201_CREATED
        )
