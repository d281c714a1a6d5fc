from django.urls import path

from . import views

app_name = "stores"

urlpatterns = [
    path("", views.locator, name="locator"),
    path("pickups/<str:number>/here/", views.pickup_here, name="pickup-here"),
    path("pickups/follow/<str:token>/", views.pickup_status, name="pickup-status"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/choose/", views.choose, name="choose"),
]
