"""Channels, purposes, and Oscar's communication models kept here: the event type (with
SMS and push templates and per-language variants), its translations, emails and
notifications."""

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
