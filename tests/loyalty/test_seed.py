"""seed_demo enrols the demo shopper with a year of loyalty history (shop/demo/loyalty.py)."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from oscar.core.loading import get_model

from loyalty.attribution_report import campaign_attribution
from loyalty.models import (
    Campaign,
    CampaignRecipient,
    CampaignSend,
    CampaignSendStatus,
    CampaignStatus,
    Member,
    PointsEntry,
    Segment,
    Tier,
)
from loyalty.recommendations import member_recommendations_explained
from loyalty.selectors import member_summary, segment_members
from loyalty.services.campaigns import campaign_counts

pytestmark = pytest.mark.django_db


def test_the_demo_shopper_has_a_year_of_history_and_seeding_again_adds_nothing():
    call_command("seed_demo", stdout=io.StringIO())
    entries = PointsEntry.objects.count()

    output = io.StringIO()
    call_command("seed_demo", stdout=output)

    shopper = get_user_model().objects.get(email="shopper@solomo.example")
    summary = member_summary(user=shopper)
    assert summary.member.tier == Tier.GOLD
    assert summary.member.balance > 0
    assert summary.member.pending > 0
    assert summary.expiring_points > 0
    assert summary.referrals == 1
    assert len(summary.vouchers) == 1
    assert len([bar for bar in summary.spend_by_month if bar.value]) >= 10
    assert PointsEntry.objects.count() == entries
    # The demo's two members, beside the synthetic customers (tests below).
    assert Member.objects.exclude(user__username__startswith="pop2026-").count() == 2
    assert "Loyalty: 0 members enrolled" in output.getvalue()


def test_the_demo_has_segments_and_one_finished_campaign_with_opens_clicks_and_orders():
    output = io.StringIO()
    call_command("seed_demo", stdout=output)

    customers = Member.objects.filter(user__username__startswith="pop2026-")
    assert customers.count() == 48
    names = set(Segment.objects.values_list("name", flat=True))
    assert {
        "Gold members near Strasbourg",
        "Lapsed 90 days",
        "Bought coffee in the last 30 days",
        "Birthday this month",
    } <= names
    lapsed = Segment.objects.get(name="Lapsed 90 days")
    campaign = Campaign.objects.get(segment=lapsed)
    assert campaign.status == CampaignStatus.FINISHED
    assert (campaign.reward_kind, campaign.reward_points, campaign.control_percent) == (
        "points",
        50,
        30,
    )
    figures = campaign_counts(campaign=campaign)
    audience = segment_members(rules=lapsed.rules).count()
    assert figures["audience"] == audience > 0
    assert (
        figures["control"]
        == CampaignRecipient.objects.filter(campaign=campaign, is_control=True).count()
    )
    sends = CampaignSend.objects.filter(campaign=campaign)
    messaged = sends.filter(status=CampaignSendStatus.PENDING)
    assert figures["members_messaged"] == messaged.count() > 0
    # Members without e-mail consent are skipped; the control group gets nothing (R31).
    assert not sends.filter(
        member__in=CampaignRecipient.objects.filter(campaign=campaign, is_control=True).values(
            "member"
        )
    ).exists()
    assert figures["opened"] == (messaged.count() + 1) // 2
    assert figures["clicked"] == (messaged.count() + 3) // 4
    # Each member messaged got the bonus once, in the ledger, and one outbox message in
    # their language.
    assert (
        PointsEntry.objects.filter(idempotency_key__startswith=f"campaign:{campaign.pk}:").count()
        == messaged.count()
    )
    assert all(send.outbox_message.language in ("en", "fr") for send in messaged)
    # Orders through its links (README "Attribution"): up to three after a click, one after
    # an open by a member a friend referred the day before, and one in the control group.
    orders = get_model("order", "Order").objects.filter(number__startswith="DEMO-C")
    clicked_orders = min(3, figures["clicked"])
    assert orders.count() == clicked_orders + 2
    report = campaign_attribution(campaign=campaign)
    assert len(report.orders) == clicked_orders + 1
    assert sorted(o.number for o in report.orders) == sorted(
        orders.exclude(
            user__loyalty_member__in=CampaignRecipient.objects.filter(
                campaign=campaign, is_control=True
            ).values("member")
        ).values_list("number", flat=True)
    )
    referred = [o for o in report.orders if o.shares["first_touch"] == 0]
    assert len(referred) == 1
    assert referred[0].shares["last_touch"] == 1.0
    assert round(referred[0].shares["linear"], 9) == round(2 / 3, 9)
    assert all(o.shares == dict.fromkeys(o.shares, 1.0) for o in report.orders if o not in referred)
    assert (report.lift.treated_converted, report.lift.control_converted) == (
        clicked_orders + 1,
        1,
    )
    assert report.lift.treated == figures["audience"] - figures["control"]
    assert f"campaign figures: {figures['audience']} in the audience" in output.getvalue()

    call_command("seed_demo", stdout=io.StringIO())

    assert (
        Campaign.objects.count() == 1 and sends.count() == figures["audience"] - figures["control"]
    )
    assert customers.count() == 48


def test_the_demo_shopper_sees_for_you_products_and_a_marketer_sees_why(client):
    call_command("seed_demo", stdout=io.StringIO())
    shopper = get_user_model().objects.get(email="shopper@solomo.example")
    member = Member.objects.get(user=shopper)
    explained = member_recommendations_explained(member=member)

    client.force_login(shopper)
    home = client.get("/").content.decode()

    assert len(explained) == 12
    assert all(row.why for row in explained)
    assert 'id="for-you"' in home
    shown = re.findall(
        r'product-card__title"><a href="[^"]*">([^<]*)</a>',
        home.split('id="for-you"')[1].split("</section>")[0],
    )
    assert len(shown) == 8
    assert set(shown) <= {row.product.get_title() for row in explained}
