"""The project's URLs plus a dashboard view that fails, to prove a failure is audited."""

from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def failing_view(request, pk):
    raise RuntimeError("the view failed half-way")


urlpatterns = [
    path("dashboard/failing/<int:pk>/", failing_view, name="failing"),
    *project_urlpatterns,
]
