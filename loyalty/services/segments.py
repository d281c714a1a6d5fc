"""Writes for segments: saving and deleting a segment (the member statistics segments filter
on are refreshed by loyalty.services.member_stats)."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from loyalty.models import Segment
from loyalty.segments import rules_validate
from loyalty.services.errors import LoyaltyError


@transaction.atomic
def segment_save(
    *,
    segment: Segment | None = None,
    name: str,
    description: str = "",
    rules: dict,
    offers: Iterable | None = None,
    user: User | None = None,
) -> Segment:
    """Create or update a segment with validated rules (SegmentRulesError otherwise).

    A change of rules bumps `version`, which invalidates cached memberships at once.
    """
    clean = rules_validate(rules)
    if segment is None:
        segment = Segment(created_by=user if user and user.is_authenticated else None)
    elif segment.rules != clean:
        segment.version = F("version") + 1
    segment.name = name
    segment.description = description
    segment.rules = clean
    segment.save()
    segment.refresh_from_db(fields=["version"])
    if offers is not None:
        segment.offers.set(offers)
    _segments_changed()
    return segment


class SegmentInUse(LoyaltyError):
    """Campaigns were sent to the segment: their history keeps it."""


@transaction.atomic
def segment_delete(*, segment: Segment) -> None:
    """Delete a segment no campaign uses (SegmentInUse otherwise)."""
    if segment.campaigns.exists():
        raise SegmentInUse(
            _("Campaigns use this segment, so it is kept: %(names)s.")
            % {"names": ", ".join(segment.campaigns.values_list("name", flat=True)[:5])}
        )
    segment.delete()
    _segments_changed()


def _segments_changed() -> None:
    # Now for this process, and again once committed, so that a request that cached the
    # old list between the two sees the new one.
    segments_with_offers_forget()
    transaction.on_commit(segments_with_offers_forget)


def segments_with_offers_forget() -> None:
    """Drop the cached list of segments with offers (loyalty.selectors.segments_with_offers)."""
    from django.core.cache import cache

    from loyalty.selectors import SEGMENTS_WITH_OFFERS_KEY

    cache.delete(SEGMENTS_WITH_OFFERS_KEY)
