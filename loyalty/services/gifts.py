"""Gifts of points between members (R23, docs/guarantees.md).

A gift is one debit of the sender and one credit of the recipient, written by the
ledger (loyalty.services.ledger) in one transaction, with the idempotency keys
`gift:<key>:out` and `gift:<key>:in`, and a Gift row that ties them together. Sending
the same key again returns the first gift and moves nothing.

Only available points can be given: the ledger's balance never includes pending points
(Member.pending), and points_debit refuses an overdraft. The marketers' EarningRule
bounds the points a member gives and receives per local day (TIME_ZONE) and calendar
month; 0 points a day given turns gifts off.

Locks (docs/architecture.md "Lock order", R14): both members' rows, in primary-key
order, before anything is read; the ledger then re-locks them (already held). With both
rows held, the limit sums of sender and recipient cannot be raced and two opposite gifts
between the same members cannot deadlock.

Received points keep the earliest expiry of the points given, so passing points back
and forth never renews them (R22).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from loyalty.models import EntryKind, Gift, GiftLink, GiftLinkStatus, Member, MemberStats
from loyalty.selectors import earning_rule, member_name_masked
from loyalty.services.errors import IdempotencyConflict, InvalidAmount, LoyaltyError
from loyalty.services.ledger import points_credit, points_debit
from loyalty.services.members import member_number_is_valid
from loyalty.services.notifications import member_notify

SENT_EVENT_CODE = "LOYALTY_GIFT_SENT"
RECEIVED_EVENT_CODE = "LOYALTY_GIFT_RECEIVED"
MESSAGE_MAX_LENGTH = 200


class GiftRefused(LoyaltyError):
    """The gift was not made; nothing moved."""


class OverGiftLimit(GiftRefused):
    """More points than the day's or the month's allowance."""


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def day_bounds(at: datetime) -> tuple[datetime, datetime]:
    day = timezone.localtime(at).date()
    return _local_midnight(day), _local_midnight(day + timedelta(days=1))


def month_bounds(at: datetime) -> tuple[datetime, datetime]:
    first = timezone.localtime(at).date().replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return _local_midnight(first), _local_midnight(following)


def _sum(model: type[Gift] | type[GiftLink], **where: object) -> int:
    return model._default_manager.filter(**where).aggregate(total=Sum("points"))["total"] or 0


def _given(member: Member, bounds: tuple[datetime, datetime]) -> int:
    """Points `member` gave in `bounds`: gifts by number, and gift links made then whose
    points are set aside or accepted (a cancelled or expired link gave nothing)."""
    start, end = bounds
    return _sum(Gift, sender=member, created_at__gte=start, created_at__lt=end) + _sum(
        GiftLink,
        sender=member,
        created_at__gte=start,
        created_at__lt=end,
        status__in=[GiftLinkStatus.OPEN, GiftLinkStatus.ACCEPTED],
    )


def _received(member: Member, bounds: tuple[datetime, datetime]) -> int:
    """Points `member` received in `bounds`: gifts by number, and gift links accepted then."""
    start, end = bounds
    return _sum(Gift, recipient=member, created_at__gte=start, created_at__lt=end) + _sum(
        GiftLink, recipient=member, closed_at__gte=start, closed_at__lt=end
    )


def gift_allowance(*, member: Member, at: datetime | None = None) -> int:
    """Points `member` may still give today: the smaller of the day's and month's rest."""
    at = at or timezone.now()
    rule = earning_rule()
    return max(
        min(
            rule.gift_sent_daily_points - _given(member, day_bounds(at)),
            rule.gift_sent_monthly_points - _given(member, month_bounds(at)),
        ),
        0,
    )


def gift_recipient_find(*, sender: Member, number: str) -> Member:
    """The member with card `number`, to give points to; raises GiftRefused."""
    number = "".join((number or "").split())
    if not member_number_is_valid(number):
        raise GiftRefused(_("This is not a valid member number."))
    recipient = Member.objects.filter(number=number).select_related("user").first()
    if recipient is None or not recipient.user.is_active:
        raise GiftRefused(_("No member has this number."))
    if recipient.pk == sender.pk:
        raise GiftRefused(_("You cannot give points to yourself."))
    return recipient


def _over(checks: list[tuple[int, int, str]], points: int) -> None:
    for limit, used, message in checks:
        if used + points > limit:
            raise OverGiftLimit(message % {"max": limit, "left": max(limit - used, 0)})


def gift_sent_limits_check(*, sender: Member, points: int, at: datetime) -> None:
    """Raise GiftRefused (gifts off) or OverGiftLimit if `sender` may not give `points`
    more at `at`. Callers hold the sender's row lock, so the sums cannot be raced."""
    rule = earning_rule()
    if rule.gift_sent_daily_points == 0:
        raise GiftRefused(_("Gifts of points are turned off for now."))
    _over(
        [
            (
                rule.gift_sent_daily_points,
                _given(sender, day_bounds(at)),
                _("You can give at most %(max)s points a day: %(left)s left today."),
            ),
            (
                rule.gift_sent_monthly_points,
                _given(sender, month_bounds(at)),
                _("You can give at most %(max)s points a month: %(left)s left this month."),
            ),
        ],
        points,
    )


def gift_received_limits_check(
    *, recipient: Member, points: int, at: datetime, own: bool = False
) -> None:
    """Raise OverGiftLimit if `recipient` may not receive `points` more at `at` (the
    recipient's row locked by the caller). `own`: the recipient is the one asking."""
    rule = earning_rule()
    if own:
        day = _("You can receive at most %(max)s points a day: %(left)s more today.")
        month = _("You can receive at most %(max)s points a month: %(left)s more this month.")
    else:
        day = _("This member can receive at most %(max)s points a day: %(left)s more today.")
        month = _(
            "This member can receive at most %(max)s points a month: %(left)s more this month."
        )
    _over(
        [
            (rule.gift_received_daily_points, _received(recipient, day_bounds(at)), day),
            (rule.gift_received_monthly_points, _received(recipient, month_bounds(at)), month),
        ],
        points,
    )


def _check_limits(sender: Member, recipient: Member, points: int, at: datetime) -> None:
    gift_sent_limits_check(sender=sender, points=points, at=at)
    gift_received_limits_check(recipient=recipient, points=points, at=at)


def gift_refusal(
    *, sender: Member, recipient: Member, points: int, at: datetime | None = None
) -> str | None:
    """Why `gift_send` would refuse this gift now (balance or a limit), or None.

    For the review step, which locks nothing: gift_send checks again under the locks.
    """
    at = at or timezone.now()
    if points > sender.balance:
        return _("You have %(balance)s points available to give.") % {"balance": sender.balance}
    try:
        _check_limits(sender, recipient, points, at)
    except GiftRefused as exc:
        return exc.message
    return None


def given_points_expiry(sender: Member, points: int, at: datetime) -> datetime | None:
    """The earliest expiry among the lots the debit will spend (oldest first, as the
    ledger spends them; lots already due are expired by the debit first)."""
    earliest = None
    lots = (
        sender.lots.filter(remaining__gt=0)
        .exclude(expires_at__lte=at)
        .order_by("earned_at", "id")
        .values_list("remaining", "expires_at")
    )
    for remaining, expires_at in lots:
        if points <= 0:
            break
        points -= remaining
        if expires_at is not None and (earliest is None or expires_at < earliest):
            earliest = expires_at
    return earliest


def member_language(member: Member) -> str:
    # The shop keeps no language per customer: the one it last wrote to them in
    # (MemberStats.language, README "Segments"), else the shop's default.
    language = MemberStats.objects.filter(member=member).values_list("language", flat=True).first()
    return language or settings.LANGUAGE_CODE


def gift_send(
    *,
    sender: Member,
    recipient: Member,
    points: int,
    key: str,
    message: str = "",
    at: datetime | None = None,
) -> Gift:
    """Give `points` of the sender's available points to `recipient`, once per `key`.

    Raises InvalidAmount, GiftRefused (to oneself, gifts off), OverGiftLimit,
    InsufficientPoints or IdempotencyConflict (the key was used for another gift),
    moving nothing. Both members are notified once, after commit.
    """
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise InvalidAmount(_("Enter a whole number of points greater than zero."))
    if sender.pk == recipient.pk:
        raise GiftRefused(_("You cannot give points to yourself."))
    message = (message or "").strip()[:MESSAGE_MAX_LENGTH]
    at = at or timezone.now()
    with transaction.atomic():
        locked = {
            member.pk: member
            for member in Member.objects.select_for_update()
            .filter(pk__in=[sender.pk, recipient.pk])
            .select_related("user")
            .order_by("pk")
        }
        existing = Gift.objects.filter(key=key).first()
        if existing is not None:
            if (existing.sender_id, existing.recipient_id, existing.points) != (
                sender.pk,
                recipient.pk,
                points,
            ):
                raise IdempotencyConflict(_("This form was already used for another gift."))
            return existing
        giver, receiver = locked[sender.pk], locked[recipient.pk]
        if not receiver.user.is_active:
            raise GiftRefused(_("No member has this number."))
        _check_limits(giver, receiver, points, at)
        expires_at = given_points_expiry(giver, points, at)
        debit = points_debit(
            member=giver,
            amount=points,
            # No name: the ledger outlives an erased account (README "Erasure").
            reason=_("Gift to another member"),
            idempotency_key=f"gift:{key}:out",
            kind=EntryKind.GIFT_SENT,
            at=at,
        )
        credit = points_credit(
            member=receiver,
            amount=points,
            reason=_("Gift from another member"),
            idempotency_key=f"gift:{key}:in",
            kind=EntryKind.GIFT_RECEIVED,
            at=at,
            expires_at=expires_at,
        )
        gift = Gift.objects.create(
            sender=giver,
            recipient=receiver,
            points=points,
            message=message,
            key=key,
            debit=debit,
            credit=credit,
            created_at=at,
        )
        # The sender is writing now, in the page's language; the recipient in theirs.
        member_notify(
            member=giver,
            event_code=SENT_EVENT_CODE,
            context={"points": points, "recipient_name": member_name_masked(receiver)},
        )
        with translation.override(member_language(receiver)):
            member_notify(
                member=receiver,
                event_code=RECEIVED_EVENT_CODE,
                context={
                    "points": points,
                    "sender_name": member_name_masked(giver),
                    "gift_message": message,
                    "expires_at": expires_at,
                },
            )
    sender.balance, recipient.balance = giver.balance, receiver.balance
    return gift
