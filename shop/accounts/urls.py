"""Included at /accounts/ ahead of Oscar's customer URLs (config/urls.py): the profile
edit and logout replace Oscar's views on the same paths, and Oscar's "add to wish list"
(which also adds on GET) is routed POST only (R40)."""

from django.contrib.auth.decorators import login_required
from django.urls import path
from django.views.decorators.http import require_POST
from oscar.apps.customer.wishlists.views import WishListAddProduct

from . import views

app_name = "accounts"

urlpatterns = [
    path(
        "profile/edit/",
        login_required(views.ProfileUpdateView.as_view()),
        name="profile-update",
    ),
    path(
        "profile/delete/",
        login_required(views.ProfileDeleteView.as_view()),
        name="profile-delete",
    ),
    path("export/", login_required(views.DataExportRequestView.as_view()), name="export"),
    path(
        "export/<str:token>/",
        login_required(views.DataExportDownloadView.as_view()),
        name="export-download",
    ),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path(
        "email/confirm/<str:token>/",
        views.EmailChangeConfirmView.as_view(),
        name="email-confirm",
    ),
    path("email/undo/<str:token>/", views.EmailChangeUndoView.as_view(), name="email-undo"),
    path(
        "wishlists/add/<int:product_pk>/",
        require_POST(login_required(WishListAddProduct.as_view())),
        name="wishlists-add-product",
    ),
    path(
        "wishlists/<str:key>/add/<int:product_pk>/",
        require_POST(login_required(WishListAddProduct.as_view())),
        name="wishlists-add-product",
    ),
]
