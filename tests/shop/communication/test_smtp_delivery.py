"""R26 for email: at most once over plain SMTP, against a real SMTP server on 127.0.0.1.

An SMTP server cannot recognise a message it already has, so the outbox never sends an
email again by itself once its content went out (the DATA phase): a reply lost after that
leaves the message "unknown" for staff to decide (README "Delivery guarantees per
channel"). Refusals before DATA (at connect, at RCPT) are retried as before. The server is
tests/shop/communication/services.py's `smtp_server`, speaking SMTP over a socket; the
shop's side is the real backend (shop/communication/smtp.py) and the real outbox.
"""

import os
import signal
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from shop.communication.models import DeliveryAttempt, OutboxMessage
from shop.communication.outbox import (
    UNKNOWN_AFTER_WORKER_STOPPED,
    Draft,
    message_deliver,
    message_retry,
    messages_record,
    outbox_sweep,
)
from tests.celery_worker import free_port
from tests.shop.communication.services import (
    RedisServer,
    Worker,
    app_broker,
    smtp_server,
    wait_for,
)


@pytest.fixture
def smtp(settings):
    """The shop's SMTP backend pointed at a local SMTP server, with a 1 s EMAIL_TIMEOUT."""
    with smtp_server() as server:
        settings.EMAIL_BACKEND = "shop.communication.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT = 1
        yield server


def pending_email(**fields) -> OutboxMessage:
    """A pending order confirmation written directly (no task published for it)."""
    return OutboxMessage.objects.create(
        channel="email",
        recipient="lea@example.com",
        event_code="ORDER_PLACED",
        subject="Your order 100042",
        body="Thank you for your order.",
        max_attempts=4,
        next_attempt_at=timezone.now(),
        **fields,
    )


def attempts_of(message: OutboxMessage) -> list[tuple]:
    return [
        (attempt.number, attempt.outcome, attempt.handed_over_at is not None)
        for attempt in message.attempt_log.order_by("number")
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_r26_smtp_reply_after_email_timeout_is_delivered_once_and_marked_unknown(smtp, settings):
    # Given an SMTP server that answers the end of DATA after 3 s (EMAIL_TIMEOUT is 1 s),
    # and that looks, when the DATA command arrives, at what the shop has committed
    smtp.plans = [{"data_delay": 3}]
    message = pending_email()
    committed_at_data = []

    def look_at_the_database() -> None:
        try:
            committed_at_data.extend(
                DeliveryAttempt.objects.filter(message=message).values_list(
                    "handed_over_at", flat=True
                )
            )
        finally:
            connection.close()  # this is the server's thread

    smtp.on_data = look_at_the_database

    # When the worker sends it
    started = time.monotonic()
    outcome = message_deliver(message_id=message.pk)
    elapsed = time.monotonic() - started

    # Then it gave up on the reply after EMAIL_TIMEOUT and says "unknown", not "retry"
    assert outcome == "unknown"
    assert elapsed < 2.5
    message.refresh_from_db()
    assert (message.status, message.attempts, message.claim_token) == ("unknown", 1, None)
    assert message.last_error.startswith(
        "no answer after the content was handed to the mail server: SMTPServerDisconnected"
    )
    attempt = message.attempt_log.get()
    assert (attempt.outcome, attempt.finished_at is not None) == ("unknown", True)
    # The mark was committed before the server was asked to take the content
    assert committed_at_data == [attempt.handed_over_at]
    assert attempt.handed_over_at is not None
    # The server has the message, with the message's stable Message-ID, once
    assert smtp.message_ids() == [message.pk]

    # When the sweeper runs after the lease has long expired, and the task runs again
    settings.NOTIFY_SENDING_LEASE = 0
    settings.NOTIFY_SWEEP_DELAY = 0
    with app_broker(f"redis://127.0.0.1:{free_port()}/0"):  # nothing may be published
        swept = outbox_sweep()
    again = message_deliver(message_id=message.pk)
    time.sleep(2.5)  # the server's late reply has gone out

    # Then nothing was sent again
    assert swept == {"found": 0, "published": 0, "lost": 0, "unknown": 0}
    assert again == "skipped"
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("unknown", 1)
    assert smtp.connections == 1
    assert smtp.message_ids() == [message.pk]


@pytest.mark.django_db
def test_r26_smtp_refusals_before_data_are_retried_and_delivered_once(smtp):
    # Given a server that first greets with 421 (busy), then answers RCPT with 451
    smtp.plans = [{"greeting": 421}, {"rcpt": 451}]
    message = pending_email()

    # When the outbox tries, and tries again each time the message is due
    outcomes = []
    for _ in range(3):
        outcomes.append(message_deliver(message_id=message.pk))
        OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())

    # Then both refusals were retried (nothing had been handed over) and the third
    # attempt delivered it, once
    assert outcomes == ["retry", "retry", "sent"]
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 3)
    assert message.provider_reference == f"<outbox-{message.pk}@localhost>"
    assert attempts_of(message) == [
        (1, "transient", False),
        (2, "transient", False),
        (3, "sent", True),
    ]
    errors = list(message.attempt_log.order_by("number").values_list("error", flat=True))
    assert errors[0].startswith("SMTP 421:")
    assert errors[1].startswith("recipient refused: {'lea@example.com': (451,")
    assert smtp.connections == 3
    assert smtp.message_ids() == [message.pk]


@pytest.mark.django_db
def test_r26_smtp_server_unreachable_is_retried(settings):
    # Given no SMTP server listening at all (connection refused)
    settings.EMAIL_BACKEND = "shop.communication.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    message = pending_email()

    assert message_deliver(message_id=message.pk) == "retry"

    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error.startswith("ConnectionRefusedError")
    assert attempts_of(message) == [(1, "transient", False)]


@pytest.mark.django_db
def test_r26_smtp_4xx_at_the_end_of_data_is_the_servers_word_and_is_retried(smtp):
    # Given a server that answers the end of DATA with 451: it did not take the message
    smtp.plans = [{"data_reply": 451}]
    message = pending_email()

    assert message_deliver(message_id=message.pk) == "retry"
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert message_deliver(message_id=message.pk) == "sent"

    message.refresh_from_db()
    assert attempts_of(message) == [(1, "transient", True), (2, "sent", True)]
    assert len(smtp.received) == 2
    assert smtp.message_ids() == [message.pk]


@pytest.mark.django_db
def test_r26_staff_may_send_again_a_message_whose_delivery_is_unknown(smtp):
    smtp.plans = [{"data_delay": 2}]
    message = pending_email()
    assert message_deliver(message_id=message.pk) == "unknown"
    message.refresh_from_db()
    assert message.can_retry is True

    # A human decided it did not arrive: it goes again, with the same Message-ID
    assert message_retry(message_id=message.pk) is True
    assert message_deliver(message_id=message.pk) == "sent"

    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)
    assert smtp.message_ids() == [message.pk, message.pk]


@pytest.mark.django_db
def test_r26_a_secret_message_whose_delivery_is_unknown_is_erased_and_never_sent_again(smtp):
    smtp.plans = [{"data_delay": 2}]
    message = pending_email(has_secret=True)

    assert message_deliver(message_id=message.pk) == "unknown"

    message.refresh_from_db()
    assert (message.status, message.body, message.subject) == ("unknown", "", "")
    assert message.can_retry is False
    assert message_retry(message_id=message.pk) is False


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("notification-workers")
def test_r26_worker_killed_while_the_smtp_server_holds_the_data_reply_sends_once(tmp_path):
    # Given a worker whose unacknowledged tasks come back 4 s after it dies, a 3 s sending
    # lease, and an SMTP server that takes the content and then holds its reply
    redis = RedisServer()
    redis.start()
    broker_url = redis.url(1)
    try:
        with smtp_server() as smtp:
            smtp.plans = [{"data_hold": True}]
            env = {
                "NOTIFY_TEST_SMTP_PORT": str(smtp.port),
                "EMAIL_TIMEOUT": "30",
                "CELERY_VISIBILITY_TIMEOUT": "4",
                "NOTIFY_RETRY_BASE_DELAY": "0.2",
                "NOTIFY_RETRY_MAX_DELAY": "1",
                "NOTIFY_SENDING_LEASE": "3",
                "NOTIFY_SWEEP_INTERVAL": "1",
                "NOTIFY_SWEEP_DELAY": "1",
            }
            first = Worker(broker_url=broker_url, env=env)
            try:
                with app_broker(broker_url), transaction.atomic():
                    (message,) = messages_record(
                        drafts=[
                            Draft(
                                channel="email",
                                recipient="lea@example.com",
                                subject="Your order 100043",
                                body="Thank you for your order.",
                            )
                        ],
                        event_code="ORDER_PLACED",
                    )

                # When the worker is killed (SIGKILL) while the server holds the reply
                assert smtp.arrived.wait(30), "the worker never sent the content"
                attempt = DeliveryAttempt.objects.get(message=message)
                assert attempt.handed_over_at is not None
                os.kill(first.proc.pid, signal.SIGKILL)
                first.proc.wait(timeout=10)
                killed_at = time.monotonic()
            finally:
                first.stop()
            smtp.release.set()  # the server answers 250 to nobody: it delivers the message
            message.refresh_from_db()
            assert (message.status, message.attempts) == ("sending", 1)

            # Then, once the lease expired, the redelivered task and the sweeper (beat in
            # the next worker) do not send it again: the message says "unknown"
            time.sleep(max(0.0, 4.5 - (time.monotonic() - killed_at)))
            second = Worker(broker_url=broker_url, env=env, beat_dir=tmp_path)
            try:
                wait_for(
                    lambda: OutboxMessage.objects.get(pk=message.pk).status == "unknown",
                    timeout=40,
                    message="the sweeper closing the message as unknown",
                )
                time.sleep(3)  # more sweeps, and the redelivered task if not yet run
            finally:
                second.stop()
            assert message_deliver(message_id=message.pk) == "skipped"

            message.refresh_from_db()
            assert (message.status, message.attempts, message.claim_token) == ("unknown", 1, None)
            assert message.last_error == UNKNOWN_AFTER_WORKER_STOPPED
            attempt.refresh_from_db()
            assert (attempt.outcome, attempt.finished_at) == ("unknown", None)
            assert smtp.connections == 1
            assert smtp.message_ids() == [message.pk]
    finally:
        redis.stop()


@pytest.mark.django_db
def test_r26_a_sender_that_died_before_data_is_taken_over_one_that_died_after_is_not(settings):
    # Given two messages whose senders stopped answering after their lease, one before
    # handing the content over and one after
    settings.NOTIFY_SENDING_LEASE = 60
    long_ago = timezone.now() - timedelta(seconds=61)
    before, after = pending_email(), pending_email()
    for message, handed_over_at in ((before, None), (after, long_ago)):
        token = uuid.uuid4()
        OutboxMessage.objects.filter(pk=message.pk).update(
            status="sending", claim_token=token, claimed_at=long_ago, attempts=1
        )
        DeliveryAttempt.objects.create(
            message=message,
            number=1,
            claim_token=token,
            started_at=long_ago,
            handed_over_at=handed_over_at,
        )

    # Then the first is sent again (locmem backend), the second is not even claimed
    assert message_deliver(message_id=before.pk) == "sent"
    assert message_deliver(message_id=after.pk) == "skipped"
    # and the sweeper closes the second as unknown
    with app_broker(f"redis://127.0.0.1:{free_port()}/0"):
        assert outbox_sweep()["unknown"] == 1
    after.refresh_from_db()
    assert (after.status, after.last_error) == ("unknown", UNKNOWN_AFTER_WORKER_STOPPED)
