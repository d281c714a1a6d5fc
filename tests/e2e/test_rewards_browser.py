"""Rewards on a 375 px phone, in a real headless Chromium (Playwright): a marketer reaches
the rewards from the dashboard menu by tapping, creates one with a stock of 1 and a limit,
pauses and resumes it; a member redeems the last one and sees why it cannot be redeemed
again. Nothing is wider than the screen (README, "Rewards")."""

import pytest
from django.contrib.auth import get_user_model

from loyalty.models import Reward
from loyalty.services.ledger import points_credit
from shop.security import roles
from tests.browser import (
    browser_marks,
    dashboard_menu_tap,
    fits_the_phone,
    phone_context,
    sign_in,
)
from tests.loyalty.factories import member_factory

pytestmark = browser_marks()


@pytest.mark.postgres  # the live server's flush must be allowed to empty the audit log
def test_a_marketer_manages_rewards_and_a_member_redeems_the_last_one(
    browser, live_server, tmp_path
):
    # Given a marketer and a member with 500 points
    roles.roles_sync()
    marketer = get_user_model().objects.create_user("mk@example.com", "mk@example.com", "pw")
    roles.role_give(marketer, roles.MARKETER)
    member = member_factory(email="member@example.com", username="member@example.com")
    member.user.set_password("pw")
    member.user.save()
    points_credit(member=member, amount=500, reason="Order", idempotency_key="e:1")
    context = phone_context(browser, live_server)
    page = context.new_page()

    # When the marketer taps Loyalty → Rewards in the dashboard menu
    sign_in(page, live_server, "mk@example.com")
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_load_state("load")
    dashboard_menu_tap(page, "Loyalty", "Rewards")
    assert page.url.endswith("/dashboard/loyalty/rewards/")

    # and creates a reward: 200 points, one left, once per member
    with page.expect_navigation():
        page.get_by_role("link", name="Create a reward").click()
    page.fill("#id_name", "Kougelhopf for two")
    page.select_option("#id_kind", "discount")
    page.fill("#id_points_cost", "200")
    page.fill("#id_value", "6.50")
    page.fill("#id_stock", "1")
    page.fill("#id_per_member_limit", "1")
    page.screenshot(path=tmp_path / "1-form.png", full_page=True)
    assert fits_the_phone(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()

    # Then the list shows it with its stock, and pausing and resuming are taps
    assert page.get_by_text("Reward created: Kougelhopf for two.").is_visible()
    row = page.locator("tr", has_text="Kougelhopf for two")
    assert row.locator("td").nth(3).inner_text() == "1"
    with page.expect_navigation():
        row.get_by_role("button", name="Pause").click()
    assert Reward.objects.get().is_active is False
    with page.expect_navigation():
        page.locator("tr", has_text="Kougelhopf for two").get_by_role(
            "button", name="Resume"
        ).click()
    assert Reward.objects.get().is_active is True
    page.screenshot(path=tmp_path / "2-list.png", full_page=True)
    # The table scrolls inside its own box.
    assert fits_the_phone(page)

    # When the member redeems it on their loyalty page
    member_page = phone_context(browser, live_server).new_page()
    sign_in(member_page, live_server, "member@example.com")
    member_page.goto(f"{live_server.url}/loyalty/")
    card = member_page.locator(".loyalty-reward", has_text="Kougelhopf for two")
    assert card.get_by_text("Only 1 left").is_visible()
    with member_page.expect_navigation():
        card.get_by_role("button", name="Redeem").click()

    # Then they get the voucher, and the reward now says why it cannot be redeemed again
    assert member_page.get_by_text("Your voucher code is LOY-").is_visible()
    card = member_page.locator(".loyalty-reward", has_text="Kougelhopf for two")
    assert card.get_by_text("This reward is out of stock.").is_visible()
    assert card.get_by_role("button", name="Redeem").is_disabled()
    member_page.screenshot(path=tmp_path / "3-member.png", full_page=True)
    assert fits_the_phone(member_page)
    assert Reward.objects.get().stock == 0
    context.close()
