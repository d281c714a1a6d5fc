"""The outbox's rows: one message for one recipient on one channel (R24, R46), and each
attempt at delivering it (R26, R27)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .templates import Channel, Purpose


class OutboxMessageQuerySet(models.QuerySet):
    def due(self, *, before):
        """Pending messages whose next attempt is due at or before `before`."""
        return self.filter(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=before)

    def stale_sending(self, *, claimed_before):
        """Messages whose sender stopped answering (worker killed, lease expired)."""
        return self.filter(status=OutboxMessage.Status.SENDING, claimed_at__lt=claimed_before)


class OutboxMessage(models.Model):
    """One message to one recipient on one channel, rendered when it was dispatched."""

    # Set by the staff dashboard on the instances it lists (not columns).
    recipient_shown: str
    user_email_shown: str

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        # An email whose content reached the mail server with no answer after (timeout,
        # worker killed): it may have been delivered, so it is not sent again by itself;
        # staff decide (README "Delivery guarantees per channel").
        UNKNOWN = "unknown", _("Delivery unknown")

    channel = models.CharField(_("Channel"), max_length=10, choices=Channel.choices)
    purpose = models.CharField(
        _("Purpose"), max_length=10, choices=Purpose.choices, default=Purpose.SERVICE
    )
    event_code = models.CharField(_("Event"), max_length=128, blank=True, db_index=True)
    # Copied from the event type when written, so marking an event type secret later (or
    # unmarking it) never changes what staff may see of messages already written.
    has_secret = models.BooleanField(_("Carries a secret"), default=False)
    # The order the message is about, if any: store staff see their store's pickup messages.
    order_number = models.CharField(_("Order number"), max_length=128, blank=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outbox_messages",
    )
    # Email address, phone number (E.164) or push endpoint, as it was at dispatch.
    recipient = models.CharField(_("Recipient"), max_length=1000)
    push_subscription = models.ForeignKey(
        "communication.PushSubscription",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
    )
    language = models.CharField(_("Language"), max_length=10, blank=True)
    subject = models.CharField(_("Subject / title"), max_length=255, blank=True)
    body = models.TextField(_("Body"), blank=True)
    html = models.TextField(_("HTML body"), blank=True)
    url = models.CharField(_("Link"), max_length=500, blank=True)
    # Email attachments as [filename, base64 content, mimetype].
    attachments = models.JSONField(default=list, blank=True)
    # Extra email headers, e.g. List-Unsubscribe on marketing emails (README "Campaigns").
    headers = models.JSONField(default=dict, blank=True)

    status = models.CharField(
        _("Status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("Attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("Maximum attempts"))
    # Set when a sender claims the message; only that sender may record the outcome.
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("Next attempt"))
    last_error = models.TextField(_("Last error"), blank=True)
    provider_reference = models.CharField(_("Provider reference"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("Created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("Updated"), auto_now=True)
    sent_at = models.DateTimeField(_("Sent"), null=True, blank=True)

    objects = OutboxMessageQuerySet.as_manager()

    class Meta:
        app_label = "communication"
        ordering = ["-created_at", "-id"]
        verbose_name = _("Outbox message")
        verbose_name_plural = _("Outbox messages")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_status_due")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="outbox_sent_has_sent_at",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="sending") | models.Q(claim_token__isnull=False),
                name="outbox_sending_is_claimed",
            ),
            models.CheckConstraint(
                condition=models.Q(attempts__lte=models.F("max_attempts")),
                name="outbox_attempts_within_max",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.event_code or '-'} {self.channel} to {self.recipient}"

    @property
    def is_unknown(self) -> bool:
        return self.status == self.Status.UNKNOWN

    @property
    def awaits_staff(self) -> bool:
        """A dead letter, or a message whose delivery is unknown: only staff move it on."""
        return self.status in (self.Status.FAILED, self.Status.UNKNOWN)

    @property
    def can_retry(self) -> bool:
        """Staff may retry a dead letter, or send again a message whose delivery is unknown,
        if its content rendered and holds no secret (a stale reset link or pickup code must
        not be sent again: the customer asks for a new one)."""
        return self.awaits_staff and not self.has_secret and bool(self.body or self.html)


class DeliveryAttempt(models.Model):
    class Outcome(models.TextChoices):
        SENT = "sent", _("Sent")
        TRANSIENT_ERROR = "transient", _("Transient error (retried)")
        PERMANENT_ERROR = "permanent", _("Permanent error")
        CANCELLED = "cancelled", _("Cancelled")
        UNKNOWN = "unknown", _("Delivery unknown (no answer after the content was handed over)")

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    claim_token = models.UUIDField()
    started_at = models.DateTimeField()
    # Empty when the sender died mid-attempt (worker killed): the message is redelivered.
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    error = models.TextField(blank=True)
    # When the content went to the provider (an email's DATA phase), committed before it
    # went: from then on the message may have been delivered and is never retried by itself.
    handed_over_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "communication"
        ordering = ["message_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["message", "number"], name="attempt_unique_number")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of message #{self.message_id}: {self.outcome or '…'}"
