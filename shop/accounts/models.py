from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EmailChange(models.Model):
    """A request to sign in with another e-mail address.

    The user's address changes only when the link sent to `new_email` is followed
    (pending -> confirmed); the old address is then told, with a link that puts it back
    (confirmed -> undone). A newer request or an undo leaves older pending ones superseded.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        SUPERSEDED = "superseded", _("Replaced")
        UNDONE = "undone", _("Undone")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_changes"
    )
    old_email = models.EmailField(_("Previous address"))
    new_email = models.EmailField(_("New address"))
    status = models.CharField(
        _("Status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    requested_at = models.DateTimeField(_("Requested"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("Confirmed"), null=True, blank=True)
    undone_at = models.DateTimeField(_("Undone"), null=True, blank=True)

    class Meta:
        verbose_name = _("E-mail address change")
        verbose_name_plural = _("E-mail address changes")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status="pending"),
                name="accounts_emailchange_one_pending_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.user_id}: {self.old_email} -> {self.new_email} ({self.status})"


class DataExport(models.Model):
    """A customer's copy of their data (R43, README "Export"): a zip built by a Celery
    task, downloadable by its owner with the secret link e-mailed to them, until
    `expires_at`; the retention job deletes it afterwards.

    Only a hash of the link's token is stored, so no staff page can rebuild the link.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        READY = "ready", _("Ready")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        _("Status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    requested_at = models.DateTimeField(_("Requested"), default=timezone.now)
    expires_at = models.DateTimeField(_("Expires"))
    # Kept in the database, not on a disk: any web process can serve it.
    content = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("Data export")
        verbose_name_plural = _("Data exports")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"export #{self.pk} of user #{self.user_id} ({self.status})"
