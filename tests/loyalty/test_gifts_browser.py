"""Giving points on a 320 px phone, in a real headless Chromium (R23)."""

import pytest

from loyalty.models import Gift
from loyalty.services.ledger import points_credit
from tests.browser import browser_marks
from tests.loyalty.factories import member_factory

# Live server: committed data, on PostgreSQL (the ledger's append-only triggers).
pytestmark = browser_marks(pytest.mark.postgres)

NARROW = {"width": 320, "height": 640}
LONG_WORD = "Gewürztraminervendangestardives"


def test_r23_giving_points_fits_320px_from_the_form_to_the_history(browser, live_server, client):
    giver = member_factory(first_name="Léa", last_name=LONG_WORD)
    friend = member_factory(first_name=LONG_WORD, last_name="Kléber")
    points_credit(member=giver, amount=900, reason="Welcome", idempotency_key="w")
    client.force_login(giver.user)
    context = browser.new_context(viewport=NARROW, is_mobile=True)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/loyalty/")

    page.fill("#id_number", friend.number)
    page.fill("#id_points", "250")
    page.fill("#id_message", LONG_WORD * 3)
    page.click(".loyalty-gift-form button[type=submit]")
    page.wait_for_selector(".loyalty-gift__confirm")
    widths = {"review": page.evaluate("document.documentElement.scrollWidth")}
    assert "Give 250 points to G*** K.?" in page.inner_text("#confirm-title")
    page.click(".loyalty-gift__confirm")
    page.wait_for_selector(".loyalty-history")
    widths["member page"] = page.evaluate("document.documentElement.scrollWidth")

    assert widths == {"review": 320, "member page": 320}
    assert "Gift to G*** K." in page.inner_text(".loyalty-history")
    assert page.inner_text(".loyalty-balance__points strong") == "650"
    assert Gift.objects.get().points == 250
    context.close()
