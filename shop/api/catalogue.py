"""Products and stores, for anyone (no sign-in): the catalogue's own selectors
(shop/search/selectors.py) and the stores' (stores/selectors.py), as the web pages use them.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Min
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.search.forms import MAX_QUERY_LENGTH, ProductSearchForm
from shop.search.selectors import products_browsable, products_search
from stores.api.views import MAX_LIMIT, BadRequest, parse_near_query
from stores.models import Store
from stores.presenters import store_data
from stores.selectors import prefetch_hours, store_offer_records, stores_near
from stores.services import store_choose


class AddressSerializer(serializers.Serializer):
    line1 = serializers.CharField()
    line2 = serializers.CharField(allow_blank=True)
    postcode = serializers.CharField()
    city = serializers.CharField()
    country = serializers.CharField()


class ServiceSerializer(serializers.Serializer):
    code = serializers.CharField()
    # A field named like Field.label: DRF's metaclass takes it out of the class attributes.
    label = serializers.CharField()  # type: ignore[assignment]


class StoreSerializer(serializers.Serializer):
    """stores.presenters.store_data, as the stores' own JSON API gives it."""

    slug = serializers.SlugField()
    name = serializers.CharField()
    address = AddressSerializer()
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    phone = serializers.CharField(allow_blank=True)
    email = serializers.CharField(allow_blank=True)
    timezone = serializers.CharField()
    services = ServiceSerializer(many=True)
    pickup_enabled = serializers.BooleanField()
    url = serializers.URLField()
    api_url = serializers.URLField()
    is_open_now = serializers.BooleanField()
    next_change = serializers.DateTimeField(allow_null=True)


class NearbyStoreSerializer(StoreSerializer):
    distance_km = serializers.FloatField()
    num_available = serializers.IntegerField(
        allow_null=True, help_text="Units of `product` free to sell there (null without it)."
    )


class ProductSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(source="get_title")
    upc = serializers.CharField(allow_null=True)
    structure = serializers.CharField()
    min_price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    url = serializers.CharField(source="get_absolute_url")
    num_available_at_store = serializers.SerializerMethodField(
        help_text="Units free to sell at `store` (null without it): its stock record's "
        "stock less what is allocated to orders."
    )

    def get_num_available_at_store(self, product: Any) -> int | None:
        store = self.context.get("store")
        if store is None:
            return None
        records = list(product.stockrecords.all())
        for child in product.children.all():
            records += child.stockrecords.all()
        return sum(
            max(record.net_stock_level or 0, 0)
            for record in records
            if record.partner_id == store.partner_id
        )


class AvailabilitySerializer(serializers.Serializer):
    store = serializers.SlugField(source="partner.store.slug")
    store_name = serializers.CharField(source="partner.store.name")
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField(source="price_currency")
    num_available = serializers.SerializerMethodField()

    def get_num_available(self, record: Any) -> int:
        return max(record.net_stock_level or 0, 0)


class ProductDetailSerializer(ProductSerializer):
    description = serializers.CharField(allow_blank=True)
    children = serializers.SerializerMethodField()
    availability = serializers.SerializerMethodField()

    def get_children(self, product: Any) -> list[int]:
        return [child.pk for child in product.children.all()]

    @extend_schema_field(AvailabilitySerializer(many=True))
    def get_availability(self, product: Any) -> list[Any]:
        return list(AvailabilitySerializer(store_offer_records(product=product), many=True).data)


def _store_or_none(slug: str | None) -> Store | None:
    if not slug:
        return None
    store = Store.objects.active().filter(slug=slug).first()
    if store is None:
        raise exceptions.ValidationError({"store": [_("No store has this name.")]})
    return store


@extend_schema(
    parameters=[
        OpenApiParameter("q", str, description=f"Words to search (cut at {MAX_QUERY_LENGTH})."),
        OpenApiParameter(
            "sort_by", str, enum=[code for code, _label in ProductSearchForm.SORT_BY_CHOICES]
        ),
        OpenApiParameter("store", str, description="A store's slug: units free to sell there."),
    ]
)
class ProductListView(ListAPIView):
    """Anyone: browsable products, searched and sorted as on the site."""

    permission_classes = [AllowAny]
    serializer_class = ProductSerializer

    def get_queryset(self) -> Any:
        form = ProductSearchForm(self.request.query_params)
        if not form.is_valid():
            raise exceptions.ValidationError(
                {field: [str(m) for m in messages] for field, messages in form.errors.items()}
            )
        found = products_search(query=form.query, sort=form.sort)
        # The site's listing reads ids and titles only (its cards come from a cache); the API
        # answers every field of the serializer and the lowest price, in this one query.
        found = found.defer(None)
        if "min_price" not in found.query.annotations:
            found = found.annotate(min_price=Min("stockrecords__price"))
        return found

    def get_serializer_context(self) -> dict[str, Any]:
        store = _store_or_none(self.request.query_params.get("store"))
        return {**super().get_serializer_context(), "store": store}


class ProductDetailView(APIView):
    """Anyone: a browsable product, with its price and units free at every store."""

    permission_classes = [AllowAny]

    @extend_schema(
        responses=ProductDetailSerializer,
        parameters=[OpenApiParameter("store", str, description="A store's slug.")],
    )
    def get(self, request: Request, pk: int) -> Response:
        product = get_object_or_404(products_browsable(), pk=pk)
        store = _store_or_none(request.query_params.get("store"))
        return Response(ProductDetailSerializer(product, context={"store": store}).data)


class StoresNearResponse(serializers.Serializer):
    count = serializers.IntegerField()
    stores = NearbyStoreSerializer(many=True)


class StoresNearView(APIView):
    """Anyone: the nearest active stores (stores.selectors.stores_near), with the units
    of `product` free at each when asked (then only stores that have some)."""

    permission_classes = [AllowAny]

    @extend_schema(
        responses=StoresNearResponse,
        parameters=[
            OpenApiParameter("lat", OpenApiTypes.DOUBLE),
            OpenApiParameter("lng", OpenApiTypes.DOUBLE),
            OpenApiParameter("q", str, description="A city or a postcode, instead of lat/lng."),
            OpenApiParameter("limit", int, description=f"1 to {MAX_LIMIT}; 10 by default."),
            OpenApiParameter("product", int, description="A public product's id."),
        ],
    )
    def get(self, request: Request) -> Response:
        try:
            query = parse_near_query(request.query_params)
        except BadRequest as exc:
            raise exceptions.ValidationError(str(exc)) from exc
        near = stores_near(lat=query.lat, lng=query.lng, limit=query.limit, product=query.product)
        prefetch_hours([item.store for item in near])
        now = timezone.now()
        stores = [
            {
                **store_data(item.store, now=now, request=request),
                "distance_km": round(item.distance_km, 3),
                "num_available": item.stock,
            }
            for item in near
        ]
        return Response(StoresNearResponse({"count": len(stores), "stores": stores}).data)


class StoreChosenSerializer(serializers.Serializer):
    store = serializers.SlugField()


class StoreChooseView(APIView):
    """A signed-in user: make an active store theirs (stores.services.store_choose, as the
    site's "Make it my store"); prices, stock and pickup options then follow it."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=StoreChosenSerializer)
    def post(self, request: Request, slug: str) -> Response:
        store = get_object_or_404(Store.objects.active(), slug=slug)
        store_choose(session=request._request.session, user=request.user, store=store)
        return Response({"store": store.slug})
