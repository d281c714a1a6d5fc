"""Sweeping (publish again what the broker missed, close senders that died), staff
actions (retry, cancel) and the retention of message bodies (R24, R26, R46)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from ..models import DeliveryAttempt, Email, OutboxMessage, Purpose
from .recording import messages_publish
from .states import (
    CONTENT_ERASED,
    CURRENT_ATTEMPT_HANDED_OVER,
    DELIVERY_OVER,
    UNKNOWN_AFTER_WORKER_STOPPED,
)

logger = logging.getLogger(__name__)


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
