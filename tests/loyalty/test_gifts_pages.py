"""Giving points from the member's page (/loyalty/gift/): R23."""

import re

import pytest
from django.urls import reverse
from oscar.test.factories import UserFactory

from loyalty.models import Gift, PointsEntry
from loyalty.selectors import earning_rule
from loyalty.services.ledger import points_credit
from loyalty.views import GIFT_LOOKUP_RATE
from tests.loyalty.factories import member_factory

pytestmark = pytest.mark.django_db


def _member(points=0, **user_fields):
    member = member_factory(**user_fields)
    if points:
        points_credit(
            member=member, amount=points, reason="Order", idempotency_key=f"seed:{member.pk}"
        )
    return member


@pytest.fixture
def giver(client):
    member = _member(400, first_name="Alice", last_name="Martin")
    client.force_login(member.user)
    return client, member


def _review(client, number, points, message=""):
    return client.post(
        reverse("loyalty:gift"), {"number": number, "points": points, "message": message}
    )


def _key(page) -> str:
    return re.search(rb'name="key" value="([0-9a-f]{32})"', page.content).group(1).decode()


def test_r23_review_shows_the_masked_name_then_a_double_tap_gives_once(giver):
    client, member = giver
    friend = _member(first_name="Bruno", last_name="Petit")

    review = _review(client, friend.number, 150, "Pour ton anniversaire")

    assert review.status_code == 200
    assert b"Give 150 points to B*** P.?" in review.content
    assert b"Petit" not in review.content
    assert not Gift.objects.exists()  # the review moves nothing
    data = {
        "number": friend.number,
        "points": 150,
        "message": "Pour ton anniversaire",
        "key": _key(review),
    }
    first = client.post(reverse("loyalty:gift-send"), data)
    second = client.post(reverse("loyalty:gift-send"), data)

    assert first.status_code == second.status_code == 302
    gift = Gift.objects.get()
    assert (gift.sender, gift.recipient, gift.points) == (member, friend, 150)
    assert gift.message == "Pour ton anniversaire"
    assert PointsEntry.objects.filter(idempotency_key__startswith="gift:").count() == 2
    page = client.get(reverse("loyalty:member"))
    assert b"You gave 150 points to B*** P." in page.content
    assert b"Gift to B*** P." in page.content
    assert b"250</strong> points" in page.content
    client.force_login(friend.user)
    assert b"Gift from A*** M." in client.get(reverse("loyalty:member")).content


@pytest.mark.parametrize(
    ("number", "points", "error"),
    [
        ("unknown", 10, b"No member has this number."),
        ("self", 10, b"You cannot give points to yourself."),
        ("1234567890", 10, b"This is not a valid member number."),
        ("friend", 401, b"You have 400 points available to give."),
        ("friend", 0, b"Ensure this value is greater than or equal to 1."),
    ],
)
def test_r23_clear_errors_at_the_review(giver, number, points, error):
    client, member = giver
    numbers = {"unknown": "0000000000", "self": member.number, "friend": _member().number}

    page = _review(client, numbers.get(number, number), points)

    assert page.status_code == 200
    assert error in page.content
    assert b"Give the points" not in page.content


def test_r23_over_the_limit_says_what_is_left(giver):
    client, member = giver
    rule = earning_rule()
    rule.gift_sent_daily_points = 100
    rule.save()
    friend = _member()

    page = _review(client, friend.number, 101)
    assert b"You can give at most 100 points a day: 100 left today." in page.content
    assert b"Give the points" not in page.content

    # Reviewed under the limit, which the marketers lower before the confirmation
    review = _review(client, friend.number, 100)
    rule.gift_sent_daily_points = 60
    rule.save()
    sent = client.post(
        reverse("loyalty:gift-send"),
        {"number": friend.number, "points": 100, "message": "", "key": _key(review)},
    )
    assert b"You can give at most 60 points a day: 60 left today." in sent.content
    assert not Gift.objects.exists()


def test_r23_the_review_tells_the_recipients_limit(giver):
    client, member = giver
    rule = earning_rule()
    rule.gift_received_daily_points = 30
    rule.save()

    page = _review(client, _member().number, 31)

    assert b"This member can receive at most 30 points a day: 30 more today." in page.content
    assert b"Give the points" not in page.content


def test_r23_member_number_lookups_are_rate_limited(giver):
    client, _member_ = giver
    friend = _member()
    allowed = int(GIFT_LOOKUP_RATE.split("/")[0])

    for _ in range(allowed):
        assert _review(client, friend.number, 1).status_code == 200
    refused = _review(client, friend.number, 1)

    assert refused.status_code == 429
    assert b"Too many member numbers looked up" in refused.content
    assert b"Give the points" not in refused.content


def test_r23_the_pages_are_for_signed_in_members_only(client):
    assert client.get(reverse("loyalty:gift")).status_code == 302
    assert client.post(reverse("loyalty:gift-send")).status_code == 302
    client.force_login(UserFactory())  # signed in, not a member
    assert client.get(reverse("loyalty:gift")).status_code == 404
    assert client.post(reverse("loyalty:gift"), {"number": "1", "points": 1}).status_code == 404


def test_r23_a_confirmation_without_csrf_token_is_refused():
    from django.test import Client

    member = _member(100)
    friend = _member()
    client = Client(enforce_csrf_checks=True)
    client.force_login(member.user)

    response = client.post(
        reverse("loyalty:gift-send"),
        {"number": friend.number, "points": 10, "key": "a" * 32},
    )

    assert response.status_code == 403
    assert not Gift.objects.exists()


def test_r23_gift_limits_are_set_in_the_earning_rules(admin_client):
    page = admin_client.get(reverse("loyalty_dashboard:loyalty-rules"))
    assert b"Gifts between members" in page.content
    form = page.context["form"]
    data = {name: ("" if value is None else value) for name, value in form.initial.items()}
    data.update(
        gift_sent_daily_points=50,
        gift_sent_monthly_points=300,
        gift_received_daily_points=80,
        gift_received_monthly_points=900,
    )
    data = {name: data[name] for name in form.fields}

    assert admin_client.post(reverse("loyalty_dashboard:loyalty-rules"), data).status_code == 302

    rule = earning_rule()
    assert (
        rule.gift_sent_daily_points,
        rule.gift_sent_monthly_points,
        rule.gift_received_daily_points,
        rule.gift_received_monthly_points,
    ) == (50, 300, 80, 900)


def test_r23_the_gift_pages_speak_french(giver):
    client, member = giver
    friend = _member(first_name="Bruno", last_name="Petit")

    page = client.get("/fr/loyalty/")
    review = client.post(
        "/fr/loyalty/gift/", {"number": friend.number, "points": 20, "message": ""}
    )

    assert "Offrir des points" in page.content.decode()
    assert "Vous pouvez encore offrir 500 points aujourd'hui" in page.content.decode()
    assert "Offrir 20 points à B*** P. ?" in review.content.decode()
    assert "Offrir les points" in review.content.decode()
