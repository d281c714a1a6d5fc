from django.urls import path

from . import stock, views

app_name = "stores-dashboard"

urlpatterns = [
    path("", views.store_list, name="stores"),
    path("<int:pk>/", views.store_edit, name="store"),
    path("pickups/", views.queue, name="queue"),
    path("pickups/<int:pk>/", views.detail, name="detail"),
    path("pickups/<int:pk>/status/", views.change_status, name="status"),
    path("stock/", stock.stock_list, name="stock"),
    path("stock/<int:pk>/", stock.stock_edit, name="stock-edit"),
]
