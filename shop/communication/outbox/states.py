"""What the outbox's modules share: the errors of a publish, what a message's content is,
which statuses end a delivery, and the claim of the current attempt."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from kombu.exceptions import KombuError
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from ..models import DeliveryAttempt, OutboxMessage

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
