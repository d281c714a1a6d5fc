"""The member's points through the API (shop/api/loyalty.py)."""

import pytest
from django.urls import reverse

from loyalty.models import Member, Reward, RewardKind
from loyalty.services.ledger import points_credit
from loyalty.services.members import member_enrol
from tests.shop.api.factories import bearer_client, customer

pytestmark = pytest.mark.django_db


def _member(points=1000, email="ann@example.com"):
    member = member_enrol(user=customer(email))
    points_credit(member=member, amount=points, reason="Order 1", idempotency_key=f"e:{member.pk}")
    return member


def _reward(points_cost=500):
    return Reward.objects.create(
        name="10 € off", kind=RewardKind.DISCOUNT, points_cost=points_cost, value="10.00"
    )


def test_balance_history_and_card_are_the_members_own():
    member = _member()
    client = bearer_client(member.user)

    balance = client.get(reverse("api:loyalty")).json()
    history = client.get(reverse("api:loyalty-history")).json()
    card = client.get(reverse("api:loyalty-card")).json()

    assert balance == {
        "number": member.number,
        "tier": "bronze",
        "tier_label": "Bronze",
        "balance": 1000,
        "pending": 0,
    }
    assert [(e["amount"], e["balance_after"], e["label"]) for e in history["results"]] == [
        (1000, 1000, "Order 1")
    ]
    assert card["number"] == member.number
    assert card["qr_svg"].startswith("<?xml")


def test_a_user_who_has_not_joined_gets_404_not_a_member():
    got = bearer_client(customer()).get(reverse("api:loyalty"))

    assert got.status_code == 404
    assert got.json()["code"] == "not_a_member"


def test_redeeming_twice_with_one_key_spends_the_points_once():
    member = _member()
    reward = _reward()
    client = bearer_client(member.user)
    url = reverse("api:loyalty-redeem", kwargs={"pk": reward.pk})

    first = client.post(url, {"key": "tap-1"}, format="json")
    again = client.post(url, {"key": "tap-1"}, format="json")

    assert first.status_code == again.status_code == 201
    assert first.json()["voucher_code"] == again.json()["voucher_code"]
    assert Member.objects.get(pk=member.pk).balance == 500


def test_a_reward_the_member_cannot_afford_is_refused_with_the_reason():
    member = _member(points=100)
    reward = _reward(points_cost=500)
    client = bearer_client(member.user)

    listed = client.get(reverse("api:loyalty-rewards")).json()
    got = client.post(
        reverse("api:loyalty-redeem", kwargs={"pk": reward.pk}), {"key": "k"}, format="json"
    )

    assert [(r["id"], r["missing"], r["refusal"]) for r in listed] == [(reward.pk, 400, None)]
    assert got.status_code == 409
    assert got.json()["code"] == "refused"
    assert Member.objects.get(pk=member.pk).balance == 100


def test_a_shopper_never_sees_another_members_points():
    ann = _member(points=1000)
    bob = _member(points=70, email="bob@example.com")

    seen_by_bob = bearer_client(bob.user).get(reverse("api:loyalty")).json()
    bobs_history = bearer_client(bob.user).get(reverse("api:loyalty-history")).json()

    assert seen_by_bob["number"] == bob.number != ann.number
    assert [e["amount"] for e in bobs_history["results"]] == [70]
