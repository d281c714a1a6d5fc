"""R46: what messages said is erased after NOTIFY_BODY_RETENTION_DAYS, secrets once sent."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model

from shop.communication.models import OutboxMessage
from shop.communication.outbox import Draft, messages_record
from shop.communication.tasks import prune_message_bodies
from tests.shop.communication.services import wait_for

Email = get_model("communication", "Email")
User = get_user_model()


def message(*, status: str, age_days: float, has_secret: bool = False) -> OutboxMessage:
    (row,) = messages_record(
        drafts=[
            Draft(
                channel="email",
                recipient="lea@example.com",
                subject=f"{status} {age_days}",
                body="Your order 100042 is on its way to 3 rue du Dôme",
                html="<p>Your order</p>",
            )
        ],
        event_code="ORDER_SHIPPED",
        has_secret=has_secret,
    )
    created = timezone.now() - timedelta(days=age_days)
    fields = {"status": status, "created_at": created}
    if status == "sent":
        fields["sent_at"] = created
    OutboxMessage.objects.filter(pk=row.pk).update(**fields)
    return row


def content(row: OutboxMessage) -> tuple[str, str, str]:
    row.refresh_from_db()
    return row.subject, row.body, row.html


@pytest.mark.django_db
def test_r46_bodies_older_than_the_retention_are_erased_daily(settings):
    settings.NOTIFY_BODY_RETENTION_DAYS = 30
    user = User.objects.create_user("lea@example.com", "lea@example.com", "pw")
    # Given finished messages either side of 30 days, and one still being delivered
    old_sent = message(status="sent", age_days=31)
    old_dead = message(status="failed", age_days=45)
    old_cancelled = message(status="cancelled", age_days=31)
    recent_sent = message(status="sent", age_days=29)
    old_pending = message(status="pending", age_days=31)
    # and Oscar's stored email copies of both ages
    old_email = Email.objects.create(user=user, email=user.email, subject="Old", body_text="x")
    Email.objects.filter(pk=old_email.pk).update(date_sent=timezone.now() - timedelta(days=31))
    Email.objects.create(user=user, email=user.email, subject="Recent", body_text="y")

    # When the daily task runs
    result = prune_message_bodies()

    # Then old finished messages keep who, when and how, not what; the rest is untouched
    assert result == {"messages": 3, "emails": 1}
    for row in (old_sent, old_dead, old_cancelled):
        assert content(row) == ("", "", "")
        assert (row.recipient, row.event_code) == ("lea@example.com", "ORDER_SHIPPED")
    assert content(recent_sent)[1] == "Your order 100042 is on its way to 3 rue du Dôme"
    assert content(old_pending)[1] == "Your order 100042 is on its way to 3 rue du Dôme"
    assert list(Email.objects.values_list("subject", flat=True)) == ["Recent"]

    # and running it again changes nothing
    assert prune_message_bodies() == {"messages": 0, "emails": 0}


@pytest.mark.django_db
def test_r46_the_retention_task_erases_any_finished_secret_left_with_content():
    secret = message(status="sent", age_days=0, has_secret=True)  # e.g. written before the fix
    ordinary = message(status="sent", age_days=0)

    assert prune_message_bodies() == {"messages": 1, "emails": 0}

    assert content(secret) == ("", "", "")
    assert content(ordinary)[1] != ""


@pytest.mark.django_db
def test_r46_the_retention_task_erases_the_unsubscribe_headers_of_old_marketing_emails():
    # Given a marketing email 31 days old whose List-Unsubscribe carries the member's token,
    # a recent one, and an old secret one (erased when its delivery ended, headers left)
    headers = {
        "List-Unsubscribe": "<https://shop.example/loyalty/u/12.345.e~abc~sig/>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    rows = {}
    for name, age_days, has_secret in (
        ("old", 31, False),
        ("recent", 29, False),
        ("secret", 0, True),
    ):
        (rows[name],) = messages_record(
            drafts=[
                Draft(
                    channel="email",
                    recipient="lea@example.com",
                    subject="We miss you",
                    body="50 bonus points",
                    headers=headers,
                )
            ],
            event_code="CAMPAIGN",
            has_secret=has_secret,
        )
        written = timezone.now() - timedelta(days=age_days)
        OutboxMessage.objects.filter(pk=rows[name].pk).update(
            status="sent", created_at=written, sent_at=written
        )
    OutboxMessage.objects.filter(pk=rows["secret"].pk).update(subject="", body="")

    # When the daily task runs
    result = prune_message_bodies()

    # Then the old message and the secret one keep no header, the recent one keeps its own
    assert result == {"messages": 2, "emails": 0}
    stored = dict(OutboxMessage.objects.values_list("pk", "headers"))
    assert stored == {rows["old"].pk: {}, rows["recent"].pk: headers, rows["secret"].pk: {}}
    # and nothing is left to erase on the next run
    assert prune_message_bodies() == {"messages": 0, "emails": 0}


def test_r46_the_retention_task_is_scheduled_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["communication-prune-message-bodies"]
    assert entry["task"] == prune_message_bodies.name
    assert entry["schedule"] == 86400.0
    assert settings.NOTIFY_BODY_RETENTION_DAYS == 30


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_r46_a_real_worker_sends_a_reset_then_erases_it(celery_worker_process):
    # Given a customer who asks for a password reset through the shop
    User.objects.create_user("lea@example.com", "lea@example.com", "pw")
    response = Client().post(reverse("password-reset"), {"email": "lea@example.com"})
    assert response.status_code == 302
    reset = OutboxMessage.objects.get(event_code="PASSWORD_RESET")
    assert "/password-reset/confirm/" in reset.body

    # When the worker delivers it (published when the request's transaction committed)
    wait_for(
        lambda: OutboxMessage.objects.filter(pk=reset.pk, status="sent").exists(),
        timeout=30,
        message="the reset email to be sent by the worker",
    )

    # Then nothing of what it said is left, nor any copy in the email history
    reset.refresh_from_db()
    assert (reset.subject, reset.body, reset.html, reset.url) == ("", "", "", "")
    assert reset.has_secret is True
    assert reset.attempt_log.get().outcome == "sent"
    assert not Email.objects.exists()
    assert celery_worker_process.poll() is None
