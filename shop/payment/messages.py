"""The customer message sent when an order awaiting card payment is released.

Like the click & collect messages (stores/messages.py), the event type is created with
this wording when first needed, so staff can edit it in the dashboard.
"""

from oscar.core.loading import get_class, get_model

PAYMENT_EXPIRED_EVENT_CODE = "PAYMENT_EXPIRED"

EVENT_TYPE = {
    "name": "Order cancelled: payment not completed",
    "category": "Order related",
    "email_subject_template": "Your order {{ order.number }} was cancelled",
    "email_body_template": (
        "Hello,\n\nYour order {{ order.number }} was waiting for your card payment, which was "
        "not completed in time, so we cancelled it. Nothing was charged.\n"
        "The items are back on sale; you are welcome to order them again.\n"
    ),
    "sms_template": (
        "Solomo: order {{ order.number }} was cancelled because its payment was not "
        "completed. Nothing was charged."
    ),
}


def payment_event_type():
    """The event type, created with the wording above if it does not exist yet."""
    CommunicationEventType = get_model("communication", "CommunicationEventType")
    event_type, _created = CommunicationEventType.objects.get_or_create(
        code=PAYMENT_EXPIRED_EVENT_CODE, defaults=EVENT_TYPE
    )
    return event_type


def payment_expired_notify(order) -> None:
    """Tell the customer their unpaid order was cancelled (recorded in the outbox)."""
    payment_event_type()
    dispatcher = get_class("order.utils", "OrderDispatcher")()
    messages = dispatcher.dispatcher.get_messages(PAYMENT_EXPIRED_EVENT_CODE, {"order": order})
    dispatcher.dispatch_order_messages(order, messages, PAYMENT_EXPIRED_EVENT_CODE)
