"""Delivering one message: claim it, hand it to its channel, record the outcome (R26,
R27, R46)."""

from __future__ import annotations

import logging
import random
import time
import uuid
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .. import channels
from ..models import Channel, DeliveryAttempt, Email, OutboxMessage, Purpose, PushSubscription
from .recording import messages_publish
from .states import CONTENT_ERASED, CURRENT_ATTEMPT_HANDED_OVER, ClaimLost

logger = logging.getLogger(__name__)


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
    from ..preferences import marketing_consent_granted
    from ..ratelimit import marketing_send_token_wait

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
