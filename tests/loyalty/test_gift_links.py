"""Gift links (loyalty/services/gift_links.py): R23."""

from datetime import datetime, timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from loyalty.models import (
    EntryKind,
    GiftLink,
    GiftLinkStatus,
    Member,
    MemberStats,
    PointsEntry,
    PointsLot,
)
from loyalty.selectors import earning_rule
from loyalty.services.errors import IdempotencyConflict, InsufficientPoints
from loyalty.services.gift_links import (
    gift_link_accept,
    gift_link_cancel,
    gift_link_create,
    gift_links_expire,
)
from loyalty.services.gifts import GiftRefused, OverGiftLimit, gift_allowance, gift_send
from loyalty.services.ledger import pending_add, points_credit
from loyalty.services.members import member_erase
from loyalty.tasks import expire_gift_links
from tests.concurrency import hold_row_locks, run_concurrently
from tests.loyalty.factories import funded_member, member_factory

NOON = timezone.make_aware(datetime(2026, 12, 15, 12, 0))


def _limits(**values):
    rule = earning_rule()
    for name, value in values.items():
        setattr(rule, name, value)
    rule.save()


def _outbox():
    return apps.get_model("communication", "OutboxMessage").objects


def _assert_ledger_balanced():
    """Every member: balance == sum of entries == sum of lots' remainders, never negative."""
    for member in Member.objects.all():
        entries = member.entries.aggregate(t=Sum("amount"))["t"] or 0
        lots = member.lots.aggregate(t=Sum("remaining"))["t"] or 0
        assert member.balance == entries == lots >= 0, member
    assert not PointsEntry.objects.filter(balance_after__lt=0).exists()


@pytest.mark.django_db
class TestGiftLinks:
    def test_r23_a_gift_link_sets_the_points_aside_at_once(self):
        giver = funded_member(300)
        pending_add(
            member=giver,
            points=500,
            key="order:1",
            reason="Order 1",
            base_amount=500,
            confirm_after=timezone.now() + timedelta(days=14),
        )

        link = gift_link_create(sender=giver, points=120, key="k1", message=" Merci ", at=NOON)
        other = gift_link_create(sender=giver, points=10, key="k2", at=NOON)

        giver.refresh_from_db()
        assert (giver.balance, giver.pending) == (170, 500)
        assert (link.debit.kind, link.debit.amount, link.debit.idempotency_key) == (
            EntryKind.GIFT_SENT,
            -120,
            "giftlink:k1:out",
        )
        assert (link.status, link.message, link.recipient, link.credit, link.refund) == (
            GiftLinkStatus.OPEN,
            "Merci",
            None,
            None,
            None,
        )
        assert link.expires_at == NOON + timedelta(days=settings.LOYALTY_GIFT_LINK_DAYS)
        assert len(link.token) >= 32 and link.token != other.token
        # Pending points are not available: they cannot be set aside.
        with pytest.raises(InsufficientPoints):
            gift_link_create(sender=giver, points=171, key="k3", at=NOON)
        _assert_ledger_balanced()

    def test_r23_a_replayed_link_key_makes_one_link(self):
        giver = funded_member(300)
        first = gift_link_create(sender=giver, points=100, key="tap")

        assert gift_link_create(sender=giver, points=100, key="tap") == first
        with pytest.raises(IdempotencyConflict):
            gift_link_create(sender=giver, points=50, key="tap")
        assert GiftLink.objects.count() == 1
        giver.refresh_from_db()
        assert giver.balance == 200

    def test_r23_links_count_against_the_givers_limits_until_cancelled(self):
        _limits(gift_sent_daily_points=300, gift_sent_monthly_points=1000)
        giver, friend = funded_member(1000), funded_member(0)
        link = gift_link_create(sender=giver, points=200, key="a", at=NOON)

        with pytest.raises(OverGiftLimit) as refused:
            gift_send(sender=giver, recipient=friend, points=150, key="b", at=NOON)
        assert refused.value.message == "You can give at most 300 points a day: 100 left today."
        with pytest.raises(OverGiftLimit, match="100 left today"):
            gift_link_create(sender=giver, points=101, key="c", at=NOON)
        assert gift_allowance(member=giver, at=NOON) == 100

        gift_link_cancel(link=link, sender=giver, at=NOON)

        # A cancelled link gave nothing: the day's allowance is whole again.
        assert gift_allowance(member=giver, at=NOON) == 300
        _limits(gift_sent_daily_points=0)
        with pytest.raises(GiftRefused, match="turned off"):
            gift_link_create(sender=giver, points=1, key="d", at=NOON)

    def test_r23_accepting_credits_the_friend_once_and_notifies_both(self):
        giver = funded_member(300, first_name="Alice", last_name="Martin")
        friend = funded_member(0, first_name="Bruno", last_name="Petit")
        late = funded_member(0)
        MemberStats.objects.update_or_create(member=giver, defaults={"language": "fr"})
        link = gift_link_create(sender=giver, points=120, key="k", message="Bon appétit")

        accepted = gift_link_accept(link=link, recipient=friend)

        assert (accepted.status, accepted.recipient, accepted.credit.amount) == (
            GiftLinkStatus.ACCEPTED,
            friend,
            120,
        )
        assert accepted.credit.idempotency_key == f"giftlink:{link.pk}:in"
        assert accepted.credit.kind == EntryKind.GIFT_RECEIVED
        # Accepting again moves nothing; a second friend is told it is gone.
        assert gift_link_accept(link=link, recipient=friend) == accepted
        with pytest.raises(GiftRefused) as refused:
            gift_link_accept(link=link, recipient=late)
        assert refused.value.message == "This gift has already been accepted."
        giver.refresh_from_db()
        friend.refresh_from_db()
        late.refresh_from_db()
        assert (giver.balance, friend.balance, late.balance) == (180, 120, 0)
        received = _outbox().get(event_code="LOYALTY_GIFT_RECEIVED", channel="email")
        sent = _outbox().get(event_code="LOYALTY_GIFT_SENT", channel="email")
        assert (received.user_id, received.subject) == (
            friend.user_id,
            "A*** M. gave you 120 points",
        )
        assert "Bon appétit" in received.body
        assert (sent.user_id, sent.language, sent.subject) == (
            giver.user_id,
            "fr",
            "Vous avez offert 120 points à B*** P.",
        )
        _assert_ledger_balanced()

    def test_r23_the_giver_cannot_accept_their_own_link(self):
        giver = funded_member(100)
        link = gift_link_create(sender=giver, points=100, key="k")

        with pytest.raises(GiftRefused, match="your own gift link"):
            gift_link_accept(link=link, recipient=giver)
        link.refresh_from_db()
        assert link.status == GiftLinkStatus.OPEN

    def test_r23_the_friends_limits_apply_when_accepting(self):
        _limits(gift_received_daily_points=100, gift_received_monthly_points=1000)
        giver, friend = funded_member(300), funded_member(0)
        link = gift_link_create(sender=giver, points=150, key="k", at=NOON)

        with pytest.raises(OverGiftLimit) as refused:
            gift_link_accept(link=link, recipient=friend, at=NOON)

        assert refused.value.message == (
            "You can receive at most 100 points a day: 100 more today."
        )
        link.refresh_from_db()
        friend.refresh_from_db()
        assert (link.status, friend.balance) == (GiftLinkStatus.OPEN, 0)
        # An accepted link counts as received on the day it was accepted.
        small = gift_link_create(sender=giver, points=60, key="s", at=NOON)
        gift_link_accept(link=small, recipient=friend, at=NOON)
        with pytest.raises(OverGiftLimit, match="40 more today"):
            gift_send(sender=giver, recipient=friend, points=41, key="g", at=NOON)

    def test_r23_cancelling_gives_the_points_back_once(self):
        giver, friend = funded_member(300), funded_member(0)
        link = gift_link_create(sender=giver, points=120, key="k")

        cancelled = gift_link_cancel(link=link, sender=giver)
        assert gift_link_cancel(link=link, sender=giver) == cancelled

        assert cancelled.status == GiftLinkStatus.CANCELLED
        assert (cancelled.refund.kind, cancelled.refund.amount, cancelled.refund.reverses_id) == (
            EntryKind.REVERSAL,
            120,
            link.debit_id,
        )
        assert PointsEntry.objects.filter(idempotency_key__startswith="giftlink:").count() == 2
        giver.refresh_from_db()
        assert giver.balance == 300
        with pytest.raises(GiftRefused, match="The giver cancelled this gift."):
            gift_link_accept(link=link, recipient=friend)
        with pytest.raises(GiftRefused, match="Only the member who made this link"):
            gift_link_cancel(link=link, sender=friend)
        _assert_ledger_balanced()

    def test_r23_an_accepted_link_cannot_be_cancelled(self):
        giver, friend = funded_member(300), funded_member(0)
        link = gift_link_create(sender=giver, points=120, key="k")
        gift_link_accept(link=link, recipient=friend)

        with pytest.raises(GiftRefused, match="already been accepted"):
            gift_link_cancel(link=link, sender=giver)

        giver.refresh_from_db()
        friend.refresh_from_db()
        assert (giver.balance, friend.balance) == (180, 120)

    def test_r23_gift_link_points_keep_their_expiry(self):
        giver, friend = member_factory(), member_factory()
        soon = timezone.now() + timedelta(days=30)
        later = timezone.now() + timedelta(days=300)
        points_credit(member=giver, amount=60, reason="Old", idempotency_key="o", expires_at=soon)
        points_credit(member=giver, amount=200, reason="New", idempotency_key="n", expires_at=later)

        link = gift_link_create(sender=giver, points=80, key="a")
        accepted = gift_link_accept(link=link, recipient=friend)
        other = gift_link_create(sender=giver, points=50, key="b")
        back = gift_link_cancel(link=other, sender=giver)

        # 60 expiring soon and 20 later went to the friend: the earliest expiry goes with them.
        assert PointsLot.objects.get(entry=accepted.credit).expires_at == soon
        # The 50 came from the later lot and come back with its expiry, not a new one.
        assert PointsLot.objects.get(entry=back.refund).expires_at == later

    def test_r23_expired_links_give_their_points_back_once_and_tell_the_giver(self):
        giver = funded_member(300, email="alice@example.com")
        friend = funded_member(0)
        old = gift_link_create(sender=giver, points=100, key="old", at=NOON)
        fresh = gift_link_create(sender=giver, points=50, key="fresh", at=NOON + timedelta(days=5))
        after = NOON + timedelta(days=settings.LOYALTY_GIFT_LINK_DAYS, seconds=1)

        # Past its time, a link cannot be accepted even before the task has run.
        with pytest.raises(GiftRefused, match="This gift link has expired."):
            gift_link_accept(link=old, recipient=friend, at=after)
        assert gift_links_expire(at=after) == 1
        assert gift_links_expire(at=after) == 0

        old.refresh_from_db()
        fresh.refresh_from_db()
        assert (old.status, old.refund.amount, old.closed_at) == (
            GiftLinkStatus.EXPIRED,
            100,
            after,
        )
        assert fresh.status == GiftLinkStatus.OPEN
        giver.refresh_from_db()
        assert giver.balance == 250
        notice = _outbox().get(event_code="LOYALTY_GIFT_LINK_EXPIRED", channel="email")
        assert (notice.user_id, notice.subject) == (
            giver.user_id,
            "Your gift link of 100 points has expired",
        )
        assert "Your balance is now 250 points." in notice.body
        with pytest.raises(GiftRefused, match="This gift link has expired."):
            gift_link_accept(link=old, recipient=friend, at=after)
        _assert_ledger_balanced()

    def test_r23_the_beat_task_expires_links_past_their_time(self):
        giver = funded_member(300)
        days = settings.LOYALTY_GIFT_LINK_DAYS
        gift_link_create(sender=giver, points=100, key="a", at=timezone.now() - timedelta(days + 1))
        gift_link_create(sender=giver, points=10, key="b")

        assert expire_gift_links() == 1
        assert expire_gift_links() == 0

        assert settings.CELERY_BEAT_SCHEDULE["loyalty-expire-gift-links"]["task"] == (
            "loyalty.tasks.expire_gift_links"
        )
        giver.refresh_from_db()
        assert giver.balance == 290

    def test_r23_erasing_the_giver_cancels_open_links_then_forfeits(self):
        giver, friend = funded_member(300), funded_member(0)
        open_link = gift_link_create(sender=giver, points=100, key="a", message="Hi")
        taken = gift_link_create(sender=giver, points=50, key="b", message="Yo")
        gift_link_accept(link=taken, recipient=friend)

        member_erase(user=giver.user)

        open_link.refresh_from_db()
        taken.refresh_from_db()
        giver.refresh_from_db()
        friend.refresh_from_db()
        assert (open_link.status, open_link.refund.amount, open_link.message) == (
            GiftLinkStatus.CANCELLED,
            100,
            "",
        )
        assert (taken.status, taken.message) == (GiftLinkStatus.ACCEPTED, "")
        assert (giver.balance, friend.balance) == (0, 50)
        assert giver.entries.filter(kind=EntryKind.FORFEIT).get().amount == -250
        _assert_ledger_balanced()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestGiftLinkConcurrency:
    def test_r23_two_friends_accepting_one_link_at_once_get_one_credit(self):
        giver, one, two = funded_member(300), funded_member(0), funded_member(0)
        link = gift_link_create(sender=giver, points=100, key="k")

        results = run_concurrently(
            [
                lambda: gift_link_accept(link=link, recipient=one),
                lambda: gift_link_accept(link=link, recipient=two),
            ],
            lock=hold_row_locks("loyalty_member", [giver.pk]),
            until_blocked=2,
        )

        accepted = [r for r in results if isinstance(r, GiftLink)]
        refused = [r for r in results if isinstance(r, GiftRefused)]
        assert (len(accepted), len(refused)) == (1, 1), results
        assert refused[0].message == "This gift has already been accepted."
        link.refresh_from_db()
        assert link.recipient_id == accepted[0].recipient_id
        assert PointsEntry.objects.filter(kind=EntryKind.GIFT_RECEIVED).count() == 1
        balances = sorted(Member.objects.filter(pk__in=[one.pk, two.pk]).values_list("balance"))
        assert balances == [(0,), (100,)]
        assert _outbox().filter(event_code="LOYALTY_GIFT_RECEIVED").count() == 1
        _assert_ledger_balanced()

    def test_r23_accepts_cancels_and_expiry_racing_move_each_links_points_once(self):
        # Given 10 open links, and for each a friend accepting it and the giver cancelling
        # it at once, while the beat task (run as if they had all expired) goes through them
        _limits(gift_sent_daily_points=10_000, gift_sent_monthly_points=10_000)
        giver = funded_member(1000)
        friends = [funded_member(0) for _ in range(10)]
        links = [gift_link_create(sender=giver, points=100, key=f"k{i}") for i in range(10)]
        later = timezone.now() + timedelta(days=settings.LOYALTY_GIFT_LINK_DAYS + 1)
        calls = [
            (lambda i=i: gift_link_accept(link=links[i], recipient=friends[i])) for i in range(10)
        ]
        calls += [(lambda i=i: gift_link_cancel(link=links[i], sender=giver)) for i in range(10)]
        calls.append(lambda: gift_links_expire(at=later))

        # When all 21 wait on the giver's row together
        results = run_concurrently(
            calls, lock=hold_row_locks("loyalty_member", [giver.pk]), until_blocked=21
        )

        # Then each link went exactly one way, and the points add up
        assert all(isinstance(r, GiftLink | GiftRefused | int) for r in results), results
        outcomes = {}
        for link in GiftLink.objects.all():
            moved = [e for e in (link.credit, link.refund) if e is not None]
            assert len(moved) == 1, link
            outcomes[link.pk] = link.status
            if link.status == GiftLinkStatus.ACCEPTED:
                assert isinstance(results[links.index(link)], GiftLink)
        assert set(outcomes.values()) <= {
            GiftLinkStatus.ACCEPTED,
            GiftLinkStatus.CANCELLED,
            GiftLinkStatus.EXPIRED,
        }
        accepted = sum(status == GiftLinkStatus.ACCEPTED for status in outcomes.values())
        assert results[20] == sum(s == GiftLinkStatus.EXPIRED for s in outcomes.values())
        giver.refresh_from_db()
        assert giver.balance == 1000 - 100 * accepted
        received = PointsEntry.objects.filter(kind=EntryKind.GIFT_RECEIVED)
        assert (received.aggregate(t=Sum("amount"))["t"] or 0) == 100 * accepted
        assert PointsEntry.objects.filter(idempotency_key__endswith=":back").count() == (
            10 - accepted
        )
        _assert_ledger_balanced()
