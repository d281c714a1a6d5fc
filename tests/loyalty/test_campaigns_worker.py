"""R28 and R29 with real processes: a Celery worker killed half-way through a fan-out, and
the provider rate limit shared by two processes through Redis.

The worker runs on a redis-server of the test's own (tests/shop/communication/services.py)
and writes emails to files, where the test reads what was really sent.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from django.db import transaction
from django.utils import timezone
from oscar.core.loading import get_class

from loyalty.models import Campaign, CampaignRecipient, CampaignSend, Member
from loyalty.services.campaigns import (
    campaign_audience_resolve,
    campaign_launch,
    campaign_send_batch,
)
from shop.communication import ratelimit
from shop.communication.models import OutboxMessage
from tests.conftest import IN_CI, _service_missing
from tests.loyalty.campaign_helpers import campaign_for, consenting_member, sending
from tests.shop.communication.services import RedisServer, Worker, app_broker, wait_for

Dispatcher = get_class("communication.utils", "Dispatcher")

MEMBERS = 90

ROOT = Path(__file__).resolve().parent.parent.parent


def _services_or_skip() -> None:
    for marker in ("postgres", "redis"):
        reason = _service_missing(marker)
        if reason and IN_CI:
            pytest.fail(f"CI=true but this test {reason}")
        if reason:
            pytest.skip(reason)


def _emails_by_outbox_id(directory: Path) -> Counter:
    ids: Counter = Counter()
    for path in directory.glob("*.log"):
        ids.update(
            int(pk) for pk in re.findall(r"^Message-ID: <outbox-(\d+)@", path.read_text(), re.M)
        )
    return ids


WORKER_ENV = {
    "LOYALTY_CAMPAIGN_BATCH_SIZE": "3",
    "LOYALTY_CAMPAIGN_STALL_AFTER": "2",
    "LOYALTY_CAMPAIGN_SWEEP_EVERY": "1",
    "CELERY_VISIBILITY_TIMEOUT": "4",
    "NOTIFY_SENDING_LEASE": "3",
    "NOTIFY_RETRY_BASE_DELAY": "0.2",
    "NOTIFY_RETRY_MAX_DELAY": "1",
    "NOTIFY_SWEEP_INTERVAL": "1",
    "NOTIFY_SWEEP_DELAY": "1",
    "MARKETING_SEND_RATE": "0",
}


def _launch_kill_and_finish(
    *, campaign, sends, recipients, emails: Path, beat_dir: Path, final_status: str
):
    """Launch `campaign` on a worker, SIGKILL it once a third of `recipients` have their
    `sends`, then let a second worker (with beat) finish until each is delivered and the
    campaign is in `final_status`."""
    redis = RedisServer()
    redis.start()
    broker_url = redis.url(1)
    env = {**WORKER_ENV, "NOTIFY_TEST_EMAIL_DIR": str(emails)}
    try:
        # (no beat in the worker to be killed: beat runs in a child process SIGKILL leaves)
        first = Worker(broker_url=broker_url, env=env)
        try:
            with app_broker(broker_url), transaction.atomic():
                campaign_launch(campaign=campaign)

            # When the worker is killed (SIGKILL) once a third of the audience was sent to
            wait_for(
                lambda: sends.count() >= MEMBERS // 3,
                timeout=60,
                interval=0.02,
                message="a third of the fan-out",
            )
            os.kill(first.proc.pid, signal.SIGKILL)
            first.proc.wait(timeout=10)
        finally:
            first.stop()
        at_kill = sends.count()
        assert MEMBERS // 3 <= at_kill < recipients.count()

        # Then a new worker finishes the fan-out (the sweep restarts the stalled chain)
        second = Worker(broker_url=broker_url, env=env, beat_dir=beat_dir)
        try:
            wait_for(
                lambda: (
                    sends.count() == recipients.count()
                    and Campaign.objects.get(pk=campaign.pk).status == final_status
                ),
                timeout=90,
                message="the fan-out to finish",
            )
            outbox = OutboxMessage.objects.filter(
                pk__in=sends.values("outbox_message"), status="sent"
            )
            wait_for(
                lambda: outbox.count() == recipients.count(),
                timeout=90,
                message="every message delivered",
            )
        finally:
            second.stop()
    finally:
        redis.stop()


def _delivered_once(emails: Path, messages) -> None:
    """Every message reached the mailbox; only one caught mid-delivery by the kill (claimed,
    so tried twice) may have been written twice by the mail backend (README "Notifications")."""
    delivered = _emails_by_outbox_id(emails)
    assert set(delivered) == set(messages.values_list("pk", flat=True))
    twice = [pk for pk, count in delivered.items() if count > 1]
    assert len(twice) <= 1
    assert all(OutboxMessage.objects.get(pk=pk).attempts == 2 for pk in twice)


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("notification-workers")
def test_r28_worker_killed_half_way_through_a_fan_out_loses_and_duplicates_nothing(tmp_path):
    _services_or_skip()
    # Given 90 consenting members, a campaign to all of them with a 10 % control group, and
    # a worker (with beat) sending batches of 3
    members = [consenting_member() for _ in range(MEMBERS)]
    campaign = campaign_for(control_percent=10, reward_kind="points", reward_points=10)
    emails = tmp_path / "emails"
    emails.mkdir()
    sends = CampaignSend.objects.filter(campaign=campaign)
    recipients = CampaignRecipient.objects.filter(campaign=campaign, is_control=False)

    _launch_kill_and_finish(
        campaign=campaign,
        sends=sends,
        recipients=recipients,
        emails=emails,
        beat_dir=tmp_path,
        final_status="finished",
    )

    # 0 missing, 0 duplicates: one send row and one outbox message per member out of the
    # control group, none for the control group, points once each
    expected = set(recipients.values_list("member_id", flat=True))
    assert 0 < len(expected) < MEMBERS
    assert sorted(sends.values_list("member_id", flat=True)) == sorted(expected)
    messages = OutboxMessage.objects.filter(pk__in=sends.values("outbox_message"))
    by_user = Counter(messages.values_list("user_id", flat=True))
    member_users = {m.pk: m.user_id for m in members}
    assert by_user == Counter({member_users[pk]: 1 for pk in expected})
    assert OutboxMessage.objects.filter(purpose="marketing").count() == len(expected)
    for member in members:
        member.refresh_from_db()
        assert member.balance == (10 if member.pk in expected else 0)
    _delivered_once(emails, messages)


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("notification-workers")
def test_r28_a_birthday_campaign_killed_half_way_sends_this_years_occurrence_once(tmp_path):
    _services_or_skip()
    today = timezone.localdate()
    if (today.month, today.day) == (2, 29):
        pytest.skip("no birthday occurrence last year on 29 February")
    # Given 90 consenting members born on this day, a birthday campaign with bonus points
    # that reached each of them last year
    members = [consenting_member() for _ in range(MEMBERS)]
    Member.objects.update(birthday=today.replace(year=1990))
    campaign = sending(
        campaign_for(trigger="birthday", control_percent=10, reward_kind="points", reward_points=10)
    )
    last_year = timezone.now().replace(year=today.year - 1)
    campaign_audience_resolve(campaign=campaign, at=last_year)
    last = 0
    while last is not None:
        last = campaign_send_batch(campaign_id=campaign.pk, after_member_id=last, size=30)
    OutboxMessage.objects.update(status="sent", sent_at=last_year)
    Campaign.objects.filter(pk=campaign.pk).update(status="draft")
    campaign.refresh_from_db()
    emails = tmp_path / "emails"
    emails.mkdir()
    this_year = str(today.year)
    sends = CampaignSend.objects.filter(campaign=campaign, occurrence=this_year)
    recipients = CampaignRecipient.objects.filter(
        campaign=campaign, is_control=False, occurrence=this_year
    )

    # When it is launched today on a worker killed a third of the way through
    # (a triggered campaign keeps sending for the next days' birthdays)
    _launch_kill_and_finish(
        campaign=campaign,
        sends=sends,
        recipients=recipients,
        emails=emails,
        beat_dir=tmp_path,
        final_status="sending",
    )

    # Then each member out of the control group got this year's message and bonus once,
    # beside last year's
    expected = set(recipients.values_list("member_id", flat=True))
    assert 0 < len(expected) < MEMBERS
    assert Counter(
        CampaignSend.objects.filter(campaign=campaign).values_list("member_id", "occurrence")
    ) == Counter({(pk, year): 1 for pk in expected for year in (str(today.year - 1), this_year)})
    messages = OutboxMessage.objects.filter(pk__in=sends.values("outbox_message"))
    member_users = {m.pk: m.user_id for m in members}
    assert Counter(messages.values_list("user_id", flat=True)) == Counter(
        {member_users[pk]: 1 for pk in expected}
    )
    assert OutboxMessage.objects.filter(purpose="marketing").count() == 2 * len(expected)
    for member in members:
        member.refresh_from_db()
        assert member.balance == (20 if member.pk in expected else 0)
    _delivered_once(emails, messages)


# --- R29: the provider rate limit holds across processes -----------------------------------


@pytest.mark.redis
@pytest.mark.xdist_group("notification-workers")
def test_r29_the_token_bucket_holds_across_two_processes(settings):
    # Given a limit of 20 messages a second, bursts of 2, shared through Redis
    settings.MARKETING_SEND_RATE = 20
    settings.MARKETING_SEND_BURST = 2
    redis.Redis.from_url(settings.REDIS_URL).delete(ratelimit.BUCKET_KEY)
    ratelimit._script = None

    # When two processes each take 20 tokens as fast as they can, from the same moment
    env = {**os.environ, "MARKETING_SEND_RATE": "20", "MARKETING_SEND_BURST": "2"}
    started = time.time() + 8  # time for both interpreters to load Django
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.loyalty.token_taker", "20", str(started)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    stamps = []
    for process in processes:
        out, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        stamps.extend(json.loads(out))
    stamps.sort()

    # Then together they sent 40 in no less than (40 - burst) / rate seconds (each alone
    # would have taken half that: the bucket is one for both)
    assert len(stamps) == 40
    assert stamps[0] >= started
    assert stamps[-1] - started >= (40 - 2) / 20 - 0.05
    # and no second held more than rate + burst sends
    for index, stamp in enumerate(stamps):
        in_window = sum(1 for other in stamps[index:] if other - stamp < 1.0)
        assert in_window <= 20 + 2


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("notification-workers")
def test_r29_order_messages_never_wait_behind_a_sending_campaign(tmp_path, settings):
    _services_or_skip()
    # Given a campaign to 40 members whose provider takes 4 marketing messages a second
    # (10 s of deliveries), and the workers as docker-compose.yml runs them: one for the
    # default queue, one for campaign batches, one for marketing messages
    for _ in range(40):
        consenting_member()
    shopper = consenting_member().user
    campaign = campaign_for()
    emails = tmp_path / "emails"
    emails.mkdir()
    redis.Redis.from_url(settings.REDIS_URL).delete(ratelimit.BUCKET_KEY)
    env = {
        **WORKER_ENV,
        "NOTIFY_TEST_EMAIL_DIR": str(emails),
        "MARKETING_SEND_RATE": "4",
        "MARKETING_SEND_BURST": "1",
    }
    server = RedisServer()
    server.start()
    broker_url = server.url(1)
    workers = []
    try:
        for queues in ("celery", settings.CAMPAIGN_QUEUE, settings.MARKETING_QUEUE):
            workers.append(Worker(broker_url=broker_url, env=env, queues=queues))
        marketing = OutboxMessage.objects.filter(purpose="marketing")
        with app_broker(broker_url):
            with transaction.atomic():
                campaign_launch(campaign=campaign)
            wait_for(
                lambda: marketing.filter(status="sent").count() >= 4,
                timeout=60,
                message="the campaign's first deliveries",
            )

            # When five order confirmations are written while the campaign is sending
            confirmations = []
            for number in range(5):
                with transaction.atomic():
                    dispatched = Dispatcher().dispatch_user_messages(
                        shopper,
                        {
                            "subject": f"Order {number} confirmed",
                            "body": "Thank you",
                            "html": "",
                            "sms": "",
                            "event_code": "ORDER_PLACED",
                        },
                    )
                confirmations.append(dispatched["email"].pk)
                time.sleep(0.2)
            service = OutboxMessage.objects.filter(pk__in=confirmations)
            wait_for(
                lambda: service.filter(status="sent").count() == 5,
                timeout=30,
                message="the order confirmations",
            )
            # (the campaign was still being delivered when they were all sent)
            last_confirmation = max(service.values_list("sent_at", flat=True))
            assert marketing.exclude(sent_at__lte=last_confirmation).exists()
    finally:
        for worker in workers:
            worker.stop()
        server.stop()

    # Then each was sent within a second of its commit (R29: p95 <= 1 s, as when idle)
    waits = [
        (message.sent_at - message.created_at).total_seconds()
        for message in OutboxMessage.objects.filter(pk__in=confirmations)
    ]
    assert len(waits) == 5
    assert max(waits) < 1.0, waits


def test_without_redis_there_is_no_limit(settings):
    settings.REDIS_URL = ""
    assert ratelimit.marketing_send_token_take() == 0.0
    assert settings.MARKETING_QUEUE == "marketing"
