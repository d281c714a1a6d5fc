"""What a customer chose: channels for service messages, marketing consent (append-only,
R41) and Web Push subscriptions."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .templates import Channel, Purpose


class NotificationPreference(models.Model):
    """Channels a customer wants for service messages (order and pickup updates)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email = models.BooleanField(_("By email"), default=True)
    sms = models.BooleanField(_("By SMS"), default=False)
    push = models.BooleanField(_("By notification on this phone"), default=True)
    phone_number = models.CharField(
        _("Mobile number"), max_length=20, blank=True, help_text=_("International format")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "communication"

    def __str__(self) -> str:
        return f"preferences of user #{self.user_id}"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Consent records are append-only: add a new record instead.")

    def delete(self):
        raise TypeError("Consent records are append-only: add a new record instead.")


class ConsentRecord(models.Model):
    """Proof that a person granted or withdrew consent for a purpose on a channel (R41).

    Append-only: the current state is the latest record; nothing is updated or deleted,
    and the database refuses both (trigger in migration 0009, loyalty.append_only). It
    holds no personal data beyond the user's id, so an erased account (README "Erasure")
    keeps its consent history as proof; for the same reason its user cannot be deleted.
    """

    class Action(models.TextChoices):
        GRANTED = "granted", _("Granted")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consent_records"
    )
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    action = models.CharField(max_length=10, choices=Action.choices)
    recorded_at = models.DateTimeField(db_index=True)
    # How: the form or link that recorded it, e.g. "account-preferences", "unsubscribe-link".
    source = models.CharField(max_length=64)
    policy_version = models.CharField(max_length=32)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        app_label = "communication"
        ordering = ["-recorded_at", "-id"]
        indexes = [
            models.Index(
                fields=["user", "purpose", "channel", "-recorded_at"], name="consent_latest"
            )
        ]

    def __str__(self) -> str:
        return f"user #{self.user_id} {self.action} {self.purpose}/{self.channel}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Consent records are append-only: add a new record instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Consent records are append-only: add a new record instead.")


class PushSubscription(models.Model):
    """A browser's Web Push subscription (one per device); deleted when the push service
    answers 404/410."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    user_agent = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_success_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "communication"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"push subscription #{self.pk} of user #{self.user_id}"
