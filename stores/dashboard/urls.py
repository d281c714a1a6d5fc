from django.urls import path

from . import views

app_name = "stores-dashboard"

urlpatterns = [
    path("", views.store_list, name="stores"),
    path("<int:pk>/", views.store_edit, name="store"),
    path("pickups/", views.queue, name="queue"),
    path("pickups/<int:pk>/", views.detail, name="detail"),
    path("pickups/<int:pk>/status/", views.change_status, name="status"),
]
