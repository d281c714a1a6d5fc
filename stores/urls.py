from django.urls import path

from . import sharing_views, views

app_name = "stores"

urlpatterns = [
    path("", views.locator, name="locator"),
    path("pickups/<str:number>/here/", views.pickup_here, name="pickup-here"),
    path("pickups/follow/<str:token>/", views.pickup_status, name="pickup-status"),
    path("pickups/<str:number>/share/", sharing_views.share_create, name="pickup-share"),
    path(
        "pickups/<str:number>/share/revoke/",
        sharing_views.share_revoke,
        name="pickup-share-revoke",
    ),
    path("pickups/friend/<str:token>/", sharing_views.friend_pass, name="friend-pass"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/choose/", views.choose, name="choose"),
]
