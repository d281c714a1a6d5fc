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

Modules: `templates` (channels, purposes, Oscar's models), `messages` (outbox rows),
`consent` (preferences, consent, push subscriptions); every model is importable from here.
"""

from .consent import (
    AppendOnlyQuerySet,
    ConsentRecord,
    NotificationPreference,
    PushSubscription,
)
from .messages import (
    DeliveryAttempt,
    OutboxMessage,
    OutboxMessageQuerySet,
)
from .templates import (
    SECRET_EVENT_CODES,
    TEMPLATE_FIELDS,
    Channel,
    CommunicationEventType,
    CommunicationEventTypeTranslation,
    Email,
    Notification,
    Purpose,
)

__all__ = [
    "AppendOnlyQuerySet",
    "Channel",
    "CommunicationEventType",
    "CommunicationEventTypeTranslation",
    "ConsentRecord",
    "DeliveryAttempt",
    "Email",
    "Notification",
    "NotificationPreference",
    "OutboxMessage",
    "OutboxMessageQuerySet",
    "Purpose",
    "PushSubscription",
    "SECRET_EVENT_CODES",
    "TEMPLATE_FIELDS",
]
