"""A campaign's attribution report (loyalty/attribution_report.py) and its dashboard pages."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model
from oscar.test.factories import create_order

from loyalty.attribution import LAST_TOUCH, MODELS, TIME_DECAY
from loyalty.attribution_report import campaign_attribution
from loyalty.models import (
    CampaignRecipient,
    CampaignSend,
    CampaignSendStatus,
    CampaignStatus,
    Referral,
)
from stores.models import StorePreference
from tests.loyalty.campaign_helpers import campaign_for
from tests.loyalty.factories import member_factory
from tests.roles import role_user
from tests.stores.factories import pickup_order, store

pytestmark = pytest.mark.django_db

Order = get_model("order", "Order")
DAY = timedelta(days=1)


def _placed(order, at):
    Order.objects.filter(pk=order.pk).update(date_placed=at)
    order.refresh_from_db()
    return order


@pytest.fixture
def world():
    """A campaign launched 20 days ago with a 7-day window: four members sent it, two in the
    control group. m1 clicked and ordered online the next day; m2 came through a referral link
    the day before, was sent it, and ordered for pickup at Centre two days after; m3 ordered
    on day 8 (outside the window); m5 did not order; control c1 ordered on day 3."""
    launched = timezone.now().replace(microsecond=0) - 20 * DAY
    campaign = campaign_for(control_percent=10, attribution_window_days=7)
    campaign.status, campaign.launched_at = CampaignStatus.FINISHED, launched
    campaign.finished_at = launched + timedelta(hours=1)
    campaign.save()
    centre = store("Centre")
    members = {name: member_factory() for name in ("m1", "m2", "m3", "m5", "c1", "c2")}
    for name, member in members.items():
        CampaignRecipient.objects.create(
            campaign=campaign, member=member, is_control=name.startswith("c")
        )
        if not name.startswith("c"):
            CampaignSend.objects.create(
                campaign=campaign,
                member=member,
                channel="email",
                status=CampaignSendStatus.SENT,
                created_at=launched,
                opened_at=launched + timedelta(hours=1) if name == "m1" else None,
                clicked_at=launched + timedelta(hours=2) if name == "m1" else None,
            )
    Referral.objects.create(
        referrer=member_factory(), friend=members["m2"], created_at=launched - DAY
    )
    StorePreference.objects.create(user=members["m2"].user, store=centre)
    orders = {
        "m1": _placed(create_order(user=members["m1"].user), launched + DAY),
        "m2": _placed(pickup_order(centre, user=members["m2"].user).order, launched + 2 * DAY),
        "m3": _placed(create_order(user=members["m3"].user), launched + 8 * DAY),
        "c1": _placed(create_order(user=members["c1"].user), launched + 3 * DAY),
    }
    return campaign, members, orders


def test_the_report_credits_orders_in_the_window_under_each_model_with_the_lift(world):
    campaign, members, orders = world

    report = campaign_attribution(campaign=campaign)

    # Only m1's and m2's orders: m3 ordered after the window, c1 is in the control group.
    assert [o.number for o in report.orders] == [orders["m1"].number, orders["m2"].number]
    m1, m2 = report.orders
    assert m1.shares == dict.fromkeys(MODELS, 1.0)
    assert (m1.store, m1.click_and_collect) == ("No store", False)
    # m2: the referral link 3 days before the order, the campaign's message 2 days before.
    referral, message = 2 ** (-3 / 7), 2 ** (-2 / 7)
    assert {model: round(share, 9) for model, share in m2.shares.items()} == {
        "last_touch": 1.0,
        "first_touch": 0.0,
        "linear": 0.5,
        "time_decay": round(message / (referral + message), 9),
        "position_based": 0.5,
    }
    assert (m2.store, m2.click_and_collect, m2.member_number) == (
        "Centre",
        True,
        members["m2"].number,
    )
    totals = {t.model: t for t in report.totals}
    assert totals[LAST_TOUCH].orders == 2.0
    assert totals[LAST_TOUCH].revenue == orders["m1"].total_incl_tax + orders["m2"].total_incl_tax
    assert round(totals[TIME_DECAY].orders, 9) == round(1 + message / (referral + message), 9)
    # Lift: 2 of the 4 sent ordered in the period (m3's order is after it), 1 of 2 controls.
    lift = report.lift
    assert (lift.treated, lift.treated_converted, lift.control, lift.control_converted) == (
        4,
        2,
        2,
        1,
    )
    assert lift.difference == 0.0
    assert lift.low < 0 < lift.high
    # Per store: m2's order at its pickup store, m1's with no store; lift by home store.
    centre, no_store = report.stores
    assert (centre.store, centre.order_list(), centre.lift) == (
        "Centre",
        [m2.shares[model] for model in MODELS],
        None,
    )
    assert (no_store.store, no_store.order_list()) == ("No store", [1.0] * 5)
    assert (no_store.lift.treated, no_store.lift.treated_converted) == (3, 1)
    assert (no_store.lift.control, no_store.lift.control_converted) == (2, 1)


def test_a_marketer_opens_the_report_from_the_campaign_and_downloads_its_csv(world):
    campaign, members, orders = world
    client = Client()
    client.force_login(role_user("marketer", store_a=store("A"), store_b=store("B")))

    detail = client.get(
        reverse("loyalty_dashboard:loyalty-campaign-detail", kwargs={"pk": campaign.pk})
    )
    report_url = reverse(
        "loyalty_dashboard:loyalty-campaign-attribution", kwargs={"pk": campaign.pk}
    )
    assert f'href="{report_url}"' in detail.content.decode()

    page = client.get(report_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert orders["m1"].number in html and orders["m2"].number in html
    assert orders["m3"].number not in html and orders["c1"].number not in html
    assert "2 of 4 targeted members ordered, against 1 of 2 in the control group." in html
    assert 'data-model="last_touch">2.00 ·' in html

    export = client.get(
        reverse("loyalty_dashboard:loyalty-campaign-attribution-csv", kwargs={"pk": campaign.pk})
    )
    assert export["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0] == [
        "Order",
        "Placed",
        "Amount",
        "Member",
        "Store",
        "Click & collect",
        "Last touch",
        "First touch",
        "Linear",
        "Time decay",
        "Position-based 40/20/40",
    ]
    assert [row[0] for row in rows[1:]] == [orders["m1"].number, orders["m2"].number]
    assert (
        rows[1][2:]
        == [str(orders["m1"].total_incl_tax), members["m1"].number, "No store", "0"]
        + ["1.0000"] * 5
    )
    assert rows[2][6:9] == ["1.0000", "0.0000", "0.5000"]
    assert Decimal(rows[2][2]) == orders["m2"].total_incl_tax
