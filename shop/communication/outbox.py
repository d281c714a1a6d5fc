"""The outbox: record messages in the caller's transaction, deliver them after commit.

Guarantees (docs/guarantees.md):

- R24: `messages_record` writes rows in the caller's transaction; publishing happens in
  `transaction.on_commit` and never raises into the request. Whatever the broker missed,
  `outbox_sweep` (beat) publishes again.
- R25: a failed publish opens the broker's circuit (shop/redis_circuit.py): for
  REDIS_CIRCUIT_SECONDS this process publishes nothing, so a dead or hung Redis costs one
  short timeout, not one per order; a cache timeout on the same Redis opens it too.
- R26: `message_deliver` claims a message with a conditional UPDATE (pending -> sending,
  fresh claim token); a second run of the same task finds nothing to claim. Only the holder
  of the token may record the outcome. A sender that died keeps its claim until
  NOTIFY_SENDING_LEASE has passed, after which the message can be claimed again, unless
  its content had reached the provider (below).
- R26, at most once for email: just before an email's DATA phase the attempt records
  `handed_over_at` (committed: the worker runs in autocommit) and the SMTP server only then
  gets the content. After that mark nothing sends the message again by itself: a lost reply
  (timeout, dropped connection, soft time limit) ends the attempt as "unknown", and a
  sender that died after the mark is closed as "unknown" by the sweeper instead of being
  taken over. Staff see "Delivery unknown" and may send it again (README "Delivery
  guarantees per channel").
- R27: transient errors retry with exponential backoff and jitter; after max_attempts the
  message is failed (a dead letter) with the error; staff can `message_retry` it.
- R46: a message with `has_secret` (a reset link, a pickup code) loses its content as soon as
  its delivery is over (sent, dead or cancelled), is never retried, and leaves no copy in
  Oscar's email history. Other bodies are erased NOTIFY_BODY_RETENTION_DAYS after they were
  written (`outbox_bodies_prune`, daily), with Oscar's stored email copies.
"""

from __future__ import annotations

import base64
import logging
import random
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from kombu.exceptions import KombuError
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from shop.redis_circuit import circuit, redis_server

from . import channels
from .models import Channel, DeliveryAttempt, Email, OutboxMessage, Purpose, PushSubscription

logger = logging.getLogger(__name__)

# Errors a publish may raise when the broker is down or unreachable.
PUBLISH_ERRORS = (KombuOperationalError, KombuError, RedisError, OSError)

# What a message says, as opposed to where it goes and how delivery went: erased from
# secret messages once delivered and from every message after the retention period. The
# headers go too: a marketing email's List-Unsubscribe carries the member's signed token.
CONTENT_ERASED = {
    "subject": "",
    "body": "",
    "html": "",
    "url": "",
    "attachments": [],
    "headers": {},
}
DELIVERY_OVER = (
    OutboxMessage.Status.SENT,
    OutboxMessage.Status.FAILED,
    OutboxMessage.Status.CANCELLED,
    OutboxMessage.Status.UNKNOWN,
)
# The message's current attempt (the one holding its claim) handed its content over.
CURRENT_ATTEMPT_HANDED_OVER = Exists(
    DeliveryAttempt.objects.filter(
        message=OuterRef("pk"), claim_token=OuterRef("claim_token"), handed_over_at__isnull=False
    )
)
UNKNOWN_AFTER_WORKER_STOPPED = (
    "the worker stopped after handing the message to the provider: it may have been delivered"
)


class ClaimLost(Exception):
    """Another sender took the message over before this one handed its content over."""


@dataclass(frozen=True)
class Draft:
    """A message to record: who gets what on which channel."""

    channel: str
    recipient: str
    subject: str = ""
    body: str = ""
    html: str = ""
    url: str = ""
    user_id: int | None = None
    push_subscription_id: int | None = None
    # Extra email headers (List-Unsubscribe on marketing emails).
    headers: dict[str, str] = field(default_factory=dict)
    # The message's language, when the drafts of one call differ (a campaign's batch);
    # else messages_record's `language`.
    language: str = ""


# --- Recording --------------------------------------------------------------------------


def attachments_serialise(attachments: Iterable | None) -> list[list[str]]:
    """Oscar's attachments (file paths or [filename, content, mimetype]) as JSON-safe lists."""
    serialised = []
    for attachment in attachments or ():
        if isinstance(attachment, str):
            path = Path(attachment)
            content, filename, mimetype = path.read_bytes(), path.name, ""
        elif isinstance(attachment, (list, tuple)):
            filename, content, mimetype = attachment
            content = content.encode() if isinstance(content, str) else content
        else:
            raise TypeError(
                f"Outbox emails take paths or (filename, content, mimetype), got {attachment!r}"
            )
        serialised.append(
            [filename, base64.b64encode(content).decode(), mimetype or "application/octet-stream"]
        )
    return serialised


def messages_record(
    *,
    drafts: Iterable[Draft],
    event_code: str = "",
    purpose: str = Purpose.SERVICE,
    language: str = "",
    render_error: str = "",
    attachments: Iterable | None = None,
    has_secret: bool = False,
    order_number: str = "",
) -> list[OutboxMessage]:
    """Write one outbox row per draft in the current transaction (one INSERT, whatever
    the number of drafts); publish after commit.

    With `render_error` the rows are recorded already failed, carrying the error, so a
    broken template is visible to staff instead of silently dropping the message.
    `has_secret` stays with the rows for good (see the module docstring).
    """
    now = timezone.now()
    serialised = attachments_serialise(attachments)
    rows = [
        OutboxMessage(
            channel=draft.channel,
            purpose=purpose,
            event_code=event_code,
            has_secret=has_secret,
            order_number=order_number[:128],
            user_id=draft.user_id,
            recipient=draft.recipient,
            push_subscription_id=draft.push_subscription_id,
            language=draft.language or language,
            subject=draft.subject[:255],
            body=draft.body,
            html=draft.html,
            url=draft.url[:500],
            attachments=serialised if draft.channel == Channel.EMAIL else [],
            headers=dict(draft.headers) if draft.channel == Channel.EMAIL else {},
            max_attempts=settings.NOTIFY_MAX_ATTEMPTS,
            next_attempt_at=now,
            status=OutboxMessage.Status.FAILED if render_error else OutboxMessage.Status.PENDING,
            last_error=render_error,
        )
        for draft in drafts
    ]
    OutboxMessage.objects.bulk_create(rows)
    pending = [row.pk for row in rows if row.status == OutboxMessage.Status.PENDING]
    if pending:
        transaction.on_commit(
            lambda: messages_publish(message_ids=pending, marketing=purpose == Purpose.MARKETING)
        )
    return rows


def messages_publish(
    *, message_ids: list[int], countdown: float | None = None, marketing: bool = False
) -> int:
    """Hand delivery tasks to the broker; never raises. Returns how many messages were
    published (all or, when the broker failed, none: the sweeper publishes them later).

    One task per message, but marketing messages go by MARKETING_DELIVERY_CHUNK to a task
    (`deliver_messages`), on their own queue (MARKETING_QUEUE, README "Campaigns"), so that
    a campaign never delays order and pickup messages. The tasks of one call go to Redis
    in one pipeline (kombu's publish batch): a campaign's batch of a few hundred messages
    costs the broker one round trip, not one per message (bench/README.md "campaigns.py").
    """
    from config.celery_app import app

    from .tasks import deliver_message, deliver_messages

    if not message_ids:
        return 0
    queue = settings.MARKETING_QUEUE if marketing else None
    broker = redis_server(app.conf.broker_url)

    if circuit.is_open(broker):
        logger.warning(
            "Broker recently failed; %d message(s) left to the sweeper", len(message_ids)
        )
        return 0
    if marketing:
        size = settings.MARKETING_DELIVERY_CHUNK
        calls: list[tuple[Any, tuple[Any, ...]]] = [
            (deliver_messages, (list(message_ids[start : start + size]),))
            for start in range(0, len(message_ids), size)
        ]
    else:
        calls = [(deliver_message, (message_id,)) for message_id in message_ids]
    # No publish retries: the sweeper is the retry, and a hung broker then costs a request
    # at most one socket timeout (R25).
    options = {"countdown": countdown, "retry": False, "queue": queue}
    try:
        if app.conf.task_always_eager or len(calls) == 1:
            for task, args in calls:
                task.apply_async(args, **options)
        else:
            with app.producer_or_acquire() as producer, producer.batch():
                for task, args in calls:
                    task.apply_async(args, producer=producer, **options)
    except PUBLISH_ERRORS as exc:
        circuit.trip(broker)
        logger.warning(
            "Could not publish %d outbox message(s), the sweeper will: %s",
            len(message_ids),
            exc,
        )
        return 0
    return len(message_ids)


def messages_deliver(*, message_ids: list[int], budget: float | None = None) -> dict[str, int]:
    """Deliver the messages one after the other (`message_deliver`: each claimed on its
    own, R26). After `budget` seconds (default: half CELERY_TASK_SOFT_TIME_LIMIT; the
    provider rate limit may make each one wait) the rest is published as a new task, so
    that a task never runs into its time limit. Returns the count of each outcome."""
    budget = settings.CELERY_TASK_SOFT_TIME_LIMIT / 2 if budget is None else budget
    started = time.monotonic()
    outcomes: dict[str, int] = {}
    for index, message_id in enumerate(message_ids):
        if time.monotonic() - started > budget:
            rest = list(message_ids[index:])
            messages_publish(message_ids=rest, marketing=True)
            outcomes["handed_on"] = len(rest)
            break
        outcome = message_deliver(message_id=message_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


# --- Delivery ---------------------------------------------------------------------------


def retry_delay(*, attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: exponential, capped, with jitter.

    Half the delay is fixed and half random ("equal jitter"), so retries of many messages
    failing together spread out while each message still backs off.
    """
    delay = min(
        settings.NOTIFY_RETRY_MAX_DELAY, settings.NOTIFY_RETRY_BASE_DELAY * 2 ** (attempt - 1)
    )
    return delay / 2 + random.uniform(0, delay / 2)


def _claim(*, message_id: int) -> tuple[OutboxMessage, DeliveryAttempt] | None:
    now = timezone.now()
    token = uuid.uuid4()
    lease_expired = now - timedelta(seconds=settings.NOTIFY_SENDING_LEASE)
    with transaction.atomic():
        claimed = (
            OutboxMessage.objects.filter(pk=message_id, attempts__lt=F("max_attempts"))
            .filter(
                Q(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now)
                | (
                    Q(status=OutboxMessage.Status.SENDING, claimed_at__lt=lease_expired)
                    & ~CURRENT_ATTEMPT_HANDED_OVER
                )
            )
            .update(
                status=OutboxMessage.Status.SENDING,
                claim_token=token,
                claimed_at=now,
                attempts=F("attempts") + 1,
                updated_at=now,
            )
        )
        if not claimed:
            return None
        message = OutboxMessage.objects.select_related("push_subscription").get(pk=message_id)
        attempt = DeliveryAttempt.objects.create(
            message=message, number=message.attempts, claim_token=token, started_at=now
        )
    return message, attempt


def _handed_over(*, attempt: DeliveryAttempt) -> None:
    """Record that the attempt's content goes to the provider now; raise ClaimLost instead
    if the message is no longer this attempt's to send (nothing is then sent).

    In the worker this UPDATE commits at once (autocommit), before the content leaves.
    """
    now = timezone.now()
    marked = DeliveryAttempt.objects.filter(
        pk=attempt.pk,
        message__status=OutboxMessage.Status.SENDING,
        message__claim_token=attempt.claim_token,
    ).update(handed_over_at=now)
    if not marked:
        raise ClaimLost(f"attempt {attempt.number} of message #{attempt.message_id}")
    attempt.handed_over_at = now


def _finish(
    *,
    message: OutboxMessage,
    attempt: DeliveryAttempt,
    outcome: str,
    error: str = "",
    reference: str = "",
    retry_in: float | None = None,
) -> bool:
    """Record an attempt's outcome, if this sender still holds the claim.

    Once delivery is over, a secret message's content is erased in the same UPDATE.
    """
    now = timezone.now()
    fields: dict = {"claim_token": None, "updated_at": now, "last_error": error}
    if message.has_secret and retry_in is None:
        fields.update(CONTENT_ERASED)
    if outcome == DeliveryAttempt.Outcome.SENT:
        fields.update(status=OutboxMessage.Status.SENT, sent_at=now, provider_reference=reference)
    elif retry_in is not None:
        fields.update(
            status=OutboxMessage.Status.PENDING,
            next_attempt_at=now + timedelta(seconds=retry_in),
        )
    elif outcome == DeliveryAttempt.Outcome.CANCELLED:
        fields.update(status=OutboxMessage.Status.CANCELLED)
    elif outcome == DeliveryAttempt.Outcome.UNKNOWN:
        fields.update(status=OutboxMessage.Status.UNKNOWN)
    else:
        fields.update(status=OutboxMessage.Status.FAILED)
    with transaction.atomic():
        updated = OutboxMessage.objects.filter(
            pk=message.pk, status=OutboxMessage.Status.SENDING, claim_token=attempt.claim_token
        ).update(**fields)
        DeliveryAttempt.objects.filter(pk=attempt.pk).update(
            finished_at=now, outcome=outcome, error=error
        )
    if not updated:
        logger.warning(
            "Outbox message #%s was taken over before attempt %s ended", message.pk, attempt.number
        )
    return bool(updated)


def message_deliver(*, message_id: int) -> str:
    """Send one outbox message if it is due and nobody else is sending it.

    Safe to run any number of times for one message: at most one run holds the claim.
    Returns the outcome ("sent", "retry", "failed", "cancelled", "unknown" or "skipped").
    """
    from .preferences import marketing_consent_granted
    from .ratelimit import marketing_send_token_wait

    claim = _claim(message_id=message_id)
    if claim is None:
        return "skipped"
    message, attempt = claim
    if (
        message.purpose == Purpose.MARKETING
        and message.user is not None
        and not marketing_consent_granted(user=message.user, channel=message.channel)
    ):
        _finish(
            message=message,
            attempt=attempt,
            outcome=DeliveryAttempt.Outcome.CANCELLED,
            error="no current marketing consent at send time",
        )
        return "cancelled"
    if message.purpose == Purpose.MARKETING:
        # The provider rate limit, shared by every worker (R29).
        marketing_send_token_wait()
    handover = channels.Handover(lambda: _handed_over(attempt=attempt))
    try:
        reference = channels.SENDERS[message.channel](message, handover)
    except ClaimLost:
        logger.warning("Outbox message #%s was taken over before it was sent", message.pk)
        return "skipped"
    except channels.DeliveryUnknown as exc:
        return _delivery_unknown(message=message, attempt=attempt, error=str(exc))
    except (channels.TransientDeliveryError, SoftTimeLimitExceeded) as exc:
        error = str(exc) or type(exc).__name__
        if handover.done and isinstance(exc, SoftTimeLimitExceeded):
            # Out of time while the provider held the content: no answer, no retry.
            return _delivery_unknown(message=message, attempt=attempt, error=error)
        if message.attempts >= message.max_attempts:
            _finish(
                message=message,
                attempt=attempt,
                outcome=DeliveryAttempt.Outcome.TRANSIENT_ERROR,
                error=f"gave up after {message.attempts} attempts: {error}",
            )
            logger.error("Outbox message #%s is a dead letter: %s", message.pk, error)
            return "failed"
        delay = retry_delay(attempt=message.attempts)
        if (
            _finish(
                message=message,
                attempt=attempt,
                outcome=DeliveryAttempt.Outcome.TRANSIENT_ERROR,
                error=error,
                retry_in=delay,
            )
            and not settings.CELERY_TASK_ALWAYS_EAGER
        ):
            # In-process (eager) mode would retry at once, inside the caller: the message
            # waits for the sweeper (celery beat) instead.
            messages_publish(
                message_ids=[message.pk],
                countdown=delay,
                marketing=message.purpose == Purpose.MARKETING,
            )
        return "retry"
    except channels.SubscriptionGone as exc:
        if message.push_subscription_id is not None:
            PushSubscription.objects.filter(pk=message.push_subscription_id).delete()
        _finish(
            message=message,
            attempt=attempt,
            outcome=DeliveryAttempt.Outcome.PERMANENT_ERROR,
            error=str(exc),
        )
        return "failed"
    except Exception as exc:
        if handover.done and not isinstance(exc, channels.PermanentDeliveryError):
            # Something broke after the content left (not the provider's refusal).
            logger.exception("Outbox message #%s: delivery unknown", message.pk)
            return _delivery_unknown(
                message=message, attempt=attempt, error=f"{type(exc).__name__}: {exc}"
            )
        # Permanent provider refusals and bugs alike: a dead letter with the error beats a
        # message stuck in "sending" until its lease runs out.
        logger.exception("Outbox message #%s failed", message.pk)
        _finish(
            message=message,
            attempt=attempt,
            outcome=DeliveryAttempt.Outcome.PERMANENT_ERROR,
            error=f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, channels.DeliveryError)
            else str(exc),
        )
        return "failed"
    _finish(
        message=message, attempt=attempt, outcome=DeliveryAttempt.Outcome.SENT, reference=reference
    )
    _after_sent(message)
    return "sent"


def _delivery_unknown(*, message: OutboxMessage, attempt: DeliveryAttempt, error: str) -> str:
    logger.error("Outbox message #%s may or may not have been delivered: %s", message.pk, error)
    _finish(message=message, attempt=attempt, outcome=DeliveryAttempt.Outcome.UNKNOWN, error=error)
    return "unknown"


def _after_sent(message: OutboxMessage) -> None:
    if message.channel == Channel.PUSH and message.push_subscription_id:
        PushSubscription.objects.filter(pk=message.push_subscription_id).update(
            last_success_at=timezone.now()
        )
    # Oscar's email history of the account: a reset link or pickup code has no place there
    # (staff can read it), so secret messages leave no copy.
    if (
        message.channel == Channel.EMAIL
        and message.user_id
        and not message.has_secret
        # From oscar.defaults (a star import the stubs cannot read).
        and settings.OSCAR_SAVE_SENT_EMAILS_TO_DB  # type: ignore[misc]
    ):
        Email.objects.create(
            user_id=message.user_id,
            email=message.recipient,
            subject=message.subject,
            body_text=message.body,
            body_html=message.html,
        )


# --- Sweeping and staff actions -----------------------------------------------------------


def outbox_sweep(*, limit: int = 500) -> dict[str, int]:
    """Publish what the broker missed; close messages whose sender died after handing the
    content over ("unknown") or on the last attempt ("failed").

    Picks pending messages due for longer than NOTIFY_SWEEP_DELAY and claimed messages
    whose lease expired. Publishing a message twice is harmless (the claim decides).
    """
    now = timezone.now()
    lease_expired = now - timedelta(seconds=settings.NOTIFY_SENDING_LEASE)
    unknown = _stale_handed_over_close(lease_expired=lease_expired, now=now)
    exhausted = OutboxMessage.objects.stale_sending(claimed_before=lease_expired).filter(
        attempts__gte=F("max_attempts")
    )
    lost_fields = {
        "status": OutboxMessage.Status.FAILED,
        "claim_token": None,
        "last_error": "the worker stopped during the last attempt",
        "updated_at": now,
    }
    lost = exhausted.filter(has_secret=True).update(**lost_fields, **CONTENT_ERASED)
    lost += exhausted.update(**lost_fields)
    due = OutboxMessage.objects.due(before=now - timedelta(seconds=settings.NOTIFY_SWEEP_DELAY))
    stale = OutboxMessage.objects.stale_sending(claimed_before=lease_expired)
    rows = list(
        OutboxMessage.objects.filter(Q(pk__in=due.values("pk")) | Q(pk__in=stale.values("pk")))
        .order_by("next_attempt_at")
        .values_list("pk", "purpose")[:limit]
    )
    published = 0
    for marketing in (False, True):
        ids = [pk for pk, purpose in rows if (purpose == Purpose.MARKETING) == marketing]
        if ids:
            published += messages_publish(message_ids=ids, marketing=marketing)
    return {"found": len(rows), "published": published, "lost": lost, "unknown": unknown}


def _stale_handed_over_close(*, lease_expired: datetime, now: datetime) -> int:
    """Messages whose sender died after handing the content over become "unknown"."""
    with transaction.atomic():
        stale = list(
            OutboxMessage.objects.stale_sending(claimed_before=lease_expired)
            .filter(CURRENT_ATTEMPT_HANDED_OVER)
            .select_for_update(skip_locked=True)
            .values_list("pk", "claim_token", "has_secret")
        )
        for pk, token, has_secret in stale:
            DeliveryAttempt.objects.filter(message_id=pk, claim_token=token).update(
                outcome=DeliveryAttempt.Outcome.UNKNOWN, error=UNKNOWN_AFTER_WORKER_STOPPED
            )
            OutboxMessage.objects.filter(pk=pk, claim_token=token).update(
                status=OutboxMessage.Status.UNKNOWN,
                claim_token=None,
                last_error=UNKNOWN_AFTER_WORKER_STOPPED,
                updated_at=now,
                **(CONTENT_ERASED if has_secret else {}),
            )
    for pk, _token, _secret in stale:
        logger.error("Outbox message #%s: %s", pk, UNKNOWN_AFTER_WORKER_STOPPED)
    return len(stale)


def message_retry(*, message_id: int) -> bool:
    """Staff action: give a dead letter, or a message whose delivery is unknown (staff judged
    it was not received), a fresh set of attempts and publish it after commit.

    Never a secret message: its link or code is stale (and erased); the customer asks for a
    new one.
    """
    now = timezone.now()
    marketing = OutboxMessage.objects.filter(pk=message_id, purpose=Purpose.MARKETING).exists()
    updated = (
        OutboxMessage.objects.filter(
            pk=message_id,
            status__in=(OutboxMessage.Status.FAILED, OutboxMessage.Status.UNKNOWN),
            has_secret=False,
        )
        .exclude(body="", html="")
        .update(
            status=OutboxMessage.Status.PENDING,
            next_attempt_at=now,
            max_attempts=F("attempts") + settings.NOTIFY_MAX_ATTEMPTS,
            updated_at=now,
        )
    )
    if updated:
        transaction.on_commit(
            lambda: messages_publish(message_ids=[message_id], marketing=marketing)
        )
    return bool(updated)


def messages_cancel(*, message_ids: Iterable[int]) -> list[int]:
    """Cancel the messages not yet claimed by a sender; returns the ids cancelled.

    The rows are locked first, so a sender's claim (a conditional UPDATE) waits and then
    finds them cancelled: a message is either cancelled here or sent, never both.
    """
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            OutboxMessage.objects.select_for_update()
            .filter(pk__in=list(message_ids), status=OutboxMessage.Status.PENDING)
            .values_list("pk", flat=True)
        )
        OutboxMessage.objects.filter(pk__in=ids).update(
            status=OutboxMessage.Status.CANCELLED,
            last_error="cancelled before sending",
            updated_at=now,
        )
    return ids


# --- Retention ----------------------------------------------------------------------------


def outbox_bodies_prune(*, now: datetime | None = None) -> dict[str, int]:
    """Erase what old messages said; delete Oscar's old stored email copies.

    Messages whose delivery is over (sent, dead, cancelled) and that were written more than
    NOTIFY_BODY_RETENTION_DAYS ago keep their recipient, event, status and attempts, not
    their content; Oscar's `Email` rows (the account's email history) older than that go.
    Secret messages were erased when their delivery ended (see `_finish`); this also
    catches any left behind. Returns how many messages were erased and emails deleted.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.NOTIFY_BODY_RETENTION_DAYS)
    finished = OutboxMessage.objects.filter(status__in=DELIVERY_OVER)
    with_content = ~Q(**CONTENT_ERASED)
    erased = (
        finished.filter(Q(created_at__lt=cutoff) | Q(has_secret=True))
        .filter(with_content)
        .update(**CONTENT_ERASED, updated_at=now)
    )
    emails, _by_model = Email.objects.filter(date_sent__lt=cutoff).delete()
    return {"messages": erased, "emails": emails}
