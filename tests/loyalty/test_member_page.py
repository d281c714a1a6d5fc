"""The member's page (/loyalty/), the member card and the share link."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override
from oscar.test.factories import UserFactory

from loyalty.models import Member, PendingEarn, Reward, RewardKind
from loyalty.selectors import member_summary
from loyalty.services.earning import pending_confirm_due
from loyalty.services.ledger import points_credit
from tests.factories import category, product
from tests.loyalty.factories import member_factory, order_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(client):
    member = member_factory()
    client.force_login(member.user)
    return client, member


def test_a_customer_who_has_not_joined_is_offered_to_join(client):
    user = UserFactory()
    client.force_login(user)

    page = client.get(reverse("loyalty:member"))
    assert b"Join the programme" in page.content
    client.post(reverse("loyalty:join"))

    assert Member.objects.get(user=user).balance == 100  # sign-up bonus


def test_the_page_shows_balance_pending_tier_card_history_and_charts(member_client):
    client, member = member_client
    cheese = category("Cheese")
    order_for(member.user, (product("Munster", price="40.00", categories=[cheese]), 1))
    PendingEarn.objects.update(confirm_after=timezone.now())
    pending_confirm_due()
    order_for(member.user, (product("Bretzel", price="5.00"), 1))
    points_credit(
        member=member,
        amount=50,
        reason="Gesture",
        idempotency_key="x",
        expires_at=timezone.now() + timedelta(days=3),
    )

    page = client.get(reverse("loyalty:member"))

    html = page.content.decode()
    summary = page.context["summary"]
    assert summary.member.balance == 40 + 200 + 50  # order, first order bonus, gesture
    assert "points pending" in html
    assert "50 points expire on" in html
    assert "Bronze member" in html
    assert reverse("loyalty:card-qr") in html
    assert member.referral_code in html
    assert 'data-share-url="http://testserver/loyalty/r/' in html
    assert "Cheese" in html
    assert "<script>" not in html  # CSP: scripts only from static files
    assert sum(bar.value for bar in summary.spend_by_month) == 45
    assert sum(bar.value for bar in summary.points_by_month) == 290


def test_the_page_speaks_french(member_client):
    client, _member = member_client

    with override("fr"):
        page = client.get("/fr/loyalty/")

    assert page.status_code == 200
    assert "Ma fidélité" in page.content.decode()


def test_the_member_card_is_a_qr_code_of_the_member_number(member_client):
    client, member = member_client

    response = client.get(reverse("loyalty:card-qr"))

    assert response["Content-Type"] == "image/svg+xml"
    assert b'xmlns="http://www.w3.org/2000/svg"' in response.content


def test_redeeming_from_the_page_gives_a_voucher_once(member_client):
    client, member = member_client
    points_credit(member=member, amount=600, reason="Order", idempotency_key="e")
    reward = Reward.objects.create(
        name="5 € off", kind=RewardKind.DISCOUNT, points_cost=500, value="5.00"
    )
    url = reverse("loyalty:redeem", kwargs={"pk": reward.pk})

    first = client.post(url, {"key": "abc"}, follow=True)
    client.post(url, {"key": "abc"})  # a double tap

    assert "Your voucher code is LOY-" in first.content.decode()
    assert Member.objects.get(pk=member.pk).balance == 100
    second = client.post(url, {"key": "def"}, follow=True)
    assert "Not enough points" in second.content.decode()


def test_an_invalid_referral_code_says_so(member_client):
    client, _member = member_client

    page = client.post(reverse("loyalty:referral-apply"), {"code": "WRONG"}, follow=True)

    assert "This referral code is not valid." in page.content.decode()


def test_pages_need_a_login(client):
    response = client.get(reverse("loyalty:member"))

    assert response.status_code == 302
    assert member_summary(user=UserFactory()) is None
