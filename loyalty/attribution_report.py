"""A campaign's attribution report: reads its members' touchpoints and orders, then applies
the pure models of loyalty.attribution (README.md "Attribution"). Writes nothing.

The period: from the campaign's launch (or its first message, or first UTM landing) to its
last message or landing plus its conversion window. Conversions are the orders (online and
click & collect) placed in that period by the members it reached — those it was sent to
(not the control group) and those who landed on the shop from an address with its UTM tags
(a poster, a post, a shared link: loyalty.services.landings) — with at least one of the
campaign's touchpoints inside their window; each order is shared between every touchpoint
of the member inside the window (other campaigns, referral links, store visits too). A
landing on the day the member clicked the campaign's tracked link is that click's (the
link lands with the tags), counted once, as the click. The lift compares the share of sent
members and of control members who ordered in the same period.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from loyalty.attribution import (
    CLICKED,
    MODEL_LABELS,
    MODELS,
    OPENED,
    REFERRAL,
    SENT,
    STORE_VISIT,
    UTM_LANDING,
    Lift,
    Touchpoint,
    campaign_credit,
    lift_compute,
    money_share,
    touches_in_window,
)
from loyalty.models import (
    Campaign,
    CampaignRecipient,
    CampaignSend,
    CampaignSendStatus,
    Member,
    MemberStats,
    Referral,
    UtmLanding,
)
from stores.selectors import PICKUP_SHIPPING_CODE, saved_store_ids, store_names, store_visits

# A message that went out: delivered, or on its way (the outbox delivers it).
MESSAGE_OUT = (CampaignSendStatus.PENDING, CampaignSendStatus.SENT)


@dataclass
class ModelTotal:
    model: str
    label: str
    orders: float = 0.0
    revenue: Decimal = Decimal("0.00")
    height: int = 0


@dataclass
class CreditedOrder:
    number: str
    placed_at: datetime
    amount: Decimal
    member_number: str
    store: str
    click_and_collect: bool
    # {model: share of the order credited to the campaign}
    shares: dict[str, float] = field(default_factory=dict)

    def share_list(self) -> list[float]:
        return [self.shares[model] for model in MODELS]


@dataclass
class StoreRow:
    store: str
    orders: dict[str, float] = field(default_factory=dict)
    lift: Lift | None = None

    def order_list(self) -> list[float]:
        return [self.orders.get(model, 0.0) for model in MODELS]


@dataclass
class AttributionReport:
    campaign: Campaign
    window_days: int
    start: datetime | None = None
    end: datetime | None = None
    totals: list[ModelTotal] = field(default_factory=list)
    orders: list[CreditedOrder] = field(default_factory=list)
    lift: Lift | None = None
    stores: list[StoreRow] = field(default_factory=list)


def _period(campaign: Campaign, window: timedelta) -> tuple[datetime, datetime] | None:
    sends = CampaignSend.objects.filter(campaign=campaign, status__in=MESSAGE_OUT).aggregate(
        first=Min("created_at"), last=Max("created_at")
    )
    landings = UtmLanding.objects.filter(campaign=campaign).aggregate(
        first=Min("landed_at"), last=Max("landed_at")
    )
    first = min(filter(None, [sends["first"], landings["first"]]), default=None)
    start = campaign.launched_at or first
    if start is None:
        return None
    last = max(filter(None, [sends["last"], landings["last"], campaign.finished_at, start]))
    return start, min(last + window, max(timezone.now(), start))


def _touchpoints(
    members: dict[int, int], member_ids, user_ids, start: datetime, end: datetime
) -> dict[int, list[Touchpoint]]:
    """{member id: touchpoints between start and end} for the members of the subqueries;
    `members` maps user ids to member ids."""
    touches: dict[int, list[Touchpoint]] = defaultdict(list)
    clicked_days: set[tuple[int, int, date]] = set()
    sends = CampaignSend.objects.filter(member_id__in=member_ids, status__in=MESSAGE_OUT)
    rows = sends.filter(
        Q(created_at__range=(start, end))
        | Q(opened_at__range=(start, end))
        | Q(clicked_at__range=(start, end))
    ).values_list("member_id", "campaign_id", "channel", "created_at", "opened_at", "clicked_at")
    for member_id, campaign_id, channel, sent_at, opened_at, clicked_at in rows.iterator(
        chunk_size=5000
    ):
        for kind, at in ((SENT, sent_at), (OPENED, opened_at), (CLICKED, clicked_at)):
            if at is not None:
                touches[member_id].append(Touchpoint(at, kind, campaign_id, channel))
        if clicked_at is not None:
            clicked_days.add((member_id, campaign_id, timezone.localdate(clicked_at)))
    landings = UtmLanding.objects.filter(
        user_id__in=user_ids, landed_at__range=(start, end)
    ).values_list("user_id", "campaign_id", "day", "landed_at", "medium")
    for user_id, campaign_id, day, at, medium in landings.iterator(chunk_size=5000):
        landed = members.get(user_id)
        if landed is not None and (landed, campaign_id, day) not in clicked_days:
            touches[landed].append(Touchpoint(at, UTM_LANDING, campaign_id, medium))
    referrals = Referral.objects.filter(
        friend_id__in=member_ids, created_at__range=(start, end)
    ).values_list("friend_id", "created_at")
    for member_id, at in referrals:
        touches[member_id].append(Touchpoint(at, REFERRAL))
    for user_id, at, store_id in store_visits(user_ids=user_ids, start=start, end=end):
        if user_id in members:
            touches[members[user_id]].append(Touchpoint(at, STORE_VISIT, channel=str(store_id)))
    return touches


def _home_stores(members: dict[int, int], user_ids, member_ids) -> dict[int, int]:
    """{member id: home store id}: the store they saved, else their last pickup store."""
    last_pickup = dict(
        MemberStats.objects.filter(
            member_id__in=member_ids, last_pickup_store__isnull=False
        ).values_list("member_id", "last_pickup_store_id")
    )
    saved = {members[u]: s for u, s in saved_store_ids(user_ids=user_ids).items() if u in members}
    return {**last_pickup, **saved}


def campaign_attribution(*, campaign: Campaign) -> AttributionReport:
    """The campaign's orders under each model, the lift against its control group, and both
    per store (the pickup store of a click & collect order, else the member's home store)."""
    window = timedelta(days=campaign.attribution_window_days)
    report = AttributionReport(campaign=campaign, window_days=campaign.attribution_window_days)
    report.totals = [ModelTotal(model, str(MODEL_LABELS[model])) for model in MODELS]
    period = _period(campaign, window)
    if period is None:
        return report
    start, end = report.start, report.end = period

    recipients = CampaignRecipient.objects.filter(campaign=campaign)
    # Reached: its recipients, and whoever landed with its UTM tags (the lift compares the
    # recipients only).
    landed = UtmLanding.objects.filter(campaign=campaign, landed_at__range=(start - window, end))
    reached = Member.objects.filter(
        Q(pk__in=recipients.values("member_id")) | Q(user_id__in=landed.values("user_id"))
    )
    member_ids = reached.values("pk")
    user_ids = reached.values("user_id")
    members = dict(reached.values_list("user_id", "pk"))
    numbers: dict[int, str] = {}
    recipient_ids = set(recipients.values_list("member_id", flat=True))
    control = set(recipients.filter(is_control=True).values_list("member_id", flat=True))
    treated = recipient_ids - control

    orders = (
        get_model("order", "Order")
        .objects.filter(user_id__in=user_ids, date_placed__range=(start, end))
        .order_by("date_placed", "pk")
        .values_list("number", "user_id", "date_placed", "total_incl_tax", "shipping_code")
    )
    pickup_stores = dict(
        get_model("order", "Order")
        .objects.filter(user_id__in=user_ids, date_placed__range=(start, end))
        .filter(pickup__isnull=False)
        .values_list("number", "pickup__store_id")
    )
    home = _home_stores(members, user_ids, member_ids)
    touches = _touchpoints(members, member_ids, user_ids, start - window, end)

    converted: dict[bool, set[int]] = {True: set(), False: set()}
    store_converted: dict[tuple[int | None, bool], set[int]] = defaultdict(set)
    store_orders: dict[int | None, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    credited: list[tuple] = []
    for number, user_id, placed, amount, shipping_code in orders:
        member_id = members[user_id]
        if member_id in recipient_ids:
            is_control = member_id in control
            converted[is_control].add(member_id)
            store_converted[(home.get(member_id), is_control)].add(member_id)
        # The control group got no message: only a landing can credit their orders.
        mine = touches_in_window(touches.get(member_id, []), converted_at=placed, window=window)
        if not any(touch.campaign_id == campaign.pk for touch in mine):
            continue
        shares = {
            model: campaign_credit(
                model, mine, campaign_id=campaign.pk, converted_at=placed, window=window
            )
            for model in MODELS
        }
        store_id = pickup_stores.get(number, home.get(member_id))
        credited.append((number, member_id, placed, amount, shipping_code, store_id, shares))

    for member_id, number in Member.objects.filter(pk__in={row[1] for row in credited}).values_list(
        "pk", "number"
    ):
        numbers[member_id] = number
    names = store_names(store_ids={s for _k, s in home.items()} | set(pickup_stores.values()))
    no_store = _("No store")
    for number, member_id, placed, amount, shipping_code, store_id, shares in credited:
        report.orders.append(
            CreditedOrder(
                number=number,
                placed_at=placed,
                amount=amount,
                member_number=numbers.get(member_id, ""),
                store=names.get(store_id, no_store),
                click_and_collect=number in pickup_stores or shipping_code == PICKUP_SHIPPING_CODE,
                shares=shares,
            )
        )
        for total in report.totals:
            total.orders += shares[total.model]
            total.revenue += money_share(amount, shares[total.model])
            store_orders[store_id][total.model] += shares[total.model]
    top = max([t.orders for t in report.totals] + [1e-9])
    for total in report.totals:
        total.height = int(100 * total.orders / top) if total.orders > 0 else 0

    report.lift = lift_compute(
        treated=len(treated),
        treated_converted=len(converted[False]),
        control=len(control),
        control_converted=len(converted[True]),
    )
    store_ids = {home.get(m) for m in recipient_ids} | set(store_orders)
    for store_id in sorted(
        store_ids, key=lambda s: (s is None, "" if s is None else names.get(s, ""))
    ):
        in_store = {m for m in recipient_ids if home.get(m) == store_id}
        report.stores.append(
            StoreRow(
                store=no_store if store_id is None else names.get(store_id, no_store),
                orders=dict(store_orders.get(store_id, {})),
                lift=lift_compute(
                    treated=len(in_store - control),
                    treated_converted=len(store_converted[(store_id, False)]),
                    control=len(in_store & control),
                    control_converted=len(store_converted[(store_id, True)]),
                ),
            )
        )
    return report
