"""Segments: their members, a sample, and the one-to-one offers of a member's segments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.utils import timezone

from loyalty.models import (
    Member,
    Segment,
)
from loyalty.segments import SegmentRulesError, rules_q, rules_validate

from .counter import email_masked
from .members import member_for_user


def segment_members(
    *,
    segment: Segment | None = None,
    rules: dict | None = None,
    at: datetime | None = None,
) -> QuerySet[Member]:
    """The members matching a segment (or unsaved `rules`), as ONE SQL query.

    Raises loyalty.segments.SegmentRulesError for invalid rules. Counting or slicing the
    result is a single query: the rules compile into one WHERE clause (loyalty/segments.py).
    """
    if (segment is None) == (rules is None):
        raise TypeError("Pass either segment or rules.")
    tree = rules_validate(segment.rules if segment is not None else rules)
    return Member.objects.filter(rules_q(tree, at=at or timezone.now()))


@dataclass(frozen=True)
class SampleMember:
    pk: int
    number: str
    name: str
    email: str


def segment_sample(*, members: QuerySet[Member], size: int = 10) -> list[SampleMember]:
    """The newest `size` members of a segment's query, names and masked e-mails (1 query)."""
    rows = members.select_related("user").order_by("-pk")[:size]
    return [
        SampleMember(
            pk=member.pk,
            number=member.number,
            name=member.user.get_full_name() or member.number,
            email=email_masked(member.user.email),
        )
        for member in rows
    ]


SEGMENTS_WITH_OFFERS_KEY = "loyalty:segments-with-offers"


def segments_with_offers() -> list[tuple[int, int, list[int]]]:
    """(segment pk, version, offer pks) of every segment with offers, cached until a
    segment is saved or deleted (loyalty.services.segments), so that pricing a basket
    costs no query while no segment has offers."""
    from django.conf import settings
    from django.core.cache import cache

    cached = cache.get(SEGMENTS_WITH_OFFERS_KEY)
    if cached is not None:
        return cached
    found: dict[int, tuple[int, list[int]]] = {}
    for pk, version, offer_pk in Segment.objects.filter(offers__isnull=False).values_list(
        "pk", "version", "offers"
    ):
        found.setdefault(pk, (version, []))[1].append(offer_pk)
    rows = [(pk, version, sorted(offers)) for pk, (version, offers) in sorted(found.items())]
    cache.set(SEGMENTS_WITH_OFFERS_KEY, rows, settings.LOYALTY_SEGMENT_CACHE_SECONDS)
    return rows


def segment_membership_cache_key(*, segment_pk: int, version: int, member_pk: int) -> str:
    # The version changes with the rules, so a rule change is seen at once.
    return f"loyalty:segment:{segment_pk}:v{version}:member:{member_pk}"


def segment_offer_pks_for_member(*, member: Member) -> list[int]:
    """The pks of the offers of every segment the member belongs to, available or not.

    Membership is computed when the basket is priced and cached per member and segment
    version for LOYALTY_SEGMENT_CACHE_SECONDS (README.md "Segments").
    """
    from django.conf import settings
    from django.core.cache import cache

    offer_pks: set[int] = set()
    for segment_pk, version, offers in segments_with_offers():
        key = segment_membership_cache_key(
            segment_pk=segment_pk, version=version, member_pk=member.pk
        )
        inside = cache.get(key)
        if inside is None:
            segment = Segment.objects.filter(pk=segment_pk, version=version).first()
            try:
                inside = segment is not None and (
                    segment_members(segment=segment).filter(pk=member.pk).exists()
                )
            except SegmentRulesError:
                inside = False
            cache.set(key, inside, settings.LOYALTY_SEGMENT_CACHE_SECONDS)
        if inside:
            offer_pks.update(offers)
    return sorted(offer_pks)


def segment_offers_for_user(*, user: User | AnonymousUser | None) -> list:
    """The available offers of every segment the signed-in member belongs to."""
    from oscar.core.loading import get_model

    if user is None or not user.is_authenticated or not segments_with_offers():
        return []
    member = member_for_user(user=user)
    if member is None:
        return []
    offer_pks = segment_offer_pks_for_member(member=member)
    if not offer_pks:
        return []
    offer_model = get_model("offer", "ConditionalOffer")
    return [
        offer
        for offer in offer_model.objects.filter(pk__in=offer_pks).order_by("pk")
        if offer.is_available()
    ]
