"""The member's page and card on a 375 px phone, in a real headless Chromium."""

from datetime import timedelta

import pytest
from django.utils import timezone

from loyalty.models import Reward, RewardKind
from loyalty.services.ledger import points_credit
from tests.browser import PHONE, browser_marks
from tests.factories import category, product
from tests.loyalty.factories import member_factory, order_for

# Live server: committed data. On PostgreSQL, whose TRUNCATE flush the ledger's
# append-only triggers allow (SQLite's DELETE flush of entries is refused).
pytestmark = browser_marks(pytest.mark.postgres)


def test_the_member_page_fits_a_phone_and_shows_the_card(browser, live_server, client, tmp_path):
    member = member_factory()
    order_for(member.user, (product("Munster", price="24.00", categories=[category("Cheese")]), 1))
    points_credit(
        member=member,
        amount=600,
        reason="Welcome",
        idempotency_key="w",
        expires_at=timezone.now() + timedelta(days=5),
    )
    Reward.objects.create(name="5 € off", kind=RewardKind.DISCOUNT, points_cost=500, value=5)
    client.force_login(member.user)

    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/loyalty/", wait_until="networkidle")
    page.screenshot(path=tmp_path / "loyalty-375.png", full_page=True)

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.locator(".loyalty-balance__points strong").inner_text() == "600"
    assert page.evaluate("document.querySelector('.loyalty-qr').naturalWidth") > 0
    share = page.locator(".loyalty-share").bounding_box()
    assert share["height"] >= 43.5
    redeem = page.locator(".loyalty-reward button").bounding_box()
    assert redeem["height"] >= 43.5 and redeem["width"] >= 43.5
    assert page.locator(".loyalty-chart svg rect").count() >= 12
    assert errors == []
    context.close()
