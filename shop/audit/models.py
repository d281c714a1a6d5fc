"""The audit log's rows: append-only in the database (triggers in migration 0002)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One state-changing request by a member of staff (or a store's staff) under
    /dashboard/ or /admin/, written by shop.audit.middleware.AuditMiddleware.

    It holds the names of the fields sent, never their values, and never the name of a
    password-like field. Never updated or deleted: the database refuses both.
    """

    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("who"),
    )
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("path"), max_length=500)
    view_name = models.CharField(_("view"), max_length=200, blank=True)
    # The URL's keyword arguments (pk, order number…): which objects were acted on.
    object_ids = models.JSONField(_("objects"), default=dict, blank=True)
    field_names = models.JSONField(_("fields sent"), default=list, blank=True)
    status_code = models.PositiveSmallIntegerField(_("response status"))
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["actor", "created_at"]),
            models.Index(fields=["view_name", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.method} {self.path} {self.status_code}"
