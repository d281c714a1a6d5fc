"""Recording messages in the caller's transaction and publishing them after commit
(R24, R25)."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from shop.redis_circuit import circuit, redis_server

from ..models import Channel, OutboxMessage, Purpose
from .states import PUBLISH_ERRORS

logger = logging.getLogger(__name__)


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

    from ..tasks import deliver_message, deliver_messages

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
