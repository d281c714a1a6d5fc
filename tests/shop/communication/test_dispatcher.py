"""The Dispatcher records outbox messages in the caller's transaction and sends nothing."""

import pytest
from django.core import mail
from oscar.core.loading import get_class, get_model
from oscar.test.factories import UserFactory, create_order

from shop.communication.models import NotificationPreference, OutboxMessage
from tests.shop.communication.conftest import with_push, with_sms

OrderDispatcher = get_class("order.utils", "OrderDispatcher")
CustomerDispatcher = get_class("customer.utils", "CustomerDispatcher")
Dispatcher = get_class("communication.utils", "Dispatcher")
CommunicationEventType = get_model("communication", "CommunicationEventType")

pytestmark = pytest.mark.django_db


def place_order_message(order, user):
    OrderDispatcher().send_order_placed_email_for_user(
        order, {"user": user, "order": order, "lines": order.lines.all()}
    )


def test_order_placed_is_recorded_per_chosen_channel_and_sent_after_commit(
    customer, django_capture_on_commit_callbacks
):
    # Given a customer who wants email, SMS and push, with a phone and a subscribed phone
    with_sms(customer)
    subscription = with_push(customer)
    order = create_order(user=customer, number="100042")

    # When Oscar's OrderDispatcher sends the confirmation
    with django_capture_on_commit_callbacks() as callbacks:
        place_order_message(order, customer)

    # Then one pending message per channel is recorded, nothing is sent in the request,
    # and publishing waits for the commit
    messages = {m.channel: m for m in OutboxMessage.objects.all()}
    assert sorted(messages) == ["email", "push", "sms"]
    assert all(m.status == "pending" and m.event_code == "ORDER_PLACED" for m in messages.values())
    assert messages["email"].recipient == "lea@example.com"
    assert order.number in messages["email"].subject
    assert messages["sms"].recipient == "+33612345678"
    assert f"order {order.number} is confirmed" in messages["sms"].body
    assert messages["push"].push_subscription == subscription
    assert messages["push"].subject == f"Order {order.number} confirmed"
    assert mail.outbox == []
    assert len(callbacks) == 1


def test_customer_without_phone_or_subscription_gets_email_only(customer):
    # Given a customer who chose every channel but has no phone number and no subscription
    NotificationPreference.objects.create(user=customer, email=True, sms=True, push=True)
    order = create_order(user=customer)

    place_order_message(order, customer)

    assert list(OutboxMessage.objects.values_list("channel", flat=True)) == ["email"]


def test_guest_order_goes_by_email_to_the_guest_address():
    order = create_order(guest_email="guest@example.com")

    place_order_message(order, None)

    message = OutboxMessage.objects.get()
    assert (message.channel, message.recipient, message.user) == (
        "email",
        "guest@example.com",
        None,
    )


def test_password_reset_goes_by_email_even_when_the_customer_turned_email_off(customer):
    # Account security messages ignore service preferences
    with_sms(customer)
    customer.notification_preference.email = False
    customer.notification_preference.save()

    CustomerDispatcher().send_password_reset_email_for_user(
        customer, {"user": customer, "reset_url": "https://shop.example/reset/x/"}
    )

    assert list(OutboxMessage.objects.values_list("channel", "recipient")) == [
        ("email", "lea@example.com")
    ]


def test_a_template_that_fails_to_render_marks_the_message_failed(customer):
    # Given a staff member broke the order confirmation template
    CommunicationEventType.objects.create(
        code="ORDER_PLACED",
        name="Order placed",
        email_subject_template="Order {{ order.number }}",
        email_body_template="{% if %}broken{% endif %}",
        email_body_html_template="",
    )
    order = create_order(user=customer)

    # When the order confirmation is dispatched, the caller does not crash
    place_order_message(order, customer)

    # Then the message is recorded as failed, with the template error, and never published
    message = OutboxMessage.objects.get()
    assert message.status == "failed"
    assert message.last_error.startswith("template error: TemplateSyntaxError")
    assert message.can_retry is False


def test_french_template_is_used_for_a_french_customer_session(customer):
    from django.utils import translation

    event_type = CommunicationEventType.objects.create(
        code="ORDER_PLACED",
        name="Order placed",
        email_subject_template="Order {{ order.number }}",
        email_body_template="Thanks",
        sms_template="Order {{ order.number }} confirmed",
    )
    event_type.translations.create(
        language="fr",
        email_subject_template="Commande {{ order.number }}",
        sms_template="Commande {{ order.number }} confirmée",
    )
    with_sms(customer)
    order = create_order(user=customer, number="100043")

    with translation.override("fr"):
        place_order_message(order, customer)

    messages = {m.channel: m for m in OutboxMessage.objects.all()}
    assert messages["email"].subject == f"Commande {order.number}"
    # Fields without a translation fall back to the default language
    assert messages["email"].body == "Thanks"
    assert messages["sms"].body == f"Commande {order.number} confirmée"
    assert messages["sms"].language == "fr"


def test_users_without_email_get_nothing_by_email():
    user = UserFactory(email="")
    Dispatcher().dispatch_user_messages(
        user, {"subject": "s", "body": "b", "html": "", "sms": "", "event_code": "ORDER_PLACED"}
    )
    assert OutboxMessage.objects.count() == 0


def test_messages_rendered_by_the_event_type_itself_follow_service_preferences(customer):
    # Oscar's OrderDispatcher.dispatch_order_messages() may get messages rendered by
    # CommunicationEventType.get_messages(), which carry no event code
    with_sms(customer)
    order = create_order(user=customer, number="100044")
    event_type = CommunicationEventType.objects.create(
        code="ORDER_DISPATCHED",
        name="Order dispatched",
        email_subject_template="Ready",
        email_body_template="Order {{ order.number }} is ready",
        sms_template="Order {{ order.number }} is ready",
    )
    messages = event_type.get_messages({"order": order})

    OrderDispatcher().dispatch_order_messages(order, messages, "ORDER_DISPATCHED")

    assert sorted(OutboxMessage.objects.values_list("channel", "body")) == [
        ("email", "Order 100044 is ready"),
        ("sms", "Order 100044 is ready"),
    ]
    # and Oscar's audit trail records the event
    assert order.communication_events.get().event_type == event_type
