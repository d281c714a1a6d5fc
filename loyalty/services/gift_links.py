"""Gift links (R23, docs/guarantees.md): points given to whoever accepts the link first.

Making a link debits the giver at once through the ledger (`giftlink:<key>:out`, kind
`gift_out`), within the marketers' limits on points given, so the points cannot be spent
twice while the link waits. Then exactly one of three things happens, once:

- a signed-in member other than the giver accepts it: the points are credited to them
  (`giftlink:<id>:in`), within their limits on points received, and both are notified;
- the giver cancels it: the debit is reversed (`giftlink:<id>:back`);
- it expires (LOYALTY_GIFT_LINK_DAYS): the beat task `expire_gift_links` reverses it the
  same way and tells the giver.

Locks (docs/architecture.md "Lock order", R14): the members' rows first (the giver's, and
the accepting member's, in primary-key order), then the link's row. Every path holds the
giver's row, so an accept, a cancel and the expiry of one link run one after the other;
the second finds the link closed and says so. The points keep the earliest expiry of the
points set aside, whether they go to the friend or come back (R22).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from loyalty.models import EntryKind, GiftLink, GiftLinkStatus, Member
from loyalty.selectors import member_name_masked
from loyalty.services.errors import IdempotencyConflict, InvalidAmount
from loyalty.services.gifts import (
    MESSAGE_MAX_LENGTH,
    RECEIVED_EVENT_CODE,
    SENT_EVENT_CODE,
    GiftRefused,
    gift_received_limits_check,
    gift_sent_limits_check,
    given_points_expiry,
    member_language,
)
from loyalty.services.ledger import points_credit, points_debit, points_reverse
from loyalty.services.notifications import member_notify

EXPIRED_EVENT_CODE = "LOYALTY_GIFT_LINK_EXPIRED"


def _closed_message(link: GiftLink, at: datetime) -> str | None:
    """Why `link` can no longer be accepted or cancelled at `at`, or None."""
    if link.status == GiftLinkStatus.ACCEPTED:
        return _("This gift has already been accepted.")
    if link.status == GiftLinkStatus.CANCELLED:
        return _("The giver cancelled this gift.")
    if link.status == GiftLinkStatus.EXPIRED or link.expires_at <= at:
        return _("This gift link has expired.")
    return None


def gift_link_refusal(*, link: GiftLink, member: Member | None, at: datetime | None = None):
    """Why `member` (None: a visitor) cannot accept `link` now, or None; for the page,
    which locks nothing: gift_link_accept checks again under the locks."""
    at = at or timezone.now()
    if member is not None and member.pk == link.sender_id:
        return _("This is your own gift link: send it to a friend.")
    return _closed_message(link, at)


def gift_link_create(
    *, sender: Member, points: int, key: str, message: str = "", at: datetime | None = None
) -> GiftLink:
    """Set `points` of the sender's available points aside in a new link, once per `key`.

    Raises InvalidAmount, GiftRefused (gifts off), OverGiftLimit, InsufficientPoints or
    IdempotencyConflict (the key made another link), moving nothing.
    """
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise InvalidAmount(_("Enter a whole number of points greater than zero."))
    message = (message or "").strip()[:MESSAGE_MAX_LENGTH]
    at = at or timezone.now()
    with transaction.atomic():
        giver = Member.objects.select_for_update().get(pk=sender.pk)
        existing = GiftLink.objects.filter(key=key).first()
        if existing is not None:
            if (existing.sender_id, existing.points) != (sender.pk, points):
                raise IdempotencyConflict(_("This form was already used for another gift."))
            return existing
        gift_sent_limits_check(sender=giver, points=points, at=at)
        points_expire_at = given_points_expiry(giver, points, at)
        debit = points_debit(
            member=giver,
            amount=points,
            reason=_("Gift link"),
            idempotency_key=f"giftlink:{key}:out",
            kind=EntryKind.GIFT_SENT,
            at=at,
        )
        link = GiftLink.objects.create(
            sender=giver,
            points=points,
            message=message,
            token=secrets.token_urlsafe(24),
            key=key,
            created_at=at,
            expires_at=at + timedelta(days=settings.LOYALTY_GIFT_LINK_DAYS),
            points_expire_at=points_expire_at,
            debit=debit,
        )
    sender.balance = giver.balance
    return link


def gift_link_accept(*, link: GiftLink, recipient: Member, at: datetime | None = None) -> GiftLink:
    """Credit the link's points to `recipient`, if nobody accepted it before.

    Accepting a link one has already accepted returns it and moves nothing. Raises
    GiftRefused (one's own link; accepted by another, cancelled or expired) or
    OverGiftLimit (the recipient's limits; the link stays open), moving nothing.
    """
    at = at or timezone.now()
    if recipient.pk == link.sender_id:
        raise GiftRefused(_("This is your own gift link: send it to a friend."))
    with transaction.atomic():
        members = {
            member.pk: member
            for member in Member.objects.select_for_update()
            .filter(pk__in=[link.sender_id, recipient.pk])
            .select_related("user")
            .order_by("pk")
        }
        locked = GiftLink.objects.select_for_update().get(pk=link.pk)
        if locked.status == GiftLinkStatus.ACCEPTED and locked.recipient_id == recipient.pk:
            return locked
        if (refusal := _closed_message(locked, at)) is not None:
            raise GiftRefused(refusal)
        giver, receiver = members[locked.sender_id], members[recipient.pk]
        if not receiver.user.is_active:
            raise GiftRefused(_("This account cannot receive points."))
        gift_received_limits_check(recipient=receiver, points=locked.points, at=at, own=True)
        locked.credit = points_credit(
            member=receiver,
            amount=locked.points,
            reason=_("Gift from another member"),
            idempotency_key=f"giftlink:{locked.pk}:in",
            kind=EntryKind.GIFT_RECEIVED,
            at=at,
            expires_at=locked.points_expire_at,
        )
        locked.status, locked.recipient, locked.closed_at = GiftLinkStatus.ACCEPTED, receiver, at
        locked.save(update_fields=["status", "recipient", "credit", "closed_at"])
        _notify_accepted(locked, giver, receiver)
    recipient.balance = receiver.balance
    return locked


def _notify_accepted(link: GiftLink, giver: Member, receiver: Member) -> None:
    # The recipient is the one on the page, in its language; the giver in theirs.
    member_notify(
        member=receiver,
        event_code=RECEIVED_EVENT_CODE,
        context={
            "points": link.points,
            "sender_name": member_name_masked(giver),
            "gift_message": link.message,
            "expires_at": link.points_expire_at,
        },
    )
    with translation.override(member_language(giver)):
        member_notify(
            member=giver,
            event_code=SENT_EVENT_CODE,
            context={"points": link.points, "recipient_name": member_name_masked(receiver)},
        )


def _give_back(link: GiftLink, status: str, at: datetime) -> tuple[GiftLink, bool]:
    """Reverse the link's debit and close it as `status` (cancelled or expired), once.

    Returns the link and whether this call gave the points back. Raises GiftRefused when
    the link was closed otherwise (accepted, or closed with the other status).
    """
    with transaction.atomic():
        giver = Member.objects.select_for_update().select_related("user").get(pk=link.sender_id)
        locked = GiftLink.objects.select_for_update().select_related("debit").get(pk=link.pk)
        if locked.status == status:
            return locked, False
        if locked.status != GiftLinkStatus.OPEN:
            raise GiftRefused(_closed_message(locked, at) or "")
        reason = (
            _("Gift link cancelled: points back")
            if status == GiftLinkStatus.CANCELLED
            else _("Gift link expired: points back")
        )
        locked.refund = points_reverse(
            entry=locked.debit,
            amount=locked.points,
            reason=reason,
            idempotency_key=f"giftlink:{locked.pk}:back",
            at=at,
            expires_at=locked.points_expire_at,
        )
        locked.status, locked.closed_at = status, at
        locked.save(update_fields=["status", "refund", "closed_at"])
        if status == GiftLinkStatus.EXPIRED:
            giver.refresh_from_db(fields=["balance"])
            with translation.override(member_language(giver)):
                member_notify(
                    member=giver,
                    event_code=EXPIRED_EVENT_CODE,
                    context={"points": locked.points, "expires_at": locked.expires_at},
                )
    return locked, True


def gift_link_cancel(*, link: GiftLink, sender: Member, at: datetime | None = None) -> GiftLink:
    """The giver takes an open link back: its points return to them, once.

    Cancelling twice returns the link and moves nothing. Raises GiftRefused when `sender`
    did not make it, or it was accepted or has expired.
    """
    if link.sender_id != sender.pk:
        raise GiftRefused(_("Only the member who made this link can cancel it."))
    locked, _moved = _give_back(link, GiftLinkStatus.CANCELLED, at or timezone.now())
    sender.refresh_from_db(fields=["balance"])
    return locked


def gift_links_withdraw(*, sender: Member, at: datetime | None = None) -> int:
    """Cancel every open link of `sender` (their account is being erased): the points come
    back to them, to be forfeited with the rest. How many links were cancelled."""
    at = at or timezone.now()
    cancelled = 0
    for link in list(GiftLink.objects.filter(sender=sender, status=GiftLinkStatus.OPEN)):
        try:
            _link, moved = _give_back(link, GiftLinkStatus.CANCELLED, at)
        except GiftRefused:
            continue  # accepted in the meantime
        cancelled += moved
    return cancelled


def gift_links_expire(*, at: datetime | None = None) -> int:
    """Give back the points of every open link whose time is up; how many were expired.

    Idempotent: an expired link is closed, and its reversal's key is unique, so running
    it again (or beside an accept or a cancel of the same link) moves nothing twice.
    """
    at = at or timezone.now()
    due = GiftLink.objects.filter(status=GiftLinkStatus.OPEN, expires_at__lte=at).order_by("pk")
    expired = 0
    for link in list(due.only("pk", "sender")):
        try:
            _link, moved = _give_back(link, GiftLinkStatus.EXPIRED, at)
        except GiftRefused:
            continue  # accepted or cancelled in the meantime
        expired += moved
    return expired
