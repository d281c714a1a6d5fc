"""Demo marketing data: a few dozen synthetic customers, the demo segments, and one finished
campaign with sends, opens, clicks, orders placed after a click or an open, and an order in
its control group (for its attribution report).

The customers come from the synthetic population generator (loyalty/population/, seed
2026: usernames `pop2026-…`, no password), their statistics from the beat job's service.
The campaign goes through the campaign services as a marketer's would (draft, launch,
audience with a control group, batches, bonus points once per member); opens and clicks
through the services the tracking links call. Running it again adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from oscar.core.loading import get_model

from loyalty.campaign_messages import SendKey
from loyalty.models import (
    Campaign,
    CampaignRecipient,
    CampaignSend,
    CampaignSendStatus,
    Referral,
    Segment,
)
from loyalty.population import PopulationPlan, demo_segments_save, population_generate
from loyalty.services.campaigns import (
    campaign_audience_resolve,
    campaign_counts,
    campaign_launch,
    campaign_save,
    campaign_send_batch,
    campaign_send_clicked,
    campaign_send_opened,
)
from loyalty.services.earning import order_points_award
from loyalty.services.member_stats import member_stats_refresh
from loyalty.services.recommendations import recommendations_refresh
from shop.demo.loyalty import _history_order, _products

POPULATION = {"members": 48, "orders": 300, "seed": 2026, "batch": 48}
CAMPAIGN_NAME = "We miss you: 50 bonus points"
CAMPAIGN_SEGMENT = "Lapsed 90 days"
ORDER_PREFIX = "DEMO-C"
DELIVERY = {"shipping_code": "free-shipping", "shipping_method": "Free shipping"}
MESSAGES = {
    "en": {
        "subject": "{{ first_name }}, we miss you: 50 points for you",
        "body": (
            "Hello {{ first_name }},\n\nIt has been a while! We added 50 bonus points to your "
            "card: you now have {{ points }} points ({{ tier }}).\n\nYour store, "
            "{{ store }}, is open {{ store_hours }}.\n\nPicked for you: {{ recommended_products }}"
            "\n\nSee what is new: {{ link }}"
        ),
        "sms_text": "{{ first_name }}, 50 bonus points are waiting for you: {{ link }}",
        "link_url": "/catalogue/",
    },
    "fr": {
        "subject": "{{ first_name }}, vous nous manquez : 50 points pour vous",
        "body": (
            "Bonjour {{ first_name }},\n\nCela fait longtemps ! Nous avons ajouté 50 points "
            "à votre carte : vous en avez maintenant {{ points }} ({{ tier }}).\n\nVotre "
            "magasin, {{ store }}, est ouvert {{ store_hours }}.\n\nChoisis pour vous : "
            "{{ recommended_products }}\n\nNos nouveautés : {{ link }}"
        ),
        "sms_text": "{{ first_name }}, 50 points bonus vous attendent : {{ link }}",
        "link_url": "/catalogue/",
    },
}


@dataclass
class MarketingSeedResult:
    customers: int = 0
    segments: int = 0
    campaign: str = ""
    figures: dict | None = None
    recommended_members: int = 0


def _campaign_seed(segment: Segment) -> Campaign:
    """Draft, launch and send the campaign in this process, then opens, clicks and orders."""
    campaign = campaign_save(
        fields={
            "name": CAMPAIGN_NAME,
            "segment": segment,
            "channels": ["email"],
            # A large control group: the segment holds about fifteen customers, and the
            # attribution report's lift needs some of them held back.
            "control_percent": 30,
            "reward_kind": "points",
            "reward_points": 50,
        },
        messages=MESSAGES,
    )
    campaign = campaign_launch(campaign=campaign)
    campaign_audience_resolve(campaign=campaign)
    last = 0
    while (last := campaign_send_batch(campaign_id=campaign.pk, after_member_id=last)) is not None:
        pass
    # A campaign that ran ten days ago, so its conversion window is over and its attribution
    # report (README.md "Attribution") has something to say.
    launched = timezone.now() - timedelta(days=10)
    Campaign.objects.filter(pk=campaign.pk).update(
        launched_at=launched, finished_at=launched + timedelta(minutes=10)
    )
    CampaignSend.objects.filter(campaign=campaign).update(created_at=launched)
    sent = list(
        CampaignSend.objects.filter(campaign=campaign, status=CampaignSendStatus.PENDING)
        .select_related("member__user")
        .order_by("member_id")
    )
    # Every second reader opens it, every fourth clicks; three clickers order 25 minutes
    # later, one reader (who came through a friend's referral link first) two days after.
    orders = 0

    def order(user, placed, **shipping):
        nonlocal orders
        lines = [(item, 1) for item in _products(2, offset=3 + orders)]
        if not lines:
            return
        placed_order = _history_order(
            user=user, number=f"{ORDER_PREFIX}{orders + 1:03d}", placed=placed, lines=lines
        )
        if shipping:
            get_model("order", "Order").objects.filter(pk=placed_order.pk).update(**shipping)
        order_points_award(order=placed_order, at=placed)
        orders += 1

    clicked_buyers = 0
    for position, send in enumerate(sent):
        key = SendKey(campaign.pk, send.member_id, send.channel, send.occurrence)
        at = launched + timedelta(hours=1 + position)
        if position % 2 == 0:
            campaign_send_opened(key=key, at=at)
        if position % 4 == 0:
            campaign_send_clicked(key=key, at=at + timedelta(minutes=3))
            if clicked_buyers < 3:
                # The second of them has it delivered: online orders count as much as pickups.
                online = DELIVERY if clicked_buyers == 1 else {}
                order(send.member.user, at + timedelta(minutes=25), **online)
                clicked_buyers += 1
        elif position % 2 == 0 and clicked_buyers and orders == clicked_buyers:
            referrer = sent[0].member
            if not Referral.objects.filter(friend=send.member).exists():
                Referral.objects.create(
                    referrer=referrer, friend=send.member, created_at=launched - timedelta(days=1)
                )
            order(send.member.user, at + timedelta(days=2))
    # One member of the control group orders too, in the same window: the lift's baseline.
    control = (
        CampaignRecipient.objects.filter(campaign=campaign, is_control=True)
        .select_related("member__user")
        .order_by("member_id")
        .first()
    )
    if control is not None:
        order(control.member.user, launched + timedelta(days=3))
    return campaign


def marketing_seed() -> MarketingSeedResult:
    """Customers, segments and the finished campaign; idempotent."""
    result = MarketingSeedResult()
    plan = PopulationPlan(**POPULATION)
    result.customers = population_generate(plan=plan).members
    member_stats_refresh(at=timezone.now())
    # Everybody's "for you" products (the demo shopper's included), before the campaign
    # names them in its messages.
    result.recommended_members = recommendations_refresh(at=timezone.now(), full=True).members
    result.segments = sum(created for _name, created in demo_segments_save())
    existing = Campaign.objects.filter(name=CAMPAIGN_NAME).first()
    if (
        existing is None
        and get_model("order", "Order").objects.filter(number__startswith=ORDER_PREFIX).exists()
    ):
        return result
    segment = Segment.objects.filter(name=CAMPAIGN_SEGMENT).first()
    if existing is None and segment is not None:
        with transaction.atomic():
            existing = _campaign_seed(segment)
        result.campaign = CAMPAIGN_NAME
    if existing is not None:
        result.figures = campaign_counts(campaign=existing)
    return result
