from django.urls import path
from oscar.views.decorators import permissions_required

from shop.audit.views import AuditLogView

app_name = "audit"

urlpatterns = [
    # Superusers only: anonymous visitors are sent to log in, other staff get a 403.
    path(
        "",
        permissions_required(["is_superuser"])(AuditLogView.as_view()),
        name="log",
    ),
]
