"""README.md "Attribution": a landing on any page of the shop with a campaign's UTM tags
(a poster's QR code, a social post, a forwarded link) is a touchpoint of that campaign,
for the signed-in customer at once, for a visitor once they sign in
(loyalty/middleware.py, loyalty/services/landings.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone, translation
from oscar.core.loading import get_model
from oscar.test.factories import create_order

from loyalty.attribution import LAST_TOUCH, LINEAR, MODELS
from loyalty.attribution_report import campaign_attribution
from loyalty.models import (
    CampaignRecipient,
    CampaignSend,
    CampaignSendStatus,
    CampaignStatus,
    Referral,
    UtmLanding,
)
from loyalty.services.landings import (
    PENDING_MAX,
    PENDING_SESSION_KEY,
    Landing,
    utm_landing_record,
)
from shop.accounts.erasure import account_erase
from shop.accounts.export import export_collect
from tests.loyalty.campaign_helpers import campaign_for
from tests.loyalty.factories import member_factory

pytestmark = pytest.mark.django_db

Order = get_model("order", "Order")
PASSWORD = "skelebrain"  # oscar's UserFactory
TAGS = "utm_source=poster&utm_medium=print&utm_campaign="


@pytest.fixture(autouse=True)
def _english():
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def campaign():
    """A campaign launched 3 days ago, sent to nobody yet (a poster campaign)."""
    campaign = campaign_for(name="Poster week", attribution_window_days=7)
    campaign.status = CampaignStatus.SENDING
    campaign.launched_at = timezone.now() - timedelta(days=3)
    campaign.save()
    return campaign


def landings() -> list[tuple]:
    return list(
        UtmLanding.objects.order_by("pk").values_list(
            "user_id", "campaign_id", "day", "source", "medium", "path"
        )
    )


def test_a_signed_in_member_landing_with_the_tags_is_recorded_without_ip_or_agent(client, campaign):
    member = member_factory()
    client.force_login(member.user)

    response = client.get(
        f"/catalogue/?{TAGS}{campaign.utm_campaign}&q=cheese",
        REMOTE_ADDR="203.0.113.9",
        HTTP_USER_AGENT="Poster scanner",
    )

    assert response.status_code == 200
    assert landings() == [
        (member.user_id, campaign.pk, timezone.localdate(), "poster", "print", "/catalogue/")
    ]
    landing = UtmLanding.objects.get()
    assert timezone.now() - landing.landed_at < timedelta(minutes=1)
    # What the row holds, and nothing else: no address, agent or query string.
    assert sorted(f.name for f in UtmLanding._meta.concrete_fields) == [
        "campaign",
        "day",
        "id",
        "landed_at",
        "medium",
        "path",
        "source",
        "user",
    ]


def test_an_order_after_a_landing_is_credited_to_the_campaign_under_last_touch(client, campaign):
    # Not a recipient: the member saw the poster.
    member = member_factory()
    client.force_login(member.user)
    client.get(f"/?{TAGS}{campaign.utm_campaign}")
    order = create_order(user=member.user)

    report = campaign_attribution(campaign=campaign)

    assert [(o.number, o.member_number) for o in report.orders] == [
        (str(order.number), member.number)
    ]
    assert report.orders[0].shares == dict.fromkeys(MODELS, 1.0)
    totals = {t.model: t for t in report.totals}
    assert (totals[LAST_TOUCH].orders, totals[LAST_TOUCH].revenue) == (1.0, order.total_incl_tax)
    # The lift compares recipients only: the poster's public is not a treated group.
    assert report.lift is None


def test_an_order_outside_the_window_after_the_landing_is_not_credited(client, campaign):
    member = member_factory()
    utm_landing_record(
        landing=Landing(campaign.utm_campaign, "poster", "print", "/"),
        session={},
        user=member.user,
        at=timezone.now() - timedelta(days=9),
    )
    campaign.launched_at = timezone.now() - timedelta(days=10)
    campaign.save()
    create_order(user=member.user)

    assert campaign_attribution(campaign=campaign).orders == []


def test_an_unknown_campaign_slug_is_ignored(client, campaign):
    member = member_factory()
    client.force_login(member.user)

    client.get(f"/?{TAGS}no-such-campaign")
    client.logout()
    client.get(f"/?{TAGS}no-such-campaign")

    assert landings() == []
    assert PENDING_SESSION_KEY not in client.session


def test_repeated_landings_count_once_a_day_and_again_the_next_day(client, campaign):
    member = member_factory()
    client.force_login(member.user)
    for page in ("/", "/catalogue/", "/"):
        client.get(f"{page}?{TAGS}{campaign.utm_campaign}")
    # Another browser (no session memory): the database keeps the one row.
    other = type(client)()
    other.force_login(member.user)
    other.get(f"/?utm_source=facebook&utm_medium=social&utm_campaign={campaign.utm_campaign}")
    tomorrow = timezone.now() + timedelta(days=1)
    assert utm_landing_record(
        landing=Landing(campaign.utm_campaign, "facebook", "social", "/"),
        session={},
        user=member.user,
        at=tomorrow,
    )

    assert landings() == [
        (member.user_id, campaign.pk, timezone.localdate(), "poster", "print", "/"),
        (member.user_id, campaign.pk, timezone.localdate(tomorrow), "facebook", "social", "/"),
    ]


def test_a_visitor_landing_is_kept_in_the_session_and_attached_at_sign_in(client, campaign):
    member = member_factory()
    client.get(f"/catalogue/?{TAGS}{campaign.utm_campaign}")
    client.get(f"/?{TAGS}{campaign.utm_campaign}")  # the same day: counted once
    assert landings() == []
    assert len(client.session[PENDING_SESSION_KEY]) == 1

    response = client.post(
        reverse("customer:login"),
        {"login-username": member.user.email, "login-password": PASSWORD, "login_submit": "1"},
    )

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(member.user_id)
    assert landings() == [
        (member.user_id, campaign.pk, timezone.localdate(), "poster", "print", "/catalogue/")
    ]
    assert PENDING_SESSION_KEY not in client.session
    order = create_order(user=member.user)
    report = campaign_attribution(campaign=campaign)
    assert [(o.number, o.shares[LAST_TOUCH]) for o in report.orders] == [(str(order.number), 1.0)]


def test_a_visitor_keeps_only_the_latest_landings(campaign):
    session: dict = {}
    others = [campaign_for(name=f"Other {i}") for i in range(PENDING_MAX + 2)]
    for other in others:
        utm_landing_record(
            landing=Landing(other.utm_campaign, "", "", "/"), session=session, user=None
        )

    assert [item[0] for item in session[PENDING_SESSION_KEY]] == [
        other.pk for other in others[-PENDING_MAX:]
    ]


def test_staff_pages_static_files_and_failed_requests_are_not_landings(
    client, campaign, admin_user
):
    client.force_login(admin_user)
    for path in ("/dashboard/", "/fr/dashboard/", "/static/missing.css", "/no-such-page/"):
        client.get(f"{path}?{TAGS}{campaign.utm_campaign}")
    client.post(f"/?{TAGS}{campaign.utm_campaign}")

    assert landings() == []


def test_tags_are_cut_to_their_length(client, campaign):
    member = member_factory()
    client.force_login(member.user)

    client.get(
        f"/?utm_source={'s' * 500}&utm_medium={'m' * 500}&utm_campaign={campaign.utm_campaign}"
    )
    client.get(f"/?utm_campaign={'x' * 5000}")

    assert landings() == [
        (member.user_id, campaign.pk, timezone.localdate(), "s" * 60, "m" * 60, "/")
    ]


def test_a_landing_through_the_tracked_link_the_same_day_is_the_click_counted_once(campaign):
    """A recipient who clicked the message's tracked link lands with the tags: under the
    linear model the campaign shares the order with a referral link as click, open and
    send (3 of 4), not 4 of 5; a landing another day is a touch of its own."""
    member = member_factory()
    now = timezone.now()
    CampaignRecipient.objects.create(campaign=campaign, member=member)
    CampaignSend.objects.create(
        campaign=campaign,
        member=member,
        channel="email",
        status=CampaignSendStatus.SENT,
        created_at=now - timedelta(days=2, hours=2),
        opened_at=now - timedelta(days=2, hours=1),
        clicked_at=now - timedelta(days=2, hours=1),
    )
    Referral.objects.create(
        referrer=member_factory(), friend=member, created_at=now - timedelta(days=2, hours=3)
    )
    utm_landing_record(
        landing=Landing(campaign.utm_campaign, "solomo", "email", "/catalogue/"),
        session={},
        user=member.user,
        at=now - timedelta(days=2, hours=1) + timedelta(seconds=1),
    )
    create_order(user=member.user)

    [order] = campaign_attribution(campaign=campaign).orders
    assert order.shares[LINEAR] == pytest.approx(3 / 4)

    utm_landing_record(
        landing=Landing(campaign.utm_campaign, "friend", "whatsapp", "/"),
        session={},
        user=member.user,
        at=now - timedelta(hours=1),
    )
    [order] = campaign_attribution(campaign=campaign).orders
    assert order.shares[LINEAR] == pytest.approx(4 / 5)
    assert order.shares[LAST_TOUCH] == 1.0


def test_a_customers_landings_are_in_their_export_and_go_with_their_account(campaign):
    member = member_factory()
    visitor = member_factory()
    for user in (member.user, visitor.user):
        utm_landing_record(
            landing=Landing(campaign.utm_campaign, "poster", "print", "/catalogue/"),
            session={},
            user=user,
        )

    exported = export_collect(user=member.user)["loyalty.UtmLanding"]
    assert [(r["user_id"], r["campaign_id"], r["medium"], r["path"]) for r in exported] == [
        (member.user_id, campaign.pk, "print", "/catalogue/")
    ]

    account_erase(user=member.user)

    assert [row[0] for row in landings()] == [visitor.user_id]
