"""/api/v1/ (README "API"); the schema is /api/schema/ and its pages /api/docs/."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from shop.api import account, auth, basket, catalogue, checkout, loyalty, orders
from shop.api.errors import NotFoundView

app_name = "api"


class DocsView(SpectacularSwaggerSplitView):
    """Anyone: Swagger UI from our static files (drf-spectacular-sidecar), its script
    served from here (no inline script) and its <style> carrying the CSP nonce (R34)."""

    template_name = "api/swagger_ui.html"
    permission_classes = [AllowAny]


class SchemaView(SpectacularAPIView):
    """Anyone: the OpenAPI 3.1 schema (committed as docs/openapi.yaml)."""

    permission_classes = [AllowAny]


urlpatterns = [
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="api:schema"), name="docs"),
    path("v1/auth/token/", auth.TokenObtainView.as_view(), name="token"),
    path("v1/auth/token/refresh/", auth.TokenRotateView.as_view(), name="token-refresh"),
    path("v1/auth/token/revoke/", auth.TokenRevokeView.as_view(), name="token-revoke"),
    path("v1/me/", auth.MeView.as_view(), name="me"),
    path("v1/products/", catalogue.ProductListView.as_view(), name="products"),
    path("v1/products/<int:pk>/", catalogue.ProductDetailView.as_view(), name="product"),
    path("v1/stores/near/", catalogue.StoresNearView.as_view(), name="stores-near"),
    path("v1/stores/<slug:slug>/choose/", catalogue.StoreChooseView.as_view(), name="store-choose"),
    path("v1/loyalty/", loyalty.BalanceView.as_view(), name="loyalty"),
    path("v1/loyalty/history/", loyalty.HistoryView.as_view(), name="loyalty-history"),
    path("v1/loyalty/card/", loyalty.CardView.as_view(), name="loyalty-card"),
    path("v1/loyalty/rewards/", loyalty.RewardsView.as_view(), name="loyalty-rewards"),
    path(
        "v1/loyalty/rewards/<int:pk>/redeem/", loyalty.RedeemView.as_view(), name="loyalty-redeem"
    ),
    path("v1/account/notifications/", account.NotificationsView.as_view(), name="notifications"),
    path(
        "v1/account/push-subscriptions/",
        account.PushSubscriptionsView.as_view(),
        name="push-subscriptions",
    ),
    path("v1/account/export/", account.ExportView.as_view(), name="export"),
    path("v1/orders/", orders.OrderListView.as_view(), name="orders"),
    path("v1/orders/<str:number>/", orders.OrderDetailView.as_view(), name="order"),
    path("v1/orders/<str:number>/here/", orders.ImHereView.as_view(), name="order-here"),
    path("v1/basket/", basket.BasketView.as_view(), name="basket"),
    path(
        "v1/checkout/pickup-options/",
        checkout.PickupOptionsView.as_view(),
        name="pickup-options",
    ),
    path("v1/checkout/", checkout.CheckoutView.as_view(), name="checkout"),
    # Last: any other address under v1/ is a 404 in the API's error shape.
    re_path(r"^v1/.*/$", NotFoundView.as_view()),
]
