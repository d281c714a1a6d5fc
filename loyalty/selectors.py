"""Reads of the loyalty app."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from loyalty.models import (
    EarningRule,
    EntryKind,
    Member,
    Multiplier,
    PointsAdjustment,
    PointsAdjustmentDecision,
    Redemption,
    Reward,
    Segment,
    Tier,
    TierLevel,
)
from loyalty.segments import SegmentRulesError, rules_q, rules_validate

TIER_ORDER: list[str] = [Tier.BRONZE, Tier.SILVER, Tier.GOLD]
CENT = Decimal("0.01")
ROLLING_DAYS = 365


def earning_rule() -> EarningRule:
    """The programme's earning rule (created with its defaults the first time)."""
    rule, _created = EarningRule.objects.get_or_create(pk=1)
    return rule


@dataclass(frozen=True)
class RedemptionRule:
    """What points are worth at checkout, as the marketers set it (EarningRule)."""

    point_value: Decimal
    min_points: int
    max_share: Decimal


class _RequestCache(threading.local):
    # Only while an HTTP request is served (receivers.py starts and ends it): a checkout
    # asks several times per request and must see one value throughout, while a worker
    # or a shell, living on, must see a marketer's change at once.
    active = False
    redemption_rule: RedemptionRule | None = None


_request_cache = _RequestCache()


def request_cache_reset(*, active: bool | None = None) -> None:
    """Forget the cached rules; `active`: whether to cache from now on (None: unchanged)."""
    if active is not None:
        _request_cache.active = active
    _request_cache.redemption_rule = None


def redemption_rule() -> RedemptionRule:
    """The redemption rule: one query per HTTP request, a fresh read outside requests."""
    cached = _request_cache.redemption_rule
    if cached is not None:
        return cached
    rule = earning_rule()
    current = RedemptionRule(
        point_value=rule.point_value,
        min_points=rule.redeem_min_points,
        max_share=rule.redeem_max_share,
    )
    if _request_cache.active:
        _request_cache.redemption_rule = current
    return current


def multipliers_active() -> list[Multiplier]:
    return list(Multiplier.objects.filter(is_active=True).select_related("category", "range"))


def tier_levels() -> dict[str, TierLevel]:
    return {level.tier: level for level in TierLevel.objects.select_related("offer")}


def member_for_user(*, user: User | AnonymousUser | None) -> Member | None:
    if user is None or not user.is_authenticated:
        return None
    return Member.objects.filter(user=user).first()


def tier_offers_for_user(*, user: User | AnonymousUser | None) -> list:
    """The tier's USER offer for a signed-in member, for the offer Applicator."""
    member = member_for_user(user=user)
    if member is None:
        return []
    level = TierLevel.objects.filter(tier=member.tier).select_related("offer").first()
    if level is None or level.offer is None or level.discount_percent <= 0:
        return []
    return [level.offer] if level.offer.is_available() else []


def rolling_spend(*, member: Member, at: datetime | None = None) -> Decimal:
    """What the member spent on orders over the last 12 months (cancelled excluded)."""
    from django.conf import settings
    from oscar.core.loading import get_model

    order_model = get_model("order", "Order")
    at = at or timezone.now()
    total = (
        order_model.objects.filter(
            user_id=member.user_id,
            date_placed__gt=at - timedelta(days=ROLLING_DAYS),
            date_placed__lte=at,
        )
        .exclude(status__in=settings.LOYALTY_VOID_ORDER_STATUSES)
        .aggregate(total=Sum("total_incl_tax"))["total"]
    )
    # SQLite sums decimals as floats; money is shown to the cent.
    return (total or Decimal(0)).quantize(CENT)


def rolling_points(*, member: Member, at: datetime | None = None) -> int:
    """Points earned (orders and bonuses, not staff adjustments) over the last 12 months."""
    at = at or timezone.now()
    earned = member.entries.filter(
        Q(kind=EntryKind.EARN) | Q(kind=EntryKind.BONUS),
        created_at__gt=at - timedelta(days=ROLLING_DAYS),
        created_at__lte=at,
    ).aggregate(total=Sum("amount"))["total"]
    reversed_ = member.entries.filter(
        kind=EntryKind.REVERSAL,
        amount__lt=0,
        created_at__gt=at - timedelta(days=ROLLING_DAYS),
        created_at__lte=at,
    ).aggregate(total=Sum("amount"))["total"]
    return max((earned or 0) + (reversed_ or 0), 0)


# --- The member's page -----------------------------------------------------------------


@dataclass
class Bar:
    """One bar of a server-rendered SVG chart (height in % of the tallest)."""

    label: str
    value: Decimal | int
    height: int
    second: Decimal | int = 0
    second_height: int = 0


@dataclass
class MemberSummary:
    member: Member
    tier_label: str | Promise
    next_tier_label: str | Promise | None
    next_tier_spend: Decimal | None
    next_tier_points: int | None
    progress_percent: int
    spend_12m: Decimal
    points_12m: int
    expiring_points: int
    expiring_at: datetime | None
    history: list = field(default_factory=list)
    # RewardOffer rows: what the member may redeem now, and why not.
    rewards: list = field(default_factory=list)
    vouchers: list = field(default_factory=list)
    referrals: int = 0
    referred: bool = False
    spend_by_month: list[Bar] = field(default_factory=list)
    spend_by_category: list[Bar] = field(default_factory=list)
    points_by_month: list[Bar] = field(default_factory=list)


def _bars(rows: Sequence[tuple[str, Decimal | int, Decimal | int]]) -> list[Bar]:
    top = max([max(a, b) for _label, a, b in rows] + [1])
    return [
        Bar(
            label=label,
            value=a,
            height=int(100 * a / top) if a > 0 else 0,
            second=b,
            second_height=int(100 * b / top) if b > 0 else 0,
        )
        for label, a, b in rows
    ]


def _months(at: datetime) -> list[date]:
    first = timezone.localtime(at).date().replace(day=1)
    months = []
    for _i in range(12):
        months.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return list(reversed(months))


def member_summary(*, user: User | AnonymousUser, at: datetime | None = None):
    """Everything the member's page shows, or None for a customer who has not joined."""
    from django.conf import settings
    from django.db.models.functions import TruncMonth
    from django.utils.formats import date_format
    from oscar.core.loading import get_model

    from loyalty.models import PointsLot, Referral

    member = member_for_user(user=user)
    if member is None:
        return None
    at = at or timezone.now()
    levels = tier_levels()
    spend = rolling_spend(member=member, at=at)
    points = rolling_points(member=member, at=at)
    rank = TIER_ORDER.index(member.tier)
    next_level = levels.get(TIER_ORDER[rank + 1]) if rank + 1 < len(TIER_ORDER) else None
    progress = 100
    if next_level is not None:
        shares = []
        if next_level.min_spend > 0:
            shares.append(spend / next_level.min_spend)
        if next_level.min_points > 0:
            shares.append(Decimal(points) / next_level.min_points)
        progress = int(min(max(shares + [Decimal(0)]), Decimal(1)) * 100)

    soon = at + timedelta(days=settings.LOYALTY_EXPIRY_NOTICE_DAYS)
    expiring = PointsLot.objects.filter(
        member=member, remaining__gt=0, expires_at__gt=at, expires_at__lte=soon
    ).order_by("expires_at")
    expiring_points = sum(lot.remaining for lot in expiring)

    months = _months(at)
    since = timezone.make_aware(datetime.combine(months[0], datetime.min.time()))
    order_model = get_model("order", "Order")
    line_model = get_model("order", "Line")
    orders = order_model.objects.filter(user_id=member.user_id, date_placed__gte=since).exclude(
        status__in=settings.LOYALTY_VOID_ORDER_STATUSES
    )
    by_month = {
        row["month"].date() if isinstance(row["month"], datetime) else row["month"]: (
            row["total"] or Decimal(0)
        ).quantize(CENT)
        for row in orders.annotate(month=TruncMonth("date_placed"))
        .values("month")
        .annotate(total=Sum("total_incl_tax"))
    }
    spend_rows = [
        (date_format(m, "M"), by_month.get(m) or Decimal("0.00"), Decimal(0)) for m in months
    ]
    categories: dict[str, Decimal] = {}
    lines = line_model.objects.filter(order__in=orders).select_related("product")
    for line in lines.prefetch_related("product__categories", "product__parent__categories"):
        product = line.product
        category = None
        if product is not None:
            cats = list(product.categories.all()) or (
                list(product.parent.categories.all()) if product.parent_id else []
            )
            category = cats[0].name if cats else None
        name = category or "—"
        categories[name] = categories.get(name, Decimal("0.00")) + line.line_price_incl_tax
    category_rows = sorted(categories.items(), key=lambda kv: kv[1], reverse=True)[:6]

    earned: dict[date, int] = {}
    used: dict[date, int] = {}
    entries = (
        member.entries.filter(created_at__gte=since)
        .annotate(month=TruncMonth("created_at"))
        .values("month", "amount")
    )
    for row in entries:
        month = row["month"].date() if isinstance(row["month"], datetime) else row["month"]
        if row["amount"] > 0:
            earned[month] = earned.get(month, 0) + row["amount"]
        else:
            used[month] = used.get(month, 0) - row["amount"]
    points_rows = [(date_format(m, "M"), earned.get(m, 0), used.get(m, 0)) for m in months]

    return MemberSummary(
        member=member,
        tier_label=Tier(member.tier).label,
        next_tier_label=Tier(next_level.tier).label if next_level else None,
        next_tier_spend=max(next_level.min_spend - spend, Decimal(0)) if next_level else None,
        next_tier_points=max(next_level.min_points - points, 0) if next_level else None,
        progress_percent=progress,
        spend_12m=spend,
        points_12m=points,
        expiring_points=expiring_points,
        expiring_at=expiring[0].expires_at if expiring_points else None,
        history=entries_labelled(list(member.entries.all()[:20])),
        rewards=reward_offers(member=member, at=at),
        vouchers=[
            r.voucher
            for r in Redemption.objects.filter(member=member).select_related("voucher", "reward")
            if r.voucher.num_orders == 0 and r.voucher.end_datetime > at
        ],
        referrals=Referral.objects.filter(referrer=member).count(),
        referred=Referral.objects.filter(friend=member).exists(),
        spend_by_month=_bars(spend_rows),
        spend_by_category=_bars([(name, total, Decimal(0)) for name, total in category_rows]),
        points_by_month=_bars(points_rows),
    )


# --- The member counter (dashboard) ------------------------------------------------------


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
    # Imported here: gift_link_selectors imports this module.
    from loyalty.gift_link_selectors import gift_link_labels

    by_entry.update(gift_link_labels(ids))
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


# --- Segments --------------------------------------------------------------------------


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


def segment_offers_for_user(*, user: User | AnonymousUser | None) -> list:
    """The available offers of every segment the signed-in member belongs to.

    Membership is computed when the basket is priced and cached per member and segment
    version for LOYALTY_SEGMENT_CACHE_SECONDS (README.md "Segments").
    """
    from django.conf import settings
    from django.core.cache import cache
    from oscar.core.loading import get_model

    if user is None or not user.is_authenticated:
        return []
    segments = segments_with_offers()
    if not segments:
        return []
    member = member_for_user(user=user)
    if member is None:
        return []
    offer_pks: set[int] = set()
    for segment_pk, version, offers in segments:
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
    if not offer_pks:
        return []
    offer_model = get_model("offer", "ConditionalOffer")
    return [
        offer
        for offer in offer_model.objects.filter(pk__in=offer_pks).order_by("pk")
        if offer.is_available()
    ]


# --- Rewards (README, "Rewards") -----------------------------------------------------------


def moment_format(at: datetime) -> str:
    """A date and time in the active language's formats, in the shop's time zone."""
    local = timezone.localtime(at)
    return f"{date_format(local, 'DATE_FORMAT')} {time_format(local, 'TIME_FORMAT')}"


def reward_refusal(*, reward: Reward, redeemed: int, at: datetime) -> str | None:
    """Why `reward` cannot be redeemed now by a member who redeemed it `redeemed` times,
    or None when it can (points aside: the ledger says when they are too few)."""
    if not reward.is_active:
        return _("This reward is paused for now.")
    if reward.valid_from is not None and at < reward.valid_from:
        return _("This reward is offered from %(moment)s.") % {
            "moment": moment_format(reward.valid_from)
        }
    if reward.valid_until is not None and at >= reward.valid_until:
        return _("This reward was offered until %(moment)s.") % {
            "moment": moment_format(reward.valid_until)
        }
    if reward.stock is not None and reward.stock <= 0:
        return _("This reward is out of stock.")
    if reward.per_member_limit is not None and redeemed >= reward.per_member_limit:
        return ngettext(
            "You have redeemed this reward %(count)s time, the most allowed per member.",
            "You have redeemed this reward %(count)s times, the most allowed per member.",
            redeemed,
        ) % {"count": redeemed}
    return None


@dataclass(frozen=True)
class RewardOffer:
    """A reward as one member sees it: None as `refusal` when they may redeem it now."""

    reward: Reward
    redeemed: int
    refusal: str | None
    # Points the member still needs for it.
    missing: int = 0

    @property
    def few_left(self) -> bool:
        return self.reward.stock is not None and 0 < self.reward.stock <= 10


def reward_offers(*, member: Member, at: datetime | None = None) -> list[RewardOffer]:
    """Active rewards not past their end, with the member's redemptions of each (1 query)."""
    at = at or timezone.now()
    rewards = (
        Reward.objects.filter(is_active=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=at))
        .annotate(redeemed=Count("redemptions", filter=Q(redemptions__member=member)))
    )
    return [
        RewardOffer(
            reward=reward,
            redeemed=reward.redeemed,
            refusal=reward_refusal(reward=reward, redeemed=reward.redeemed, at=at),
            missing=max(reward.points_cost - member.balance, 0),
        )
        for reward in rewards
    ]


def rewards_for_dashboard() -> QuerySet[Reward]:
    """Every reward with its redemptions count, for the marketers' list (1 query)."""
    return Reward.objects.annotate(redemptions_count=Count("redemptions")).select_related("product")


def redemptions_count(*, member: Member, reward: Reward) -> int:
    return Redemption.objects.filter(member=member, reward=reward).count()


def campaigns_with_counts() -> QuerySet:
    """Campaigns, newest first, each with `audience_count`, `messaged_count`,
    `opened_count` and `clicked_count` (rows, as campaign_counts counts them): one query."""
    from django.db.models import Count, IntegerField, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    from loyalty.models import Campaign, CampaignRecipient, CampaignSend, CampaignSendStatus

    def counted(queryset) -> Coalesce:
        rows = queryset.filter(campaign=OuterRef("pk")).order_by().values("campaign")
        return Coalesce(
            Subquery(rows.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0
        )

    sends = CampaignSend.objects.all()
    return Campaign.objects.select_related("segment").annotate(
        audience_count=counted(CampaignRecipient.objects.all()),
        messaged_count=counted(
            sends.filter(
                status__in=[
                    CampaignSendStatus.PENDING,
                    CampaignSendStatus.SENT,
                    CampaignSendStatus.FAILED,
                ]
            )
        ),
        opened_count=counted(sends.filter(opened_at__isnull=False)),
        clicked_count=counted(sends.filter(clicked_at__isnull=False)),
    )
