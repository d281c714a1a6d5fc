"""Reads of gift links (R23): a member's links, and how their ledger entries are labelled."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from loyalty.models import GiftLink, GiftLinkStatus, Member
from loyalty.selectors.counter import member_name_masked


def gift_links_of(*, member: Member, limit: int = 10) -> list[GiftLink]:
    """The member's gift links, open ones first, then the most recent."""
    links = GiftLink.objects.filter(sender=member).select_related("recipient__user")
    open_first = list(links.filter(status=GiftLinkStatus.OPEN)[:limit])
    return open_first + list(links.exclude(status=GiftLinkStatus.OPEN)[: limit - len(open_first)])


def gift_link_by_token(*, token: str) -> GiftLink | None:
    return GiftLink.objects.filter(token=token).select_related("sender__user").first()


def gift_link_labels(entry_ids: list[int]) -> dict[int, str]:
    """{entry id: label} for the entries of gift links among `entry_ids`: "Gift link" while
    it waits, "Gift to J*** D." once accepted, "Gift from …" for the friend."""
    links = GiftLink.objects.filter(
        Q(debit_id__in=entry_ids) | Q(credit_id__in=entry_ids)
    ).select_related("sender__user", "recipient__user")
    labels = {}
    for link in links:
        if link.recipient is None:
            labels[link.debit_id] = _("Gift link (%(status)s)") % {
                "status": link.get_status_display().lower()
            }
            continue
        labels[link.debit_id] = _("Gift to %(name)s") % {"name": member_name_masked(link.recipient)}
        if link.credit_id is not None:
            labels[link.credit_id] = _("Gift from %(name)s") % {
                "name": member_name_masked(link.sender)
            }
    return labels
