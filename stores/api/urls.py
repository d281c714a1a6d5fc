from django.urls import path

from . import views

app_name = "stores-api"

urlpatterns = [
    path("stores/", views.store_list, name="list"),
    path("stores.geojson", views.store_geojson, name="geojson"),
    path("stores/<slug:slug>/", views.store_detail, name="detail"),
]
