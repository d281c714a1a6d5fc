"""Oscar's Dispatcher, made asynchronous and multichannel.

Callers (Oscar's OrderDispatcher, CustomerDispatcher, AlertsDispatcher, our apps through
`get_class("communication.utils", "Dispatcher")`) keep calling `get_messages` then
`dispatch_*`. Nothing here talks to a provider: each recipient and channel becomes an
outbox row in the caller's transaction, delivered by a Celery worker after commit.
"""

import logging

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils import translation
from oscar.apps.communication import utils as oscar_utils

from .models import (
    SECRET_EVENT_CODES,
    TEMPLATE_FIELDS,
    Channel,
    CommunicationEventType,
    OutboxMessage,
    Purpose,
)
from .outbox import Draft, messages_cancel, messages_record
from .preferences import phone_normalise, preference_for, service_channels_for

logger = logging.getLogger(__name__)

# Account security messages always go by email, whatever the service preferences say.
ACCOUNT_EVENT_CODES = frozenset(
    {"REGISTRATION", "PASSWORD_RESET", "PASSWORD_CHANGED", "EMAIL_CHANGED"}
)


def event_is_secret(event_code: str) -> bool:
    """Whether messages of this event carry a secret (README "Notifications")."""
    if not event_code:
        return False
    return (
        event_code in SECRET_EVENT_CODES
        or CommunicationEventType.objects.filter(code=event_code, carries_secret=True).exists()
    )


def _secrets_in(context: dict) -> list[str]:
    """Values in a message's context that only the customer may know: a pickup code, a
    password reset link. Found in any rendered message, they make it secret whatever its
    event type says (a template edited to print the pickup code, say)."""
    pickup = context.get("pickup")
    if pickup is None and context.get("order") is not None:
        try:
            pickup = context["order"].pickup  # stores' side model of click & collect orders
        except (ObjectDoesNotExist, AttributeError):
            pickup = None
    secrets = (context.get("reset_url"), getattr(pickup, "code", None))
    return [str(value) for value in secrets if value]


class Dispatcher(oscar_utils.Dispatcher):
    def get_base_context(self, **kwargs):
        """Oscar's context (the current Site), plus links built from SITE_URL only.

        `site_url` for templates; `status_url` made absolute from `status_path` (Oscar and
        our callers pass the path); for an order, what is left to pay and, for a click &
        collect order, its store, slot, code and follow link (stores.messages).
        """
        from stores.messages import pickup_message_context

        context = super().get_base_context(**kwargs)
        context["site_url"] = settings.SITE_URL
        if context.get("status_path"):
            context["status_url"] = settings.SITE_URL + context["status_path"]
        order = context.get("order")
        if order is not None and getattr(order, "pk", None):
            context = {**pickup_message_context(order=order), **context}
        return context

    def get_messages(self, event_code, extra_context=None):
        """Render every channel; a template error is carried along, not raised.

        Besides the rendered templates the result says whether the messages carry a secret
        (`has_secret`) and which order they are about (`order_number`), for the outbox.
        """
        try:
            messages = super().get_messages(event_code, extra_context)
        except Exception as exc:
            # Templates are edited in the dashboard; a mistake there must not break the
            # checkout that triggers the message. The messages are recorded as failed.
            logger.exception("Templates of %s failed to render", event_code)
            messages = dict.fromkeys(TEMPLATE_FIELDS, "")
            messages["render_error"] = f"template error: {type(exc).__name__}: {exc}"
        messages["event_code"] = event_code
        context = extra_context or {}
        rendered = " ".join(str(messages.get(name) or "") for name in TEMPLATE_FIELDS)
        messages["has_secret"] = event_is_secret(event_code) or any(
            secret in rendered for secret in _secrets_in(context)
        )
        messages["order_number"] = str(getattr(context.get("order"), "number", "") or "")
        return messages

    # Public API (same signatures and return shapes as Oscar's)

    def dispatch_direct_messages(self, recipient_email, messages, attachments=None):
        if (messages["subject"] and (messages["body"] or messages["html"])) or messages.get(
            "render_error"
        ):
            return self.send_email_messages(recipient_email, messages, attachments=attachments)
        return None

    def dispatch_anonymous_messages(self, email, messages, attachments=None):
        dispatched = {}
        if email:
            dispatched["email"] = (
                self.send_email_messages(email, messages, attachments=attachments),
                None,
            )
        return dispatched

    def dispatch_user_messages(self, user, messages, attachments=None):
        """Record the message on each channel the user chose and can be reached on."""
        # Oscar's OrderDispatcher passes messages rendered by the event type itself, without
        # the code: anything not known to be about the account is a service message.
        if messages.get("event_code", "") in ACCOUNT_EVENT_CODES:
            wanted = [Channel.EMAIL] if user.email else []
        else:
            wanted = service_channels_for(user=user)
        if Channel.EMAIL in wanted and not user.email:
            self.logger.warning("User #%s has no email address", user.id)
        drafts = [draft for channel in wanted for draft in self._drafts(user, channel, messages)]
        recorded = self._record(drafts, messages, attachments)
        return {message.channel: message for message in recorded}

    def send_user_email_messages(self, user, messages, attachments=None):
        if not user.email:
            self.logger.warning(
                "Unable to send email messages as user #%d has no email address", user.id
            )
            return None
        return self.send_email_messages(user.email, messages, attachments=attachments, user=user)

    def send_email_messages(
        self, recipient_email, messages, from_email=None, attachments=None, user=None
    ):
        """Record an email to `recipient_email`; returns its outbox message."""
        draft = Draft(
            channel=Channel.EMAIL,
            recipient=recipient_email,
            subject=messages.get("subject", ""),
            body=messages.get("body", ""),
            html=messages.get("html", ""),
            user_id=getattr(user, "pk", None),
        )
        (message,) = self._record([draft], messages, attachments)
        return message

    def send_text_message(self, user, event_type):
        """Record an SMS to the user's mobile number (`event_type` is the text, as in Oscar)."""
        phone = preference_for(user=user).phone_number
        if not phone:
            self.logger.warning("User #%s has no mobile number", user.id)
            return None
        draft = Draft(
            channel=Channel.SMS, recipient=phone_normalise(phone), body=event_type, user_id=user.pk
        )
        (message,) = self._record([draft], {"sms": event_type})
        return message

    def dispatch_marketing_message(self, *, user, channel, content, event_code="CAMPAIGN"):
        """Record one marketing message already rendered by its sender (a campaign).

        `content` holds "subject", "body", "html", "url" and, for email, "headers" (the
        List-Unsubscribe pair, README "Campaigns"). Consent is the caller's to check when
        recording, and is checked again when delivering (R41). The message goes to the
        marketing queue, behind the provider rate limit (R29). Returns the outbox message,
        or None when the user cannot be reached on `channel` (no address, number or device).
        """
        language = translation.get_language() or ""
        (message,) = self.dispatch_marketing_messages(
            items=[(user, channel, content, language)], event_code=event_code
        )
        return message

    def dispatch_marketing_messages(self, *, items, event_code="CAMPAIGN"):
        """Record many marketing messages at once: `items` are (user, channel, content,
        language), as `dispatch_marketing_message` takes them. Returns the outbox messages
        in the same order, None where the user cannot be reached on that channel.

        A constant number of queries whatever the number of items (a campaign's batch):
        one for the SMS numbers, one for the push subscriptions (each only when asked),
        one INSERT for the messages; their delivery tasks are published together after
        commit (outbox.messages_publish).
        """
        from .models import NotificationPreference, PushSubscription

        items = list(items)
        users = {
            channel: {item[0].pk for item in items if item[1] == channel} for channel in Channel
        }
        phones = {}
        if users[Channel.SMS]:
            phones = dict(
                NotificationPreference.objects.filter(user_id__in=users[Channel.SMS])
                .exclude(phone_number="")
                .values_list("user_id", "phone_number")
            )
        devices: dict[int, tuple[int, str]] = {}
        if users[Channel.PUSH]:
            # One device is enough: the latest subscription (a campaign is not an alert).
            for user_id, pk, endpoint in (
                PushSubscription.objects.filter(user_id__in=users[Channel.PUSH])
                .order_by("user_id", "-created_at", "-pk")
                .values_list("user_id", "pk", "endpoint")
            ):
                devices.setdefault(user_id, (pk, endpoint))
        drafts, positions = [], []
        for position, (user, channel, content, language) in enumerate(items):
            draft = self._marketing_draft(user, channel, content, language, phones, devices)
            if draft is not None:
                drafts.append(draft)
                positions.append(position)
        messages: list[OutboxMessage | None] = [None] * len(items)
        if drafts:
            rows = messages_record(drafts=drafts, event_code=event_code, purpose=Purpose.MARKETING)
            for position, row in zip(positions, rows, strict=True):
                messages[position] = row
        return messages

    @staticmethod
    def _marketing_draft(user, channel, content, language, phones, devices):
        subject = content.get("subject", "")
        body = content.get("body", "")
        if channel == Channel.EMAIL:
            if not user.email:
                return None
            return Draft(
                channel=channel,
                recipient=user.email,
                subject=subject,
                body=body,
                html=content.get("html", ""),
                user_id=user.pk,
                headers=content.get("headers", {}),
                language=language,
            )
        if channel == Channel.SMS:
            phone = phones.get(user.pk)
            if not phone:
                return None
            return Draft(
                channel=channel, recipient=phone, body=body, user_id=user.pk, language=language
            )
        device = devices.get(user.pk)
        if device is None:
            return None
        return Draft(
            channel=channel,
            recipient=device[1],
            subject=subject,
            body=body or subject,
            url=content.get("url", ""),
            user_id=user.pk,
            push_subscription_id=device[0],
            language=language,
        )

    def cancel_pending_messages(self, *, message_ids):
        """Cancel those of the messages no sender has taken yet; returns their ids."""
        return messages_cancel(message_ids=message_ids)

    # Internal

    def _drafts(self, user, channel, messages):
        subject = messages.get("subject", "")
        if channel == Channel.EMAIL:
            if (subject and (messages.get("body") or messages.get("html"))) or messages.get(
                "render_error"
            ):
                yield Draft(
                    channel=channel,
                    recipient=user.email,
                    subject=subject,
                    body=messages.get("body", ""),
                    html=messages.get("html", ""),
                    user_id=user.pk,
                )
        elif channel == Channel.SMS:
            text = messages.get("sms") or subject
            if text or messages.get("render_error"):
                phone = preference_for(user=user).phone_number
                yield Draft(channel=channel, recipient=phone, body=text, user_id=user.pk)
        elif channel == Channel.PUSH:
            title = messages.get("push_title") or subject
            body = messages.get("push_body") or messages.get("sms") or ""
            if title or messages.get("render_error"):
                for subscription in user.push_subscriptions.all():
                    yield Draft(
                        channel=channel,
                        recipient=subscription.endpoint,
                        subject=title,
                        body=body or title,
                        url=messages.get("push_url", ""),
                        user_id=user.pk,
                        push_subscription_id=subscription.pk,
                    )

    def _record(self, drafts, messages, attachments=None):
        return messages_record(
            drafts=drafts,
            event_code=messages.get("event_code", ""),
            purpose=messages.get("purpose", Purpose.SERVICE),
            language=translation.get_language() or "",
            render_error=messages.get("render_error", ""),
            attachments=attachments,
            # Messages not rendered by get_messages (Oscar's callers may build their own)
            # are judged by their event code alone.
            has_secret=bool(messages["has_secret"])
            if "has_secret" in messages
            else event_is_secret(messages.get("event_code", "")),
            order_number=messages.get("order_number", ""),
        )
