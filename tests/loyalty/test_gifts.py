"""Gifts of points between members (loyalty/services/gifts.py): R23."""

from datetime import datetime, timedelta

import pytest
from django.apps import apps
from django.db.models import Sum
from django.utils import timezone

from loyalty.models import EarningRule, EntryKind, Gift, MemberStats, PointsEntry, PointsLot
from loyalty.selectors import earning_rule
from loyalty.services.errors import IdempotencyConflict, InsufficientPoints, InvalidAmount
from loyalty.services.gifts import (
    GiftRefused,
    OverGiftLimit,
    gift_allowance,
    gift_recipient_find,
    gift_send,
)
from loyalty.services.ledger import pending_add, points_credit
from loyalty.services.members import member_erase
from tests.concurrency import hold_row_locks, run_concurrently
from tests.loyalty.factories import member_factory


def _funded(points: int, **user_fields):
    member = member_factory(**user_fields)
    if points:
        points_credit(
            member=member, amount=points, reason="Order", idempotency_key=f"seed:{member.pk}"
        )
    return member


def _limits(**values) -> EarningRule:
    rule = earning_rule()
    for name, value in values.items():
        setattr(rule, name, value)
    rule.save()
    return rule


def _outbox():
    return apps.get_model("communication", "OutboxMessage").objects


NOON = timezone.make_aware(datetime(2026, 12, 15, 12, 0))


@pytest.mark.django_db
class TestGiftService:
    def test_r23_a_gift_is_one_debit_and_one_credit_tied_by_the_gift(self):
        sender = _funded(300, first_name="Alice", last_name="Martin")
        recipient = _funded(0, first_name="Bruno", last_name="Petit")

        gift = gift_send(sender=sender, recipient=recipient, points=120, key="k1", message="Merci")

        sender.refresh_from_db()
        recipient.refresh_from_db()
        assert (sender.balance, recipient.balance) == (180, 120)
        assert (gift.debit.kind, gift.debit.amount, gift.debit.member_id) == (
            EntryKind.GIFT_SENT,
            -120,
            sender.pk,
        )
        assert (gift.credit.kind, gift.credit.amount, gift.credit.member_id) == (
            EntryKind.GIFT_RECEIVED,
            120,
            recipient.pk,
        )
        assert (gift.debit.idempotency_key, gift.credit.idempotency_key) == (
            "gift:k1:out",
            "gift:k1:in",
        )
        assert gift.message == "Merci"
        # The ledger's reasons name nobody; the page names the other member from the gift.
        assert "Petit" not in gift.debit.reason and "Martin" not in gift.credit.reason

    def test_r23_replaying_a_key_returns_the_first_gift_and_moves_nothing(self):
        sender, recipient = _funded(300), _funded(0)
        first = gift_send(sender=sender, recipient=recipient, points=100, key="k")

        for _ in range(10):
            assert gift_send(sender=sender, recipient=recipient, points=100, key="k") == first

        assert Gift.objects.count() == 1
        assert PointsEntry.objects.filter(idempotency_key__startswith="gift:").count() == 2
        sender.refresh_from_db()
        assert sender.balance == 200

    def test_r23_a_key_used_for_another_gift_is_refused(self):
        sender, recipient, other = _funded(300), _funded(0), _funded(0)
        gift_send(sender=sender, recipient=recipient, points=100, key="k")

        with pytest.raises(IdempotencyConflict):
            gift_send(sender=sender, recipient=other, points=100, key="k")
        with pytest.raises(IdempotencyConflict):
            gift_send(sender=sender, recipient=recipient, points=50, key="k")
        assert Gift.objects.count() == 1

    def test_r23_pending_points_cannot_be_given(self):
        sender, recipient = _funded(50), _funded(0)
        pending_add(
            member=sender,
            points=500,
            key="order:1",
            reason="Order 1",
            base_amount=500,
            confirm_after=timezone.now() + timedelta(days=14),
        )

        with pytest.raises(InsufficientPoints):
            gift_send(sender=sender, recipient=recipient, points=100, key="k")

        sender.refresh_from_db()
        recipient.refresh_from_db()
        assert (sender.balance, sender.pending, recipient.balance) == (50, 500, 0)
        assert not Gift.objects.exists()

    def test_r23_more_than_the_balance_moves_nothing(self):
        sender, recipient = _funded(99), _funded(0)

        with pytest.raises(InsufficientPoints):
            gift_send(sender=sender, recipient=recipient, points=100, key="k")

        assert not PointsEntry.objects.filter(idempotency_key__startswith="gift:").exists()
        assert not _outbox().filter(event_code__startswith="LOYALTY_GIFT").exists()

    def test_r23_gifts_to_oneself_and_bad_amounts_are_refused(self):
        sender = _funded(300)
        with pytest.raises(GiftRefused, match="yourself"):
            gift_send(sender=sender, recipient=sender, points=10, key="k")
        with pytest.raises(GiftRefused, match="yourself"):
            gift_recipient_find(sender=sender, number=sender.number)
        for points in (0, -5, True):
            with pytest.raises(InvalidAmount):
                gift_send(sender=sender, recipient=_funded(0), points=points, key="k")

    def test_r23_an_inactive_or_erased_account_receives_nothing(self):
        sender, recipient = _funded(300), _funded(0)
        recipient.user.is_active = False
        recipient.user.save()

        with pytest.raises(GiftRefused, match="No member has this number"):
            gift_recipient_find(sender=sender, number=recipient.number)
        with pytest.raises(GiftRefused, match="No member has this number"):
            gift_send(sender=sender, recipient=recipient, points=10, key="k")
        assert not Gift.objects.exists()

    def test_r23_recipient_lookup_refuses_unknown_and_mistyped_numbers(self):
        sender, recipient = _funded(0), _funded(0)
        mistyped = recipient.number[:-1] + str((int(recipient.number[-1]) + 1) % 10)
        with pytest.raises(GiftRefused, match="not a valid member number"):
            gift_recipient_find(sender=sender, number=mistyped)
        with pytest.raises(GiftRefused, match="No member has this number"):
            gift_recipient_find(sender=sender, number="0000000000")
        spaced = f"{recipient.number[:3]} {recipient.number[3:6]} {recipient.number[6:]}"
        assert gift_recipient_find(sender=sender, number=spaced) == recipient

    def test_r23_sent_limits_per_day_and_per_month(self):
        _limits(gift_sent_daily_points=300, gift_sent_monthly_points=500)
        sender, recipient = _funded(2000), _funded(0)
        yesterday = NOON - timedelta(days=1)

        gift_send(sender=sender, recipient=recipient, points=300, key="y", at=yesterday)
        gift_send(sender=sender, recipient=recipient, points=150, key="a", at=NOON)
        with pytest.raises(OverGiftLimit) as refused:
            gift_send(sender=sender, recipient=recipient, points=51, key="b", at=NOON)
        # 450 of 500 this month: the month, not the day (150 of 300), is what is left.
        assert refused.value.message == (
            "You can give at most 500 points a month: 50 left this month."
        )
        gift_send(sender=sender, recipient=recipient, points=50, key="c", at=NOON)
        assert gift_allowance(member=sender, at=NOON) == 0
        # A new month starts afresh; the day's limit still applies.
        next_month = timezone.make_aware(datetime(2027, 1, 2, 9, 0))
        assert gift_allowance(member=sender, at=next_month) == 300
        with pytest.raises(OverGiftLimit, match="300 points a day: 300 left today"):
            gift_send(sender=sender, recipient=recipient, points=301, key="d", at=next_month)

    def test_r23_received_limits_per_day_and_per_month(self):
        _limits(gift_received_daily_points=200, gift_received_monthly_points=300)
        recipient = _funded(0)
        one, two = _funded(1000), _funded(1000)

        gift_send(sender=one, recipient=recipient, points=150, key="a", at=NOON)
        with pytest.raises(OverGiftLimit, match="200 points a day: 50 more today"):
            gift_send(sender=two, recipient=recipient, points=60, key="b", at=NOON)
        gift_send(sender=two, recipient=recipient, points=50, key="c", at=NOON)
        tomorrow = NOON + timedelta(days=1)
        with pytest.raises(OverGiftLimit, match="300 points a month: 100 more this month"):
            gift_send(sender=one, recipient=recipient, points=101, key="d", at=tomorrow)
        recipient.refresh_from_db()
        assert recipient.balance == 200

    def test_r23_a_day_limit_of_zero_turns_gifts_off(self):
        _limits(gift_sent_daily_points=0)
        with pytest.raises(GiftRefused, match="turned off"):
            gift_send(sender=_funded(100), recipient=_funded(0), points=1, key="k")

    def test_r23_given_points_keep_their_expiry(self):
        sender, recipient = member_factory(), member_factory()
        soon = timezone.now() + timedelta(days=10)
        later = timezone.now() + timedelta(days=300)
        points_credit(
            member=sender, amount=60, reason="Old", idempotency_key="old", expires_at=soon
        )
        points_credit(
            member=sender, amount=100, reason="New", idempotency_key="new", expires_at=later
        )

        gift = gift_send(sender=sender, recipient=recipient, points=80, key="k")

        # 60 from the lot expiring soon, 20 from the later one: the earliest expiry wins.
        assert PointsLot.objects.get(entry=gift.credit).expires_at == soon

    def test_r23_both_members_are_notified_each_in_their_language(self):
        sender = _funded(300, first_name="Alice", last_name="Martin", email="alice@example.com")
        recipient = _funded(0, first_name="Bruno", last_name="Petit", email="bruno@example.com")
        MemberStats.objects.update_or_create(member=recipient, defaults={"language": "fr"})

        gift_send(sender=sender, recipient=recipient, points=120, key="k", message="Bon appétit")

        sent = _outbox().get(event_code="LOYALTY_GIFT_SENT", channel="email")
        received = _outbox().get(event_code="LOYALTY_GIFT_RECEIVED", channel="email")
        assert (sent.user_id, sent.subject) == (sender.user_id, "You gave 120 points to B*** P.")
        assert "Your balance is now 180 points." in sent.body
        assert (received.user_id, received.language) == (recipient.user_id, "fr")
        assert received.subject == "A*** M. vous a offert 120 points"
        assert "Bon appétit" in received.body

    def test_r23_erasure_blanks_the_gift_messages_and_keeps_the_ledger(self):
        sender, recipient = _funded(300), _funded(0)
        gift = gift_send(sender=sender, recipient=recipient, points=100, key="k", message="Hi")

        member_erase(user=recipient.user)

        gift.refresh_from_db()
        assert (gift.message, gift.points) == ("", 100)
        assert PointsEntry.objects.filter(pk__in=[gift.debit_id, gift.credit_id]).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestGiftConcurrency:
    def test_r23_20_concurrent_gifts_never_overdraw_and_each_moves_exactly_once(self):
        # Given a sender with 1,000 points and 20 gifts of 100 to 4 friends sent at once
        _limits(
            gift_sent_daily_points=100_000,
            gift_sent_monthly_points=100_000,
            gift_received_daily_points=100_000,
            gift_received_monthly_points=100_000,
        )
        sender = _funded(1000)
        friends = [_funded(0) for _ in range(4)]

        def give(i):
            return lambda: gift_send(
                sender=sender, recipient=friends[i % 4], points=100, key=f"g{i}"
            )

        # When all 20 wait on the sender's row together
        results = run_concurrently(
            [give(i) for i in range(20)],
            lock=hold_row_locks("loyalty_member", [sender.pk]),
            until_blocked=20,
        )

        # Then exactly 10 went through, the others were refused, and nothing went negative
        gifts = [r for r in results if isinstance(r, Gift)]
        refused = [r for r in results if isinstance(r, InsufficientPoints)]
        assert (len(gifts), len(refused)) == (10, 10), results
        sender.refresh_from_db()
        assert sender.balance == 0
        received = sum(
            PointsEntry.objects.filter(member=f).aggregate(t=Sum("amount"))["t"] or 0
            for f in friends
        )
        assert received == 1000
        assert PointsEntry.objects.filter(kind=EntryKind.GIFT_SENT).count() == 10
        assert PointsEntry.objects.filter(kind=EntryKind.GIFT_RECEIVED).count() == 10
        assert PointsEntry.objects.filter(balance_after__lt=0).count() == 0

        # And replaying every key 10 times moves nothing more: a given key returns its
        # gift, a refused one is refused again (the balance is spent)
        for i in range(20):
            for _ in range(10):
                try:
                    replay = give(i)()
                except InsufficientPoints:
                    assert isinstance(results[i], InsufficientPoints)
                else:
                    assert replay.pk == results[i].pk
        assert Gift.objects.count() == 10
        assert PointsEntry.objects.filter(idempotency_key__startswith="gift:").count() == 20

    def test_r23_one_key_sent_10_times_at_once_gives_one_pair(self):
        sender, recipient = _funded(500), _funded(0)

        results = run_concurrently(
            [
                lambda: gift_send(sender=sender, recipient=recipient, points=100, key="tap")
                for _ in range(10)
            ],
            lock=hold_row_locks("loyalty_member", [sender.pk, recipient.pk]),
            until_blocked=10,
        )

        assert all(isinstance(r, Gift) for r in results), results
        assert len({r.pk for r in results}) == 1
        assert PointsEntry.objects.filter(idempotency_key__startswith="gift:tap:").count() == 2
        sender.refresh_from_db()
        recipient.refresh_from_db()
        assert (sender.balance, recipient.balance) == (400, 100)
        assert _outbox().filter(event_code="LOYALTY_GIFT_RECEIVED").count() == 1

    def test_r23_the_senders_day_limit_holds_exactly_under_concurrency(self):
        _limits(gift_sent_daily_points=500, gift_sent_monthly_points=2000)
        sender = _funded(5000)
        friends = [_funded(0) for _ in range(20)]

        results = run_concurrently(
            [
                (lambda i=i: gift_send(sender=sender, recipient=friends[i], points=100, key=f"{i}"))
                for i in range(20)
            ],
            lock=hold_row_locks("loyalty_member", [sender.pk]),
            until_blocked=20,
        )

        refused = [r for r in results if isinstance(r, OverGiftLimit)]
        assert sum(isinstance(r, Gift) for r in results) == 5, results
        assert len(refused) == 15
        assert {r.message for r in refused} == {
            "You can give at most 500 points a day: 0 left today."
        }
        assert Gift.objects.aggregate(t=Sum("points"))["t"] == 500

    def test_r23_the_recipients_month_limit_holds_exactly_under_concurrency(self):
        _limits(gift_received_daily_points=100_000, gift_received_monthly_points=700)
        recipient = _funded(0)
        senders = [_funded(100) for _ in range(20)]

        results = run_concurrently(
            [
                (lambda s=s: gift_send(sender=s, recipient=recipient, points=100, key=f"{s.pk}"))
                for s in senders
            ],
            lock=hold_row_locks("loyalty_member", [recipient.pk]),
            until_blocked=20,
        )

        assert sum(isinstance(r, Gift) for r in results) == 7, results
        assert sum(isinstance(r, OverGiftLimit) for r in results) == 13
        recipient.refresh_from_db()
        assert recipient.balance == 700

    def test_r23_opposite_gifts_between_two_members_do_not_deadlock(self):
        one, two = _funded(1000), _funded(1000)

        results = run_concurrently(
            [
                (lambda i=i: gift_send(sender=one, recipient=two, points=10, key=f"a{i}"))
                for i in range(10)
            ]
            + [
                (lambda i=i: gift_send(sender=two, recipient=one, points=10, key=f"b{i}"))
                for i in range(10)
            ],
            lock=hold_row_locks("loyalty_member", [one.pk, two.pk]),
            until_blocked=20,
        )

        assert all(isinstance(r, Gift) for r in results), results
        one.refresh_from_db()
        two.refresh_from_db()
        assert (one.balance, two.balance) == (1000, 1000)
