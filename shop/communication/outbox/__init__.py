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

Modules: `recording` (messages_record, messages_publish), `delivery` (message_deliver,
messages_deliver, retry_delay), `sweeps` (outbox_sweep, message_retry, messages_cancel,
outbox_bodies_prune), `states` (what they share); every name below is importable from
shop.communication.outbox.
"""

from .delivery import message_deliver, messages_deliver, retry_delay
from .recording import (
    Draft,
    attachments_serialise,
    messages_publish,
    messages_record,
)
from .states import (
    CONTENT_ERASED,
    CURRENT_ATTEMPT_HANDED_OVER,
    DELIVERY_OVER,
    PUBLISH_ERRORS,
    UNKNOWN_AFTER_WORKER_STOPPED,
    ClaimLost,
)
from .sweeps import message_retry, messages_cancel, outbox_bodies_prune, outbox_sweep

__all__ = [
    "CONTENT_ERASED",
    "CURRENT_ATTEMPT_HANDED_OVER",
    "DELIVERY_OVER",
    "PUBLISH_ERRORS",
    "UNKNOWN_AFTER_WORKER_STOPPED",
    "ClaimLost",
    "Draft",
    "attachments_serialise",
    "message_deliver",
    "message_retry",
    "messages_cancel",
    "messages_deliver",
    "messages_publish",
    "messages_record",
    "outbox_bodies_prune",
    "outbox_sweep",
    "retry_delay",
]
