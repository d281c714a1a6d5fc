"""The marketer's path on a 375 px phone, in a real headless Chromium (Playwright), with a
real Celery worker sending the campaign (README "Campaigns").

From /dashboard/, by tapping: build a segment and see its live count, attach a one-to-one
offer, create a campaign with bonus points and a control group, preview it with a real
member's data, launch it. The worker resolves the audience and sends; a French-speaking
member's e-mail is in French, and its unsubscribe link withdraws the consent in one tap.
The members are a small synthetic population (population_generate).
"""

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from oscar.test.factories import ConditionalOfferFactory

from loyalty.models import (
    Campaign,
    CampaignRecipient,
    CampaignSend,
    CampaignStatus,
    MemberStats,
    Segment,
)
from loyalty.population import PopulationPlan, population_generate
from loyalty.selectors import segment_members
from loyalty.services.member_stats import member_stats_refresh
from shop.communication.models import ConsentRecord, OutboxMessage
from shop.security import roles
from tests.browser import PHONE, browser_marks, dashboard_menu_tap, fits_the_phone
from tests.conftest import IN_CI, _service_missing
from tests.roles import role_user
from tests.shop.communication.services import RedisServer, Worker, app_broker, wait_for

pytestmark = browser_marks(pytest.mark.postgres, pytest.mark.redis)

EMAIL_CONSENT = {"match": "all", "conditions": [{"type": "consent", "op": "in", "value": "email"}]}


def _services_or_skip() -> None:
    for marker in ("postgres", "redis"):
        reason = _service_missing(marker)
        if reason and IN_CI:
            pytest.fail(f"CI=true but this test {reason}")
        if reason:
            pytest.skip(reason)


@pytest.mark.xdist_group("notification-workers")
def test_a_marketer_sends_a_campaign_by_tapping_and_a_member_unsubscribes_in_one_tap(
    browser, live_server, tmp_path
):
    _services_or_skip()
    # Given 40 synthetic members (their statistics and languages refreshed), a User offer
    # and a marketer
    population_generate(
        plan=PopulationPlan(
            members=40, orders=160, seed=77, batch=40, today=datetime.now(UTC).date()
        )
    )
    member_stats_refresh(at=datetime.now(UTC), full=True)
    offer = ConditionalOfferFactory(name="Ten percent for subscribers", offer_type="User")
    roles.roles_sync()
    role_user("marketer", store_a=None, store_b=None)
    expected = segment_members(rules=EMAIL_CONSENT).count()
    assert 0 < expected < 40

    redis = RedisServer()
    redis.start()
    emails = tmp_path / "emails"
    emails.mkdir()
    env = {"NOTIFY_TEST_EMAIL_DIR": str(emails), "MARKETING_SEND_RATE": "0"}
    worker = None
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    try:
        worker = Worker(broker_url=redis.url(1), env=env)
        context.route(
            re.compile(r"^(?!" + re.escape(live_server.url) + ")https?://"),
            lambda route: route.abort(),
        )
        context.set_default_timeout(30_000)  # a shared CI machine can be slow
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_login-username", "marketer@roles.test")
        page.fill("#id_login-password", "pw")
        page.click("button[name=login_submit]")
        page.wait_for_load_state()

        # When the marketer builds a segment from the dashboard and sees its count live
        page.goto(f"{live_server.url}/dashboard/")
        dashboard_menu_tap(page, "Loyalty", "Segments")
        page.get_by_role("link", name="Create a segment").click()
        page.wait_for_load_state()
        page.fill("#id_name", "Email subscribers")
        page.select_option("#id_conditions-0-type", "consent")
        page.select_option("#id_conditions-0-op", "in")
        page.fill("#id_conditions-0-value", "email")
        page.locator(".segment-live-count").filter(has_text=str(expected)).wait_for()
        assert fits_the_phone(page)
        page.get_by_label(offer.name).check()
        page.screenshot(path=tmp_path / "1-segment.png", full_page=True)
        page.locator(".form-actions button[type=submit]").click()
        page.wait_for_load_state()
        segment = Segment.objects.get(name="Email subscribers")
        assert segment.rules == EMAIL_CONSENT
        assert list(segment.offers.all()) == [offer]

        # and creates a campaign with bonus points and a control group
        dashboard_menu_tap(page, "Loyalty", "Campaigns")
        page.get_by_role("link", name="Create a campaign").click()
        page.fill("#id_name", "Spring coffee")
        page.select_option("#id_segment", str(segment.pk))
        page.locator("input[name=channels][value=email]").check()
        page.fill("#id_control_percent", "10")
        page.select_option("#id_reward_kind", "points")
        page.fill("#id_reward_points", "25")
        page.fill("#id_message-en-subject", "{{ first_name }}, 25 points for you")
        page.fill("#id_message-en-body", "Hello {{ first_name }}: {{ points }} points. {{ link }}")
        page.fill("#id_message-en-link_url", "/catalogue/")
        page.fill("#id_message-fr-subject", "{{ first_name }}, 25 points pour vous")
        page.fill(
            "#id_message-fr-body", "Bonjour {{ first_name }} : {{ points }} points. {{ link }}"
        )
        page.fill("#id_message-fr-link_url", "/catalogue/")
        assert fits_the_phone(page)
        page.get_by_role("button", name="Save the draft").click()
        page.wait_for_load_state()
        campaign = Campaign.objects.get(name="Spring coffee")
        assert (campaign.control_percent, campaign.reward_points) == (10, 25)

        # previews it with a real member's data
        page.get_by_role("link", name="Preview").click()
        page.wait_for_load_state()
        first = segment_members(rules=EMAIL_CONSENT).select_related("user").first()
        assert page.get_by_text(first.number).first.is_visible()
        assert page.get_by_text(first.user.first_name).first.is_visible()
        assert fits_the_phone(page)
        page.screenshot(path=tmp_path / "2-preview.png", full_page=True)
        page.go_back()
        page.wait_for_load_state()

        # and launches it: the worker sends it
        with app_broker(redis.url(1)):
            page.get_by_role("button", name="Launch").click()
            page.wait_for_load_state()
        wait_for(
            lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.FINISHED,
            timeout=60,
            message="the campaign to finish",
        )
        sends = CampaignSend.objects.filter(campaign=campaign)
        messages = OutboxMessage.objects.filter(pk__in=sends.values("outbox_message"))
        wait_for(
            lambda: messages.filter(status="sent").count() == sends.count(),
            timeout=60,
            message="every campaign e-mail delivered",
        )
        page.screenshot(path=tmp_path / "3-launched.png", full_page=True)

        # Then the audience minus the control group got it (R31), each in their language
        recipients = CampaignRecipient.objects.filter(campaign=campaign)
        assert recipients.count() == expected
        assert sends.count() == recipients.filter(is_control=False).count() > 0
        french = (
            MemberStats.objects.filter(language="fr", member__in=sends.values("member"))
            .select_related("member__user")
            .first()
        )
        message = messages.get(user=french.member.user)
        assert message.language == "fr"
        assert message.subject == f"{french.member.user.first_name}, 25 points pour vous"
        assert "List-Unsubscribe-Post" in message.headers

        # and the member unsubscribes with one tap on the link of the e-mail
        link = re.search(r"https?://\S+/loyalty/u/\S+/", message.body)
        assert link is not None, message.body
        assert message.headers["List-Unsubscribe"] == f"<{link.group(0)}>"
        page.goto(live_server.url + urlsplit(link.group(0)).path)
        # (the link is in the member's language: /fr/...)
        page.get_by_role("button", name="Se désinscrire").click()
        page.wait_for_load_state()
        assert page.get_by_role("status").is_visible()
        assert fits_the_phone(page)
        latest = ConsentRecord.objects.filter(
            user=french.member.user, purpose="marketing", channel="email"
        ).first()
        assert (latest.action, latest.source) == ("withdrawn", "unsubscribe")
    finally:
        context.close()
        if worker is not None:
            worker.stop()
        redis.stop()
    with transaction.atomic():
        assert not segment_members(rules=EMAIL_CONSENT).filter(user=french.member.user).exists()
