"""Account settings, push subscriptions, the service worker and the staff outbox pages."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from shop.communication.models import ConsentRecord, OutboxMessage, PushSubscription
from shop.communication.outbox import Draft, messages_record
from tests.shop.communication.keys import subscriber_keys, vapid_keys
from tests.shop.communication.roles import permissions, user_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, customer):
    client.force_login(customer)
    return client


def test_settings_page_needs_a_login(client):
    response = client.get(reverse("communication:settings"))
    assert response.status_code == 302
    assert reverse("customer:login") in response["Location"]


def test_settings_page_offers_to_turn_on_notifications(signed_in, settings):
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = vapid_keys()
    response = signed_in.get(reverse("communication:settings"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Turn on notifications" in html
    assert f'data-vapid-key="{settings.VAPID_PUBLIC_KEY}"' in html
    assert "shop/push/notifications.js" in html


def test_saving_settings_stores_channels_and_records_consent_changes(signed_in, customer):
    url = reverse("communication:settings")
    form = {"email": "on", "sms": "on", "phone_number": "+33 6 12 34 56 78", "marketing_sms": "on"}

    response = signed_in.post(url, form)

    assert response.status_code == 302
    preference = customer.notification_preference
    assert (preference.email, preference.sms, preference.push) == (True, True, False)
    assert preference.phone_number == "+33612345678"
    assert list(ConsentRecord.objects.values_list("channel", "action", "source")) == [
        ("sms", "granted", "account-notification-settings")
    ]

    # Saving again with the same choices appends nothing; unticking appends a withdrawal
    signed_in.post(url, form)
    assert ConsentRecord.objects.count() == 1
    signed_in.post(url, {**form, "marketing_sms": ""})
    assert list(ConsentRecord.objects.order_by("id").values_list("action", flat=True)) == [
        "granted",
        "withdrawn",
    ]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"email": "on", "sms": "on"}, "SMS needs a mobile number."),
        ({"email": "on", "phone_number": "06 12"}, "international format"),
        ({}, "Choose at least one way"),
    ],
)
def test_invalid_settings_are_refused_with_a_reason(signed_in, form, error):
    response = signed_in.post(reverse("communication:settings"), form)
    assert response.status_code == 200
    assert error in response.content.decode()


def subscription_json(endpoint="https://fcm.googleapis.com/fcm/send/abc"):
    p256dh, auth = subscriber_keys()
    return {"endpoint": endpoint, "expirationTime": None, "keys": {"p256dh": p256dh, "auth": auth}}


def test_a_phone_subscribes_and_unsubscribes(signed_in, customer, fake_dns):
    fake_dns.records["fcm.googleapis.com"] = ["142.250.74.42"]
    url = reverse("communication:push")
    payload = subscription_json()

    response = signed_in.post(url, json.dumps(payload), content_type="application/json")

    assert response.status_code == 201
    subscription = PushSubscription.objects.get()
    assert (subscription.user, subscription.endpoint) == (customer, payload["endpoint"])

    response = signed_in.delete(
        url, json.dumps({"endpoint": payload["endpoint"]}), content_type="application/json"
    )
    assert response.json() == {"deleted": 1}
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda p: "not json", "the body is not JSON"),
        (lambda p: [], "expected a JSON object"),
        (lambda p: {**p, "endpoint": ""}, "endpoint is missing"),
        (
            lambda p: {**p, "endpoint": "http://push.example.net/x"},
            "endpoint must be an https:// URL",
        ),
        (lambda p: {**p, "keys": None}, "keys is missing"),
        (lambda p: {**p, "keys": {**p["keys"], "p256dh": "AAAA"}}, "not an uncompressed P-256"),
        (lambda p: {**p, "keys": {**p["keys"], "auth": "!!"}}, "keys.auth"),
    ],
)
def test_invalid_subscriptions_get_a_400_with_the_reason(signed_in, mutate, reason):
    body = mutate(subscription_json())
    response = signed_in.post(
        reverse("communication:push"),
        body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert not PushSubscription.objects.exists()


def test_anonymous_visitors_cannot_subscribe(client):
    response = client.post(
        reverse("communication:push"),
        json.dumps(subscription_json()),
        content_type="application/json",
    )
    assert response.status_code == 403


def test_service_worker_is_served_at_the_root_with_the_whole_site_as_scope(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert b'addEventListener("push"' in response.content


@pytest.fixture
def staff_client(client):
    """Support staff: the outbox's readers (README "Roles and permissions")."""
    client.force_login(user_for("support"))
    return client


@pytest.fixture
def marketer_client(client):
    client.force_login(user_for("marketer"))
    return client


def test_staff_see_messages_with_filters_counts_and_attempts(staff_client):
    messages_record(
        drafts=[Draft(channel="email", recipient="lea@example.com", subject="Hi", body="B")],
        event_code="ORDER_PLACED",
    )
    messages_record(
        drafts=[Draft(channel="sms", recipient="+33612345678", body="B")],
        event_code="ORDER_READY",
        render_error="template error: boom",
    )
    url = reverse("communication:dashboard-list")

    response = staff_client.get(url)
    assert response.status_code == 200
    assert response.context["counts"] == {"pending": 1, "failed": 1, "unknown": 0}
    assert "Last 24 hours: 1 pending, 1 failed." in response.content.decode()
    assert "delivery unknown" not in response.content.decode()

    response = staff_client.get(url, {"status": "failed", "channel": "sms"})
    assert [m.recipient for m in response.context["outbox_messages"]] == ["+33612345678"]
    response = staff_client.get(url, {"event_code": "ORDER_PLACED", "customer": "lea@"})
    assert [m.recipient for m in response.context["outbox_messages"]] == ["lea@example.com"]

    failed = OutboxMessage.objects.get(channel="sms")
    response = staff_client.get(reverse("communication:dashboard-detail", args=[failed.pk]))
    assert response.status_code == 200
    assert "template error: boom" in response.content.decode()


def test_staff_retry_a_dead_letter(staff_client):
    (message,) = messages_record(
        drafts=[Draft(channel="sms", recipient="+33612345678", body="Ready")]
    )
    OutboxMessage.objects.filter(pk=message.pk).update(
        status="failed", attempts=message.max_attempts, last_error="gave up"
    )

    response = staff_client.post(reverse("communication:dashboard-retry", args=[message.pk]))

    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == "pending"
    assert message.max_attempts == 2 * message.attempts


def test_r26_staff_are_told_a_delivery_is_unknown_and_may_send_it_again(staff_client, settings):
    (message,) = messages_record(
        drafts=[Draft(channel="email", recipient="lea@example.com", subject="Hi", body="B")]
    )
    OutboxMessage.objects.filter(pk=message.pk).update(
        status="unknown", attempts=1, last_error="no answer after the content was handed over"
    )
    detail = reverse("communication:dashboard-detail", args=[message.pk])

    # The list counts it and links to it; the page explains and offers to send it again
    listing = staff_client.get(reverse("communication:dashboard-list")).content.decode()
    assert "1 with delivery unknown: check before sending again." in listing
    html = staff_client.get(detail).content.decode()
    assert "The mail server received this message but never confirmed it" in html
    assert "the customer gets it twice" in html
    assert ">Send again</button>" in html

    # A reader without the change permission sees the explanation but no button
    reader = user_for("shopper")
    reader.is_staff = True
    reader.save()
    reader.user_permissions.add(*permissions("communication.view_outboxmessage"))
    other = Client()
    other.force_login(reader)
    html = other.get(detail).content.decode()
    assert "The mail server received this message but never confirmed it" in html
    assert "Send again" not in html

    # Sending again gives it fresh attempts
    response = staff_client.post(reverse("communication:dashboard-retry", args=[message.pk]))
    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.status, message.max_attempts) == ("pending", 1 + settings.NOTIFY_MAX_ATTEMPTS)


def test_customers_cannot_see_the_outbox(signed_in):
    response = signed_in.get(reverse("communication:dashboard-list"))
    assert response.status_code == 403


def test_marketers_edit_sms_push_and_french_templates(marketer_client, customer):
    from django.utils import translation
    from oscar.core.loading import get_class, get_model
    from oscar.test.factories import create_order

    event_type = get_model("communication", "CommunicationEventType").objects.create(
        code="ORDER_PLACED", name="Order placed"
    )
    url = reverse("communication:dashboard-templates", args=["ORDER_PLACED"])
    assert marketer_client.get(url).status_code == 200

    # A template that does not compile is refused with the reason
    response = marketer_client.post(url, {"main-sms_template": "{% if %}"})
    assert response.status_code == 400
    assert "Unexpected end of expression" in response.content.decode()

    response = marketer_client.post(
        url,
        {
            "main-sms_template": "Order {{ order.number }} placed",
            "main-push_title_template": "Order {{ order.number }}",
            "fr-sms_template": "Commande {{ order.number }} passée",
            "fr-email_subject_template": "",
        },
    )
    assert response.status_code == 302
    event_type.refresh_from_db()
    assert event_type.sms_template == "Order {{ order.number }} placed"
    assert event_type.push_body_template is None  # empty: falls back to the file template
    french = event_type.translations.get(language="fr")
    assert french.sms_template == "Commande {{ order.number }} passée"
    assert french.email_subject_template is None

    # and messages use them, in the customer's language
    order = create_order(user=customer, number="100077")
    dispatcher = get_class("communication.utils", "Dispatcher")()
    with translation.override("fr"):
        assert dispatcher.get_messages("ORDER_PLACED", {"order": order})["sms"] == (
            "Commande 100077 passée"
        )
    assert dispatcher.get_messages("ORDER_PLACED", {"order": order})["sms"] == "Order 100077 placed"


def test_the_dashboard_menu_links_to_the_messages(staff_client):
    html = staff_client.get(reverse("dashboard:index")).content.decode()
    assert f'href="{reverse("communication:dashboard-list")}"' in html
    assert f'href="{reverse("communication:dashboard-template-list")}"' not in html


def test_the_dashboard_menu_links_marketers_to_the_templates_only(marketer_client):
    html = marketer_client.get(reverse("dashboard:index")).content.decode()
    assert f'href="{reverse("communication:dashboard-template-list")}"' in html
    assert f'href="{reverse("communication:dashboard-list")}"' not in html


def test_every_account_page_links_to_the_notification_settings(signed_in):
    response = signed_in.get(reverse("customer:profile-view"))
    assert response.status_code == 200
    assert reverse("communication:settings") in response.content.decode()
