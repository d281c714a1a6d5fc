"""The customer messages of click & collect, as Oscar CommunicationEventTypes.

They are created when first needed (and by seed_demo), not by a migration, so
that staff may edit them in the dashboard and tests start from an empty table.
"""

from typing import Any

from django.conf import settings

from .links import pickup_link_url
from .models import Pickup
from .selectors import order_amounts

READY_EVENT_CODE = "PICKUP_READY"
REMINDER_EVENT_CODE = "PICKUP_REMINDER"
# Sent by stores.sharing; its wording is in templates/oscar/communication/, translated.
COLLECTED_BY_FRIEND_EVENT_CODE = "PICKUP_COLLECTED_BY_FRIEND"

EVENT_TYPES: dict[str, dict[str, str]] = {
    READY_EVENT_CODE: {
        "name": "Pickup ready",
        "category": "Order related",
        "email_subject_template": "Your order {{ order.number }} is ready at {{ store.name }}",
        "email_body_template": (
            "Hello,\n\nYour order {{ order.number }} is ready for pickup at {{ store.name }}, "
            "{{ store.address_line }}.\nShow this pickup code at the counter: {{ pickup.code }}\n"
            "{% load currency_filters %}{% if amounts.due_at_pickup %}To pay at pickup: "
            "{{ amounts.due_at_pickup|currency:amounts.currency }}\n{% endif %}"
            "Your order, its QR code and “I'm here”: {{ pickup_url }}\n"
        ),
        "sms_template": (
            "Solomo: order {{ order.number }} is ready at {{ store.name }}. Code {{ pickup.code }}"
        ),
    },
    REMINDER_EVENT_CODE: {
        "name": "Pickup reminder",
        "category": "Order related",
        "email_subject_template": "Your order {{ order.number }} is waiting at {{ store.name }}",
        "email_body_template": (
            "Hello,\n\nYour order {{ order.number }} is still waiting for you at {{ store.name }}. "
            "Uncollected orders are cancelled after a few days.\nPickup code: {{ pickup.code }}\n"
            "Your order, its QR code and “I'm here”: {{ pickup_url }}\n"
        ),
        "sms_template": (
            "Solomo: order {{ order.number }} is waiting at {{ store.name }}. "
            "Code {{ pickup.code }}"
        ),
    },
    COLLECTED_BY_FRIEND_EVENT_CODE: {
        "name": "Pickup collected by a friend",
        "category": "Order related",
    },
}


def pickup_event_type(code: str) -> Any:
    """The event type `code`, created with our default wording if it does not exist yet."""
    from oscar.core.loading import get_model

    CommunicationEventType = get_model("communication", "CommunicationEventType")
    event_type, _created = CommunicationEventType.objects.get_or_create(
        code=code, defaults=EVENT_TYPES[code]
    )
    return event_type


def pickup_message_context(*, order: Any) -> dict[str, Any]:
    """What every message about `order` may show: `amounts` (total, points part, what is
    left to pay), and for a click & collect order its `pickup`, `store` and `pickup_url`,
    the absolute signed link to follow it (built from SITE_URL, never from a request)."""
    context: dict[str, Any] = {"amounts": order_amounts(order=order)}
    pickup = Pickup.objects.select_related("store", "slot").filter(order=order).first()
    if pickup is not None:
        context.update(
            pickup=pickup,
            store=pickup.store,
            pickup_url=settings.SITE_URL + pickup_link_url(order_number=order.number),
        )
    return context
