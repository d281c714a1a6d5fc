"""The member counter (dashboard): a member as staff see them, and adjustments."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from loyalty.models import (
    EntryKind,
    Member,
    PointsAdjustment,
    PointsAdjustmentDecision,
)


def member_name_masked(member: Member) -> str:
    """`Jane Doe` -> `J*** D.`: enough for a giver to recognise a friend, not to learn a
    stranger's name from a member number (R23); the masked e-mail without a name."""
    user = member.user
    first, last = (user.first_name or "").strip(), (user.last_name or "").strip()
    if first or last:
        return " ".join(
            part
            for part in (f"{first[:1]}***" if first else "", last[:1] + "." if last else "")
            if part
        )
    return email_masked(user.email)


def entries_labelled(entries: list) -> list:
    """Set `label` on each entry: "Gift to J*** D." for gifts, else the entry's reason."""
    from loyalty.models import Gift

    ids = [
        entry.pk
        for entry in entries
        if entry.kind in (EntryKind.GIFT_SENT, EntryKind.GIFT_RECEIVED)
    ]
    gifts = Gift.objects.filter(Q(debit_id__in=ids) | Q(credit_id__in=ids)).select_related(
        "sender__user", "recipient__user"
    )
    by_entry = {}
    for gift in gifts:
        by_entry[gift.debit_id] = _("Gift to %(name)s") % {
            "name": member_name_masked(gift.recipient)
        }
        by_entry[gift.credit_id] = _("Gift from %(name)s") % {
            "name": member_name_masked(gift.sender)
        }
    for entry in entries:
        entry.label = by_entry.get(entry.pk, entry.reason)
    return entries


def email_masked(email: str) -> str:
    """`jane.doe@example.com` -> `j***@example.com`: enough to confirm, not to copy."""
    local, at, domain = (email or "").partition("@")
    if not at:
        return "***" if email else ""
    return f"{local[:1]}***@{domain}"


@dataclass(frozen=True)
class CounterMember:
    """What staff at the counter see of a member, and nothing more."""

    member: Member
    number: str
    name: str
    email: str
    balance: int
    pending: int
    tier_label: str
    entries: list


def member_at_counter(*, number: str, entries: int = 10) -> CounterMember | None:
    """The member with card `number` as the counter shows them, or None."""
    member = Member.objects.filter(number=number).select_related("user").first()
    if member is None:
        return None
    return CounterMember(
        member=member,
        number=member.number,
        name=member.user.get_full_name(),
        email=email_masked(member.user.email),
        balance=member.balance,
        pending=member.pending,
        tier_label=member.get_tier_display(),
        entries=list(member.entries.only("created_at", "kind", "amount", "reason")[:entries]),
    )


def adjustments_pending() -> QuerySet[PointsAdjustment]:
    """Adjustments waiting for a second person's decision, oldest first."""
    return (
        PointsAdjustment.objects.filter(needs_approval=True, decision__isnull=True)
        .select_related("member__user", "requested_by", "partner")
        .order_by("created_at", "id")
    )


def adjustments_decided(*, limit: int = 50) -> QuerySet[PointsAdjustmentDecision]:
    """The latest decisions on adjustments, newest first."""
    return PointsAdjustmentDecision.objects.select_related(
        "adjustment__member", "adjustment__requested_by", "decided_by"
    )[:limit]
