from django.urls import path

from . import views

app_name = "stores-api"

urlpatterns = [
    path("stores/", views.store_list, name="list"),
    path("stores.geojson", views.store_geojson, name="geojson"),
    path("stores/<slug:slug>/", views.store_detail, name="detail"),
    # Local inventory feeds (README "Open data for local search").
    path("stores/inventory.json", views.inventory_index, name="inventory-index"),
    path("stores/<slug:slug>/inventory.csv", views.inventory_csv, name="inventory-csv"),
    path("stores/<slug:slug>/inventory.json", views.inventory_json, name="inventory-json"),
]
