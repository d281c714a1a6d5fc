"""Included at /accounts/ ahead of Oscar's customer URLs (config/urls.py): the first two
replace Oscar's views on the same paths."""

from django.contrib.auth.decorators import login_required
from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path(
        "profile/edit/",
        login_required(views.ProfileUpdateView.as_view()),
        name="profile-update",
    ),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path(
        "email/confirm/<str:token>/",
        views.EmailChangeConfirmView.as_view(),
        name="email-confirm",
    ),
    path("email/undo/<str:token>/", views.EmailChangeUndoView.as_view(), name="email-undo"),
]
