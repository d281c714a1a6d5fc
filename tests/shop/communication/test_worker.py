"""R24, R26, R27 end to end: real Celery workers, a real Redis we can stop, PostgreSQL.

Each test owns its broker (a redis-server started here on a free port), so it can stop
Redis or kill a worker without disturbing anybody else's. Providers are HTTP servers and
files on this machine: the worker writes emails with Django's file backend and posts SMS
to a local JSON gateway.
"""

import os
import re
import signal
import statistics
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from oscar.core.loading import get_class, get_model
from oscar.test.factories import UserFactory

from shop.communication.models import OutboxMessage
from tests.conftest import IN_CI, _service_missing
from tests.factories import ADDRESS, product, shipping_country
from tests.shop.communication.conftest import with_sms
from tests.shop.communication.services import (
    RedisServer,
    Worker,
    app_broker,
    sms_gateway,
    wait_for,
)

Dispatcher = get_class("communication.utils", "Dispatcher")
Order = get_model("order", "Order")

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("notification-workers"),
]

FAST_RETRIES = {
    "NOTIFY_RETRY_BASE_DELAY": "0.2",
    "NOTIFY_RETRY_MAX_DELAY": "1",
    "NOTIFY_SWEEP_INTERVAL": "1",
    "NOTIFY_SWEEP_DELAY": "1",
    "SMS_BACKEND": "http",
}


class Stack:
    """A redis-server, an SMS gateway and a worker running beat (the outbox sweeper)."""

    def __init__(self, tmp: Path, gateway) -> None:
        self.redis = RedisServer()
        self.redis.start()
        self.broker_url = self.redis.url(1)
        self.gateway = gateway
        self.email_dir = tmp / "emails"
        self.email_dir.mkdir()
        try:
            self.worker = Worker(
                broker_url=self.broker_url,
                env={
                    **FAST_RETRIES,
                    "SMS_GATEWAY_URL": gateway.url,
                    "NOTIFY_TEST_EMAIL_DIR": str(self.email_dir),
                },
                beat_dir=tmp,
            )
        except BaseException:
            self.redis.stop()
            raise

    def stop(self) -> None:
        self.worker.stop()
        self.redis.stop()


def _services_or_skip() -> None:
    for marker in ("postgres", "redis"):
        reason = _service_missing(marker)
        if reason and IN_CI:
            pytest.fail(f"CI=true but this test {reason}")
        if reason:
            pytest.skip(reason)


@pytest.fixture(scope="module")
def stack(django_db_setup, tmp_path_factory):
    _services_or_skip()
    with sms_gateway() as gateway:
        running = Stack(tmp_path_factory.mktemp("notify"), gateway)
        try:
            yield running
        finally:
            running.stop()


def emails_sent(directory: Path) -> Counter:
    """How many times each outbox message reached the mail backend, from the files it wrote."""
    ids = Counter()
    for path in directory.glob("*.log"):
        ids.update(
            int(pk) for pk in re.findall(r"^Message-ID: <outbox-(\d+)@", path.read_text(), re.M)
        )
    return ids


def place_guest_order(item, email: str) -> float:
    """Check out one item as a guest through the storefront; returns the seconds it took."""
    client = Client()
    started = time.monotonic()
    client.post(reverse("basket:add", kwargs={"pk": item.pk}), {"quantity": 1})
    client.post(reverse("checkout:index"), {"username": email, "options": "anonymous"})
    client.post(
        reverse("checkout:shipping-address"),
        ADDRESS,
        follow=True,  # through the shipping method step, as a browser would
    )
    response = client.post(reverse("checkout:preview"), {"action": "place_order"})
    elapsed = time.monotonic() - started
    assert response.status_code == 302, response.content[:500]
    assert response["Location"] == reverse("checkout:thank-you")
    return elapsed


def test_r24_orders_placed_while_redis_is_down_are_confirmed_once_it_is_back(stack, settings):
    # Paid by the local test method: the order is confirmed when placed, as with a card
    # once Stripe says it succeeded (tests/shop/payment cover that path).
    settings.PAYMENT_TEST_METHOD = True
    shipping_country("FR")
    beans = product("Ethiopian beans", price="12.50", stock=1000)
    with app_broker(stack.broker_url):
        # Given orders confirmed normally while Redis is up
        normal = [place_guest_order(beans, f"up{i}@example.com") for i in range(10)]
        wait_for(
            lambda: OutboxMessage.objects.filter(status="sent").count() == 10,
            timeout=30,
            message="confirmations with Redis up",
        )

        # When Redis stops and 50 more orders are placed
        stack.redis.stop()
        try:
            down = [place_guest_order(beans, f"down{i}@example.com") for i in range(50)]

            # Then every order went through, no slower than normal (the first one paid one
            # failed publish, well under R25's 3 s), its confirmation pending
            assert Order.objects.count() == 60
            assert OutboxMessage.objects.filter(status="pending").count() == 50
            assert max(down) < 3.0
            assert statistics.median(down) <= statistics.median(normal) * 1.5 + 0.1

            # When Redis comes back, the sweeper publishes them and the worker sends all 50
            # within 2 minutes, each exactly once
            back = time.monotonic()
            stack.redis.start()
            wait_for(
                lambda: OutboxMessage.objects.filter(status="sent").count() == 60,
                timeout=120,
                interval=0.5,
                message="confirmations after Redis came back",
            )
        finally:
            # A failed assertion above must not leave the next tests without their broker.
            if stack.redis.proc is None or stack.redis.proc.poll() is not None:
                stack.redis.start()
    recovered_in = time.monotonic() - back
    assert recovered_in < 120
    sent = emails_sent(stack.email_dir)
    expected = set(OutboxMessage.objects.values_list("pk", flat=True))
    assert set(sent) == expected
    assert set(sent.values()) == {1}
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}
    print(
        f"R24: normal median {statistics.median(normal):.3f}s, outage median "
        f"{statistics.median(down):.3f}s max {max(down):.3f}s, recovered in {recovered_in:.1f}s"
    )


def dispatch_sms(user) -> OutboxMessage:
    with transaction.atomic():
        dispatched = Dispatcher().dispatch_user_messages(
            user,
            {
                "subject": "Your order is ready",
                "body": "",
                "html": "",
                "sms": "Ready at Kléber",
                "event_code": "ORDER_READY",
            },
        )
    return dispatched["sms"]


def test_r27_provider_failing_three_times_delivers_once_on_the_fourth_attempt(stack, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 5
    phone = "+33600000027"
    stack.gateway.script[phone] = [503, 503, 503]
    user = with_sms(UserFactory(email=""), phone)

    with app_broker(stack.broker_url):
        message = dispatch_sms(user)
        wait_for(
            lambda: OutboxMessage.objects.get(pk=message.pk).status in ("sent", "failed"),
            timeout=30,
            message="delivery after retries",
        )

    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 4)
    assert [a.outcome for a in message.attempt_log.all()] == ["transient"] * 3 + ["sent"]
    assert stack.gateway.sent[phone] == ["Ready at Kléber"]
    assert [r["to"] for r in stack.gateway.requests].count(phone) == 4


def test_r27_provider_always_failing_makes_a_dead_letter_and_sends_no_more(stack, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 4
    phone = "+33600000028"
    stack.gateway.script[phone] = [503] * 100
    user = with_sms(UserFactory(email=""), phone)

    with app_broker(stack.broker_url):
        message = dispatch_sms(user)
        wait_for(
            lambda: OutboxMessage.objects.get(pk=message.pk).status == "failed",
            timeout=30,
            message="dead letter",
        )
        # The sweeper runs every second: nothing more goes to the provider
        time.sleep(3)

    message.refresh_from_db()
    assert message.attempts == 4
    assert message.last_error.startswith("gave up after 4 attempts: SMS gateway answered 503")
    assert [r["to"] for r in stack.gateway.requests].count(phone) == 4
    assert phone not in stack.gateway.sent


def test_r26_worker_killed_while_sending_delivers_exactly_once_after_redelivery(stack, tmp_path):
    # Given a worker whose unacknowledged tasks come back 4 s after it dies, and an SMS
    # gateway that takes the SMS and then hangs
    broker_url = stack.redis.url(2)
    env = {
        **FAST_RETRIES,
        "SMS_GATEWAY_URL": stack.gateway.url,
        "SMS_GATEWAY_TIMEOUT": "30",
        "CELERY_VISIBILITY_TIMEOUT": "4",
        "NOTIFY_SENDING_LEASE": "3",
    }
    phone = "+33600000026"
    stack.gateway.block_numbers.add(phone)
    stack.gateway.arrived.clear()
    stack.gateway.release.clear()
    first = Worker(broker_url=broker_url, env=env)
    try:
        user = with_sms(UserFactory(email=""), phone)
        with app_broker(broker_url):
            message = dispatch_sms(user)

        # When the worker is killed (SIGKILL) in the middle of the request
        assert stack.gateway.arrived.wait(30), "the worker never called the gateway"
        os.kill(first.proc.pid, signal.SIGKILL)
        first.proc.wait(timeout=10)
        killed_at = time.monotonic()
    finally:
        first.stop()
    stack.gateway.block_numbers.discard(phone)
    stack.gateway.release.set()
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sending", 1)

    # Then Redis redelivers the unacknowledged task to the next worker, which takes the
    # message over once its lease expired and sends it again with the same idempotency key
    time.sleep(max(0.0, 4.5 - (time.monotonic() - killed_at)))
    second = Worker(broker_url=broker_url, env=env)
    try:
        wait_for(
            lambda: OutboxMessage.objects.get(pk=message.pk).status == "sent",
            timeout=40,
            message="redelivery after the worker was killed",
        )
    finally:
        second.stop()

    message.refresh_from_db()
    assert message.attempts == 2
    attempts = list(message.attempt_log.values_list("number", "outcome", "finished_at"))
    assert attempts[0][:2] == (1, "") and attempts[0][2] is None  # died mid-send
    assert attempts[1][:2] == (2, "sent")
    requests = [r for r in stack.gateway.requests if r["to"] == phone]
    assert [r["key"] for r in requests] == [f"outbox-{message.pk}"] * 2
    # The SMS reached the phone once
    assert stack.gateway.sent[phone] == ["Ready at Kléber"]
