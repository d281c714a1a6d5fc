"""Oscar's communication models, plus the outbox, channel templates, preferences and consent.

Oscar's `Email`, `CommunicationEventType` and `Notification` are kept (the event type gains
SMS/push templates and per-language variants). Everything else here is ours:

- `OutboxMessage`: one message for one recipient on one channel, written in the caller's
  transaction and delivered by a Celery worker after commit (R24). A message whose event
  type carries a secret (a reset link, a pickup code) keeps `has_secret` for good: its body
  is never shown to staff and is blanked once delivery is over (R46, README "Notifications").
- `DeliveryAttempt`: each try at sending one message, with its outcome and error (R27), and
  when its content was handed to the provider (R26: an email is never retried after that).
- `NotificationPreference`: which channels a customer wants for service messages.
- `ConsentRecord`: append-only proof of marketing consent (R41).
- `PushSubscription`: one Web Push endpoint per browser/device of a user.
"""

from django.conf import settings
from django.db import models
from django.template import engines
from django.template.exceptions import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from oscar.apps.communication.abstract_models import (
    AbstractCommunicationEventType,
    AbstractEmail,
    AbstractNotification,
)


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    PUSH = "push", _("Push notification")


class Purpose(models.TextChoices):
    # Service: order and pickup updates, account security. Marketing needs consent (R41).
    SERVICE = "service", _("Service")
    MARKETING = "marketing", _("Marketing")


# The message templates an event type holds, by the key they render to in get_messages().
TEMPLATE_FIELDS = {
    "subject": "email_subject_template",
    "body": "email_body_template",
    "html": "email_body_html_template",
    "sms": "sms_template",
    "push_title": "push_title_template",
    "push_body": "push_body_template",
    "push_url": "push_url_template",
}


# Events whose messages carry something meant for the customer only: a link that signs in
# or changes the account, or the code that collects an order. Always treated as secret,
# whatever their event type row says (it may not even exist: Oscar renders missing event
# types from files). Staff may mark other event types secret with `carries_secret`.
SECRET_EVENT_CODES = frozenset(
    {
        "PASSWORD_RESET",
        "PASSWORD_CHANGED",  # Oscar's template carries a password reset link
        "EMAIL_CHANGED",  # idem
        "EMAIL_CHANGE_CONFIRM",
        "DATA_EXPORT_READY",  # the link downloads everything about the customer
        "PICKUP_READY",
        "PICKUP_REMINDER",
    }
)


class Email(AbstractEmail):
    pass


class CommunicationEventType(AbstractCommunicationEventType):
    carries_secret: models.BooleanField = models.BooleanField(
        _("Carries a secret"),
        default=False,
        help_text=_(
            "Its messages hold a link or code meant for the customer only: staff never see "
            "their content, it is erased once sent, and they are never sent again."
        ),
    )
    push_title_template: models.CharField = models.CharField(
        _("Push title template"), max_length=120, blank=True, null=True
    )
    push_body_template: models.TextField = models.TextField(
        _("Push body template"), blank=True, null=True
    )
    push_url_template: models.CharField = models.CharField(
        _("Push link template"),
        max_length=255,
        blank=True,
        null=True,
        help_text=_("Path or URL opened when the notification is tapped"),
    )

    def save(self, *args, **kwargs):
        # Event types created on first use (stores.messages, Oscar's get_and_render) know
        # nothing of the flag: the known secret events start out marked.
        if self._state.adding and (self.code or "") in SECRET_EVENT_CODES:
            self.carries_secret = True
        super().save(*args, **kwargs)

    @property
    def is_secret(self) -> bool:
        return self.carries_secret or (self.code or "") in SECRET_EVENT_CODES

    push_title_template_file = "oscar/communication/push/commtype_%s_title.txt"
    push_body_template_file = "oscar/communication/push/commtype_%s_body.txt"
    push_url_template_file = "oscar/communication/push/commtype_%s_url.txt"

    def get_messages(self, ctx: dict | None = None) -> dict:
        """Render every channel's template in the active language.

        A field left empty (None) falls back to a translation's field, then to Oscar's
        file template convention. Errors raise, as in Oscar (the dashboard preview shows
        them); the Dispatcher turns them into failed outbox messages.
        """
        ctx = dict(ctx or {})
        ctx["static_base_url"] = getattr(settings, "OSCAR_STATIC_BASE_URL", None)
        language = translation.get_language() or settings.LANGUAGE_CODE
        translated = None
        if self.pk and language.split("-")[0] != settings.LANGUAGE_CODE.split("-")[0]:
            translated = self.translations.filter(language=language.split("-")[0]).first()
        code = (self.code or "").lower()
        messages = {}
        for name, attr in TEMPLATE_FIELDS.items():
            source = getattr(translated, attr, None) if translated else None
            if source is None:
                source = getattr(self, attr, None)
            if source is not None:
                template = engines["django"].from_string(source)
            else:
                try:
                    template = get_template(getattr(self, f"{attr}_file") % code)
                except TemplateDoesNotExist:
                    template = None
            messages[name] = template.render(ctx).strip() if template else ""
        messages["subject"] = messages["subject"].replace("\n", "").replace("\r", "")
        messages["push_title"] = messages["push_title"].replace("\n", " ")
        return messages


class CommunicationEventTypeTranslation(models.Model):
    """The templates of an event type in another language than LANGUAGE_CODE.

    A field left empty (None) uses the default language's template.
    """

    event_type = models.ForeignKey(
        CommunicationEventType, on_delete=models.CASCADE, related_name="translations"
    )
    language = models.CharField(_("Language"), max_length=10, choices=settings.LANGUAGES)
    email_subject_template = models.CharField(
        _("Email subject template"), max_length=255, blank=True, null=True
    )
    email_body_template = models.TextField(_("Email body template"), blank=True, null=True)
    email_body_html_template = models.TextField(
        _("Email body HTML template"), blank=True, null=True
    )
    sms_template = models.CharField(_("SMS template"), max_length=170, blank=True, null=True)
    push_title_template = models.CharField(
        _("Push title template"), max_length=120, blank=True, null=True
    )
    push_body_template = models.TextField(_("Push body template"), blank=True, null=True)
    push_url_template = models.CharField(
        _("Push link template"), max_length=255, blank=True, null=True
    )

    class Meta:
        app_label = "communication"
        constraints = [
            models.UniqueConstraint(
                fields=["event_type", "language"], name="commtype_translation_unique_language"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} ({self.language})"


class Notification(AbstractNotification):
    pass


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
    def can_retry(self) -> bool:
        """Staff may retry a dead letter, or send again a message whose delivery is unknown,
        if its content rendered and holds no secret (a stale reset link or pickup code must
        not be sent again: the customer asks for a new one)."""
        return (
            self.status in (self.Status.FAILED, self.Status.UNKNOWN)
            and not self.has_secret
            and bool(self.body or self.html)
        )


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
