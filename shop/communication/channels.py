"""The only module that talks to mail, SMS and push providers.

Each sender takes an `OutboxMessage` and a `Handover`, and returns the provider's
reference, or raises `TransientDeliveryError` (worth retrying: timeouts, connection errors,
429, 5xx, SMTP 4xx), `PermanentDeliveryError` (retrying cannot help: bad address, 4xx,
expired subscription) or `DeliveryUnknown` (the provider has the content and gave no
answer: it may have been delivered). What each channel guarantees is in the README
("Delivery guarantees per channel").
"""

from __future__ import annotations

import base64
import json
import logging
import smtplib
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import requests
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils import timezone

from .smtp import EmailBackend as HandoverSmtpBackend

if TYPE_CHECKING:
    from .models import OutboxMessage

logger = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A message could not be handed to its provider."""


class TransientDeliveryError(DeliveryError):
    """The provider may accept the message later: retry with backoff."""


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help: the message becomes a dead letter."""


class DeliveryUnknown(DeliveryError):
    """The content went to the provider and no answer came back: it may have been
    delivered. Never retried by itself (staff may send it again)."""


class Handover:
    """Called by a sender just before the content goes to the provider (an email's DATA).

    Runs `mark` (the outbox records the moment, durably) and then remembers that it was
    called; if `mark` raises, the sender must not send and the exception propagates.
    """

    def __init__(self, mark: Callable[[], None] | None = None) -> None:
        self._mark = mark
        self.done = False

    def __call__(self) -> None:
        if self._mark is not None:
            self._mark()
        self.done = True


# --- Email ----------------------------------------------------------------------------


def _message_id(message: OutboxMessage) -> str:
    # Stable across retries, so a mailbox receiving a redelivered copy can recognise it.
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ") or "localhost"
    return f"<outbox-{message.pk}@{domain}>"


def send_email(message: OutboxMessage, handover: Handover | None = None) -> str:
    """Send through Django's configured email backend (SMTP or an API backend).

    At most once over SMTP: `handover` runs just before the DATA phase (our backend,
    shop/communication/smtp.py), and a reply lost after it (timeout, dropped connection)
    raises `DeliveryUnknown` instead of a retryable error. A reply the server did give is
    its word, before or after DATA: 4xx means it did not take the message (RFC 5321), so
    it is retried; 5xx refuses for good. Other backends (file, memory, an API) are handed
    the message as a whole: `handover` runs just before it.
    """
    handover = handover or Handover()
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body,
        from_email=settings.OSCAR_FROM_EMAIL,
        to=[message.recipient],
        headers={**message.headers, "Message-ID": _message_id(message)},
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    for filename, content, mimetype in message.attachments:
        email.attach(filename, base64.b64decode(content), mimetype)
    connection = get_connection(fail_silently=False)
    if isinstance(connection, HandoverSmtpBackend):
        connection.before_data = handover
    else:
        # Django's own SMTP backend has no hook (the whole exchange then counts as handing
        # over: at most once still, with fewer retries), other backends take it whole.
        handover()
    try:
        connection.send_messages([email])
    except smtplib.SMTPRecipientsRefused as exc:
        # Every recipient refused at RCPT (before DATA): 4xx asks to try later.
        error = f"recipient refused: {exc.recipients!r}"
        codes = [code for code, _text in exc.recipients.values()]
        if codes and all(400 <= code < 500 for code in codes):
            raise TransientDeliveryError(error) from exc
        raise PermanentDeliveryError(error) from exc
    except smtplib.SMTPResponseException as exc:
        # An answer from the server (at connect, MAIL, RCPT or the end of DATA): 4xx asks
        # to try later, 5xx refuses for good.
        error = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
        if 400 <= exc.smtp_code < 500:
            raise TransientDeliveryError(error) from exc
        raise PermanentDeliveryError(error) from exc
    except OSError as exc:
        # Refused connections, resets, socket timeouts, smtplib's SMTPServerDisconnected.
        error = f"{type(exc).__name__}: {exc}"
        if handover.done:
            raise DeliveryUnknown(
                f"no answer after the content was handed to the mail server: {error}"
            ) from exc
        raise TransientDeliveryError(error) from exc
    return _message_id(message)


# --- SMS ------------------------------------------------------------------------------


class SmsBackend(Protocol):
    def send(self, *, to: str, text: str, reference: str) -> str:
        """Hand one SMS to the provider and return its id; raise a DeliveryError."""


class ConsoleSmsBackend:
    """Development: log the SMS instead of sending it."""

    def send(self, *, to: str, text: str, reference: str) -> str:
        logger.info("SMS to %s (%s): %s", to, reference, text)
        return f"console-{reference}"


class FileSmsBackend:
    """Development and tests: append each SMS as a JSON line to SMS_FILE_PATH."""

    def send(self, *, to: str, text: str, reference: str) -> str:
        line = {"to": to, "text": text, "reference": reference, "at": timezone.now().isoformat()}
        with open(settings.SMS_FILE_PATH, "a", encoding="utf-8") as file:
            file.write(json.dumps(line) + "\n")
        return f"file-{reference}"


class HttpGatewaySmsBackend:
    """A JSON-over-HTTPS SMS gateway.

    POST SMS_GATEWAY_URL with {"to", "from", "text", "reference"}, a Bearer token and an
    `Idempotency-Key` header (the same for every attempt at one message, so a gateway
    that saw an attempt whose answer was lost does not send the SMS twice). A 2xx answer
    is {"id": "..."}; 429 and 5xx are retried; other 4xx are permanent.
    """

    def send(self, *, to: str, text: str, reference: str) -> str:
        headers = {"Idempotency-Key": reference, "Accept": "application/json"}
        if settings.SMS_GATEWAY_TOKEN:
            headers["Authorization"] = f"Bearer {settings.SMS_GATEWAY_TOKEN}"
        payload = {"to": to, "from": settings.SMS_SENDER, "text": text, "reference": reference}
        try:
            response = requests.post(
                settings.SMS_GATEWAY_URL,
                json=payload,
                headers=headers,
                timeout=settings.SMS_GATEWAY_TIMEOUT,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientDeliveryError(f"SMS gateway unreachable: {exc}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientDeliveryError(
                f"SMS gateway answered {response.status_code}: {response.text[:200]}"
            )
        if response.status_code >= 400:
            raise PermanentDeliveryError(
                f"SMS gateway refused ({response.status_code}): {response.text[:200]}"
            )
        try:
            return str(response.json()["id"])
        except (ValueError, KeyError, TypeError):
            return ""


SMS_BACKENDS: dict[str, type[SmsBackend]] = {
    "console": ConsoleSmsBackend,
    "file": FileSmsBackend,
    "http": HttpGatewaySmsBackend,
}


def send_sms(message: OutboxMessage, handover: Handover | None = None) -> str:
    # At least once: a retry carries the same reference (the gateway's Idempotency-Key),
    # so `handover` is not needed.
    backend = SMS_BACKENDS[settings.SMS_BACKEND]()
    return backend.send(to=message.recipient, text=message.body, reference=f"outbox-{message.pk}")


# --- Web Push -------------------------------------------------------------------------


class SubscriptionGone(PermanentDeliveryError):
    """The push service says the subscription no longer exists (404/410)."""


def push_enabled() -> bool:
    return bool(settings.VAPID_PUBLIC_KEY and settings.VAPID_PRIVATE_KEY)


def _vapid_subject() -> str:
    if settings.VAPID_SUBJECT:
        return settings.VAPID_SUBJECT
    address = settings.DEFAULT_FROM_EMAIL.rsplit("<", 1)[-1].strip("> ")
    return f"mailto:{address}"


def send_push(message: OutboxMessage, handover: Handover | None = None) -> str:
    """Encrypt and post a notification to the subscription's push service.

    At least once: a timeout is retried, and push services have no idempotency key, so a
    notification whose answer was lost may show twice. `handover` is not used.
    """
    from pywebpush import WebPushException, webpush

    subscription = message.push_subscription
    if subscription is None:
        raise PermanentDeliveryError("the push subscription was removed")
    if not push_enabled():
        raise PermanentDeliveryError("Web Push is not configured (VAPID keys missing)")
    from .push import EndpointRefused, EndpointUnresolved, endpoint_check

    try:
        endpoint_check(subscription.endpoint)  # again: settings and DNS may have changed
    except EndpointRefused as exc:
        raise SubscriptionGone(f"push endpoint refused: {exc}") from exc
    except EndpointUnresolved as exc:
        raise TransientDeliveryError(f"push service unreachable: {exc}") from exc
    payload = {"title": message.subject, "body": message.body, "url": message.url or "/"}
    try:
        response = webpush(
            subscription_info={
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            },
            data=json.dumps(payload),
            vapid_private_key=settings.VAPID_PRIVATE_KEY,
            vapid_claims={"sub": _vapid_subject()},
            timeout=settings.PUSH_TIMEOUT,
            ttl=24 * 3600,
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (404, 410):
            raise SubscriptionGone(f"push service answered {status}: subscription expired") from exc
        if status is None or status == 429 or status >= 500:
            raise TransientDeliveryError(f"push service error {status}: {exc}") from exc
        raise PermanentDeliveryError(f"push service refused ({status}): {exc}") from exc
    except (TimeoutError, requests.ConnectionError, requests.Timeout) as exc:
        raise TransientDeliveryError(f"push service unreachable: {exc}") from exc
    return response.headers.get("Location", "") if response is not None else ""


SENDERS = {"email": send_email, "sms": send_sms, "push": send_push}
