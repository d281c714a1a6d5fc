"""Delivery of outbox messages, in this process, against providers on 127.0.0.1."""

import json
import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from shop.communication.models import ConsentRecord, DeliveryAttempt, OutboxMessage
from shop.communication.outbox import (
    Draft,
    message_deliver,
    message_retry,
    messages_deliver,
    messages_publish,
    messages_record,
    outbox_sweep,
    retry_delay,
)
from shop.communication.preferences import (
    consent_record,
    consents_update,
    marketing_consent_granted,
)
from tests.shop.communication.conftest import with_push
from tests.shop.communication.keys import vapid_keys
from tests.shop.communication.services import app_broker, free_port, push_service, sms_gateway

pytestmark = pytest.mark.django_db


def record(channel="email", recipient="lea@example.com", **fields):
    (message,) = messages_record(
        drafts=[
            Draft(channel=channel, recipient=recipient, subject="Hello", body="Body", **fields)
        ],
        event_code="ORDER_PLACED",
    )
    return message


def test_email_is_sent_once_even_when_its_task_runs_twice(customer):
    message = record(user_id=customer.pk)

    assert message_deliver(message_id=message.pk) == "sent"
    assert message_deliver(message_id=message.pk) == "skipped"

    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)
    assert message.sent_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["lea@example.com"]
    assert mail.outbox[0].extra_headers["Message-ID"] == f"<outbox-{message.pk}@localhost>"
    assert customer.emails.get().subject == "Hello"  # Oscar's sent-email log
    assert [(a.number, a.outcome) for a in message.attempt_log.all()] == [(1, "sent")]


def test_a_chunk_of_marketing_messages_run_twice_sends_each_once():
    # Given three marketing messages, delivered a few to a task (messages_publish)
    (first, second, third) = messages_record(
        drafts=[
            Draft(channel="email", recipient=f"{name}@example.com", subject="Hi", body="Body")
            for name in ("ann", "bob", "cy")
        ],
        purpose="marketing",
    )
    ids = [first.pk, second.pk, third.pk]

    # When their task runs, then runs again (redelivered after its worker died)
    assert messages_deliver(message_ids=ids) == {"sent": 3}
    assert messages_deliver(message_ids=ids) == {"skipped": 3}

    # Then each was sent once
    assert sorted(email.to[0] for email in mail.outbox) == [
        "ann@example.com",
        "bob@example.com",
        "cy@example.com",
    ]


def test_a_chunk_past_its_time_budget_hands_the_rest_on(django_capture_on_commit_callbacks):
    # Given two marketing messages and a broker that is down (the rest's new task can't go)
    (first, second) = messages_record(
        drafts=[
            Draft(channel="email", recipient=f"{name}@example.com", subject="Hi", body="Body")
            for name in ("ann", "bob")
        ],
        purpose="marketing",
    )
    with app_broker(f"redis://127.0.0.1:{free_port()}/0"):
        # When a task with no time left to spend starts on them
        outcomes = messages_deliver(message_ids=[first.pk, second.pk], budget=-1)

    # Then it sent none and handed both on; they stay pending for the sweeper
    assert outcomes == {"handed_on": 2}
    assert mail.outbox == []
    assert OutboxMessage.objects.filter(pk__in=[first.pk, second.pk], status="pending").count() == 2


def test_publishing_to_a_broker_that_is_down_publishes_none():
    with app_broker(f"redis://127.0.0.1:{free_port()}/0"):
        assert messages_publish(message_ids=[1, 2, 3], marketing=True) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_of_one_message_send_it_once():
    # Given one pending message (written directly: no task published for it) and two
    # workers' tasks for it starting together
    message = OutboxMessage.objects.create(
        channel="email",
        recipient="lea@example.com",
        subject="Hello",
        body="Body",
        max_attempts=3,
        next_attempt_at=timezone.now(),
    )
    barrier = threading.Barrier(2)
    outcomes = []

    def run():
        barrier.wait()
        try:
            outcomes.append(message_deliver(message_id=message.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then exactly one claimed and sent it
    assert sorted(outcomes) == ["sent", "skipped"]
    assert len(mail.outbox) == 1


def test_sms_gateway_errors_retry_with_backoff_then_dead_letter(settings, customer):
    settings.SMS_BACKEND = "http"
    settings.NOTIFY_MAX_ATTEMPTS = 2
    settings.NOTIFY_RETRY_BASE_DELAY = 10
    with sms_gateway() as gateway:
        settings.SMS_GATEWAY_URL = gateway.url
        gateway.script["+33612345678"] = [503, 503]
        message = record(channel="sms", recipient="+33612345678")

        # A 503 is transient: the message waits for its next attempt, 5-10 s later
        before = timezone.now()
        assert message_deliver(message_id=message.pk) == "retry"
        message.refresh_from_db()
        assert (message.status, message.attempts) == ("pending", 1)
        assert before + timedelta(seconds=5) <= message.next_attempt_at
        assert message.next_attempt_at <= timezone.now() + timedelta(seconds=10)
        assert "503" in message.last_error
        # and it is not due yet
        assert message_deliver(message_id=message.pk) == "skipped"

        # The last attempt failing too makes it a dead letter
        OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
        assert message_deliver(message_id=message.pk) == "failed"
        message.refresh_from_db()
        assert message.status == "failed"
        assert message.last_error.startswith("gave up after 2 attempts: SMS gateway answered 503")
        assert [a.outcome for a in message.attempt_log.all()] == ["transient", "transient"]
        assert gateway.sent == {}
        assert [r["key"] for r in gateway.requests] == [f"outbox-{message.pk}"] * 2
        assert gateway.requests[0]["text"] == "Body"

        # Staff retry gives it fresh attempts; the gateway now accepts it
        assert message_retry(message_id=message.pk) is True
        assert message_deliver(message_id=message.pk) == "sent"
        message.refresh_from_db()
        assert (message.status, message.attempts, message.provider_reference) == (
            "sent",
            3,
            "sms-1",
        )
        assert gateway.sent == {"+33612345678": ["Body"]}


def test_sms_refused_by_the_gateway_is_not_retried(settings):
    settings.SMS_BACKEND = "http"
    with sms_gateway() as gateway:
        settings.SMS_GATEWAY_URL = gateway.url
        gateway.script["+33612345678"] = [400]
        message = record(channel="sms", recipient="+33612345678")

        assert message_deliver(message_id=message.pk) == "failed"

    message.refresh_from_db()
    assert message.status == "failed"
    assert message.last_error.startswith("SMS gateway refused (400)")
    assert len(gateway.requests) == 1


def test_retry_delays_grow_exponentially_with_jitter(settings):
    settings.NOTIFY_RETRY_BASE_DELAY = 10
    settings.NOTIFY_RETRY_MAX_DELAY = 60
    delays = {
        attempt: [retry_delay(attempt=attempt) for _ in range(200)] for attempt in (1, 2, 3, 5)
    }
    assert min(delays[1]) >= 5 and max(delays[1]) <= 10
    assert min(delays[2]) >= 10 and max(delays[2]) <= 20
    assert min(delays[3]) >= 20 and max(delays[3]) <= 40
    assert min(delays[5]) >= 30 and max(delays[5]) <= 60  # capped
    assert len(set(delays[1])) > 100  # jittered


def test_push_is_encrypted_and_sent_with_vapid(settings, customer):
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = vapid_keys()
    settings.PUSH_ENDPOINT_CHECKS = False  # the fake push service is plain http on loopback
    with push_service(status=201) as service:
        subscription = with_push(customer, endpoint=f"{service.base_url}/push/abc")
        message = record(
            channel="push",
            recipient=subscription.endpoint,
            url="/accounts/orders/",
            push_subscription_id=subscription.pk,
        )

        assert message_deliver(message_id=message.pk) == "sent"

    (received,) = service.received
    assert received["path"] == "/push/abc"
    assert received["headers"]["content-encoding"] == "aes128gcm"
    assert received["headers"]["authorization"].startswith("vapid t=")
    assert b"Hello" not in received["body"]  # encrypted for the browser only
    subscription.refresh_from_db()
    assert subscription.last_success_at is not None


@pytest.mark.parametrize("status", [404, 410])
def test_push_to_an_expired_subscription_deletes_it(settings, customer, status):
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = vapid_keys()
    settings.PUSH_ENDPOINT_CHECKS = False  # the fake push service is plain http on loopback
    with push_service(status=status) as service:
        subscription = with_push(customer, endpoint=f"{service.base_url}/push/gone")
        message = record(
            channel="push", recipient=subscription.endpoint, push_subscription_id=subscription.pk
        )

        assert message_deliver(message_id=message.pk) == "failed"

    assert not customer.push_subscriptions.exists()
    message.refresh_from_db()
    assert message.status == "failed"
    assert f"push service answered {status}" in message.last_error


def test_marketing_needs_a_current_recorded_consent(customer):
    # No record: no consent
    assert marketing_consent_granted(user=customer, channel="email") is False

    consent_record(user=customer, channel="email", granted=True, source="account-preferences")
    assert marketing_consent_granted(user=customer, channel="email") is True
    assert marketing_consent_granted(user=customer, channel="sms") is False

    consent_record(user=customer, channel="email", granted=False, source="unsubscribe-link")
    assert marketing_consent_granted(user=customer, channel="email") is False

    # The history is kept, with how and under which policy each choice was made
    history = list(
        customer.consent_records.order_by("id").values_list("action", "source", "policy_version")
    )
    assert history == [
        ("granted", "account-preferences", "2026-01"),
        ("withdrawn", "unsubscribe-link", "2026-01"),
    ]


def test_consent_records_are_append_only(customer):
    record_ = consent_record(user=customer, channel="sms", granted=True, source="test")
    with pytest.raises(TypeError):
        record_.save()
    with pytest.raises(TypeError):
        record_.delete()
    with pytest.raises(TypeError):
        ConsentRecord.objects.filter(user=customer).update(action="withdrawn")
    with pytest.raises(TypeError):
        ConsentRecord.objects.filter(user=customer).delete()

    # Saving the same choices again appends nothing
    assert consents_update(user=customer, wanted={"sms": True, "email": False}, source="x") == []
    assert ConsentRecord.objects.count() == 1


def test_marketing_message_is_cancelled_when_consent_was_withdrawn_before_sending(customer):
    consent_record(user=customer, channel="email", granted=True, source="test")
    (message,) = messages_record(
        drafts=[
            Draft(
                channel="email",
                recipient=customer.email,
                subject="Sale",
                body="-20%",
                user_id=customer.pk,
            )
        ],
        purpose="marketing",
    )
    consent_record(user=customer, channel="email", granted=False, source="unsubscribe-link")

    assert message_deliver(message_id=message.pk) == "cancelled"

    message.refresh_from_db()
    assert message.status == "cancelled"
    assert mail.outbox == []
    assert message.attempt_log.get().outcome == DeliveryAttempt.Outcome.CANCELLED


def test_sweeper_finds_what_the_broker_missed_and_closes_lost_last_attempts(settings):
    settings.NOTIFY_SWEEP_DELAY = 20
    settings.NOTIFY_SENDING_LEASE = 60
    now = timezone.now()
    fresh = record()
    overdue = record()
    lost_midway = record()
    lost_last = record()
    OutboxMessage.objects.filter(pk=overdue.pk).update(next_attempt_at=now - timedelta(seconds=30))
    OutboxMessage.objects.filter(pk=lost_midway.pk).update(
        status="sending",
        claim_token="00000000-0000-0000-0000-000000000001",
        claimed_at=now - timedelta(seconds=61),
        attempts=1,
    )
    OutboxMessage.objects.filter(pk=lost_last.pk).update(
        status="sending",
        claim_token="00000000-0000-0000-0000-000000000002",
        claimed_at=now - timedelta(seconds=61),
        attempts=lost_last.max_attempts,
    )

    result = outbox_sweep()

    assert result["found"] == 2  # overdue and lost_midway, not fresh
    assert result["lost"] == 1
    fresh.refresh_from_db()
    lost_last.refresh_from_db()
    assert fresh.status == "pending"
    assert (lost_last.status, lost_last.last_error) == (
        "failed",
        "the worker stopped during the last attempt",
    )


def test_publishing_with_redis_unreachable_neither_raises_nor_waits(
    django_capture_on_commit_callbacks,
):
    # Given the broker is a closed port (Redis down)
    closed = f"redis://127.0.0.1:{free_port()}/0"
    with app_broker(closed):
        # When two messages are recorded and their transaction commits
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            first = record()
        first_publish = time.monotonic() - started
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            second = record()
        second_publish = time.monotonic() - started

    # Then no error reached the caller, the first publish gave up fast, the next one
    # did not even try (the sweeper will publish both), and both are still pending
    assert first_publish < 3.0
    assert second_publish < 0.1
    assert OutboxMessage.objects.filter(pk__in=[first.pk, second.pk], status="pending").count() == 2
    print(
        json.dumps(
            {
                "first_publish_s": round(first_publish, 3),
                "second_publish_s": round(second_publish, 3),
            }
        )
    )


def test_file_sms_backend_writes_one_json_line_per_sms(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path / "sms.jsonl"
    message = record(channel="sms", recipient="+33612345678")

    assert message_deliver(message_id=message.pk) == "sent"

    (line,) = settings.SMS_FILE_PATH.read_text().splitlines()
    sms = json.loads(line)
    assert (sms["to"], sms["text"], sms["reference"]) == (
        "+33612345678",
        "Body",
        f"outbox-{message.pk}",
    )
