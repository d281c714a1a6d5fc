"""Rewards managed by marketers (README, "Rewards"): the dashboard pages, stock, per-member
limits and validity, as the service enforces them and the member's page shows them."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from loyalty.models import Member, Redemption, Reward, RewardKind
from loyalty.services.errors import InsufficientPoints
from loyalty.services.ledger import points_credit
from loyalty.services.rewards import RewardUnavailable, reward_redeem
from shop.security import roles
from tests.concurrency import slow_writes
from tests.factories import product
from tests.loyalty.conftest import assert_ledger_balanced
from tests.loyalty.factories import member_factory

pytestmark = pytest.mark.django_db

LIST = reverse("loyalty_dashboard:loyalty-reward-list")
CREATE = reverse("loyalty_dashboard:loyalty-reward-create")


def _edit(reward):
    return reverse("loyalty_dashboard:loyalty-reward-update", kwargs={"pk": reward.pk})


def _status(reward):
    return reverse("loyalty_dashboard:loyalty-reward-status", kwargs={"pk": reward.pk})


@pytest.fixture
def marketer(client):
    from django.contrib.auth import get_user_model

    roles.roles_sync()
    user = get_user_model().objects.create_user("m@example.com", "m@example.com", "pw")
    roles.role_give(user, roles.MARKETER)
    client.force_login(user)
    return user


def _rich_member(points=1000):
    member = member_factory()
    points_credit(member=member, amount=points, reason="Order", idempotency_key=f"e:{member.pk}")
    return member


def _reward(**fields):
    values = {"name": "5 € off", "kind": RewardKind.DISCOUNT, "points_cost": 100, "value": 5}
    values.update(fields)
    return Reward.objects.create(**values)


def _form(**fields):
    data = {
        "name": "Coffee for free",
        "kind": RewardKind.DISCOUNT,
        "points_cost": "250",
        "value": "3.50",
        "product": "",
        "stock": "20",
        "per_member_limit": "2",
        "valid_from": "2026-01-01T08:00",
        "valid_until": "2027-01-01T08:00",
        "voucher_valid_days": "30",
        "is_active": "on",
        "stock_seen": "",
    }
    data.update(fields)
    return data


# --- The dashboard pages ---------------------------------------------------------------------


def test_a_marketer_creates_a_reward_with_cost_stock_limit_and_validity(client, marketer):
    response = client.post(CREATE, _form(), follow=True)

    assert response.redirect_chain == [(LIST, 302)]
    reward = Reward.objects.get()
    assert (reward.name, reward.kind, reward.points_cost, str(reward.value)) == (
        "Coffee for free",
        "discount",
        250,
        "3.50",
    )
    assert (reward.stock, reward.per_member_limit, reward.is_active) == (20, 2, True)
    assert timezone.localtime(reward.valid_from).isoformat()[:16] == "2026-01-01T08:00"
    assert timezone.localtime(reward.valid_until).isoformat()[:16] == "2027-01-01T08:00"
    assert [str(m) for m in response.context["messages"]] == ["Reward created: Coffee for free."]


def test_bad_input_says_what_to_fix_and_saves_nothing(client, marketer):
    response = client.post(
        CREATE,
        _form(value="", valid_until="2025-01-01T08:00", points_cost="0", stock="-1"),
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["value"] == ["Enter the amount off, more than zero."]
    assert errors["valid_until"] == ["The end must come after the start."]
    assert errors["points_cost"] == ["Ensure this value is greater than or equal to 1."]
    assert errors["stock"] == ["Ensure this value is greater than or equal to 0."]
    assert Reward.objects.count() == 0


def test_a_free_product_reward_needs_its_product(client, marketer):
    treat = product("Macaron")

    refused = client.post(CREATE, _form(kind=RewardKind.FREE_PRODUCT, value=""))
    created = client.post(CREATE, _form(kind=RewardKind.FREE_PRODUCT, product=treat.pk))

    assert refused.context["form"].errors["product"] == [
        "Choose the product the member gets for free."
    ]
    assert created.status_code == 302
    reward = Reward.objects.get()
    assert (reward.kind, reward.product_id, reward.value) == ("free_product", treat.pk, None)


def test_the_list_shows_stock_and_redemptions_in_a_fixed_number_of_queries(
    client, marketer, django_assert_num_queries
):
    member = _rich_member()
    first = _reward(name="Five off", stock=3)
    reward_redeem(member=member, reward=first, idempotency_key="r:1")
    reward_redeem(member=member, reward=first, idempotency_key="r:2")
    _reward(name="Free delivery", kind=RewardKind.FREE_DELIVERY, value=None, is_active=False)

    with django_assert_num_queries(6):
        page = client.get(LIST)
    for i in range(5):
        _reward(name=f"More {i}", stock=i)
    with django_assert_num_queries(6):
        client.get(LIST)

    rows = {r.name: (r.stock, r.redemptions_count, r.is_active) for r in page.context["rewards"]}
    assert rows == {"Five off": (1, 2, True), "Free delivery": (None, 0, False)}
    html = page.content.decode()
    assert "No limit" in html and "Paused" in html and "Resume" in html and "Pause" in html


def test_pause_and_resume_are_posts_and_a_paused_reward_cannot_be_redeemed(client, marketer):
    reward = _reward()
    member = _rich_member()

    assert client.get(_status(reward)).status_code == 405
    paused = client.post(_status(reward), {"active": "0"}, follow=True)

    assert Reward.objects.get(pk=reward.pk).is_active is False
    assert [str(m) for m in paused.context["messages"]] == [
        "5 € off is paused: members cannot redeem it until you resume it."
    ]
    with pytest.raises(RewardUnavailable, match="This reward is paused for now."):
        reward_redeem(member=member, reward=reward, idempotency_key="r:1")

    client.post(_status(reward), {"active": "1"})

    assert Reward.objects.get(pk=reward.pk).is_active is True
    assert reward_redeem(member=member, reward=reward, idempotency_key="r:2").reward == reward


def test_editing_keeps_the_stock_redemptions_took_meanwhile(client, marketer):
    reward = _reward(stock=10)
    seen = client.get(_edit(reward)).context["form"]
    assert seen.initial["stock_seen"] == 10
    reward_redeem(member=_rich_member(), reward=reward, idempotency_key="r:1")

    client.post(_edit(reward), _form(name="Renamed", stock="10", stock_seen="10"))

    reward.refresh_from_db()
    assert (reward.name, reward.stock) == ("Renamed", 9)


def test_changing_a_stock_that_moved_meanwhile_is_refused_then_accepted(client, marketer):
    reward = _reward(stock=10)
    reward_redeem(member=_rich_member(), reward=reward, idempotency_key="r:1")

    refused = client.post(_edit(reward), _form(name="Renamed", stock="50", stock_seen="10"))

    assert refused.status_code == 200
    assert refused.context["form"].errors["stock"] == [
        "Members redeemed this reward while you were editing it: 9 left now. "
        "Check the stock and save again."
    ]
    reward.refresh_from_db()
    assert (reward.name, reward.stock) == ("5 € off", 9)
    again = refused.context["form"]["stock_seen"].value()
    client.post(_edit(reward), _form(name="Renamed", stock="50", stock_seen=again))
    reward.refresh_from_db()
    assert (reward.name, reward.stock) == ("Renamed", 50)


# --- The rules of a redemption ------------------------------------------------------------


def test_stock_goes_down_one_per_redemption_and_out_of_stock_moves_nothing(db):
    reward = _reward(stock=1)
    first, second = _rich_member(), _rich_member()

    reward_redeem(member=first, reward=reward, idempotency_key="r:1")
    with pytest.raises(RewardUnavailable, match="This reward is out of stock."):
        reward_redeem(member=second, reward=reward, idempotency_key="r:2")

    assert Reward.objects.get(pk=reward.pk).stock == 0
    assert Member.objects.get(pk=second.pk).balance == 1000
    assert Redemption.objects.filter(member=second).count() == 0


def test_a_member_may_redeem_up_to_the_limit(db):
    reward = _reward(per_member_limit=2)
    member, other = _rich_member(), _rich_member()

    reward_redeem(member=member, reward=reward, idempotency_key="r:1")
    reward_redeem(member=member, reward=reward, idempotency_key="r:2")
    with pytest.raises(RewardUnavailable) as refused:
        reward_redeem(member=member, reward=reward, idempotency_key="r:3")
    reward_redeem(member=other, reward=reward, idempotency_key="r:4")

    assert refused.value.message == (
        "You have redeemed this reward 2 times, the most allowed per member."
    )
    assert Member.objects.get(pk=member.pk).balance == 800
    assert Redemption.objects.filter(reward=reward).count() == 3


def test_a_reward_is_redeemable_only_between_its_dates(db, settings):
    settings.TIME_ZONE = "Europe/Paris"
    now = timezone.now()
    later = _reward(valid_from=now + timedelta(days=1))
    ended = _reward(valid_until=now - timedelta(minutes=1))
    member = _rich_member()

    with pytest.raises(RewardUnavailable, match="This reward is offered from "):
        reward_redeem(member=member, reward=later, idempotency_key="r:1")
    with pytest.raises(RewardUnavailable, match="This reward was offered until "):
        reward_redeem(member=member, reward=ended, idempotency_key="r:2")
    redeemed = reward_redeem(
        member=member, reward=later, idempotency_key="r:3", at=now + timedelta(days=2)
    )

    assert redeemed.reward == later
    assert Member.objects.get(pk=member.pk).balance == 900


# --- The member's page ----------------------------------------------------------------------


def test_the_member_page_says_why_a_reward_cannot_be_redeemed(client):
    member = _rich_member(points=300)
    client.force_login(member.user)
    _reward(name="Gone", stock=0)
    limited = _reward(name="Once", per_member_limit=1)
    reward_redeem(member=member, reward=limited, idempotency_key="r:1")
    _reward(name="Soon", valid_from=timezone.now() + timedelta(days=3))
    _reward(name="Over", valid_until=timezone.now() - timedelta(days=1))
    _reward(name="Paused", is_active=False)
    _reward(name="Dear", points_cost=500)
    _reward(name="Few", stock=4, valid_until=timezone.now() + timedelta(days=30))

    page = client.get(reverse("loyalty:member"))

    offers = {o.reward.name: (o.refusal, o.missing) for o in page.context["summary"].rewards}
    assert set(offers) == {"Gone", "Once", "Soon", "Dear", "Few"}
    assert offers["Gone"] == ("This reward is out of stock.", 0)
    assert offers["Once"] == (
        "You have redeemed this reward 1 time, the most allowed per member.",
        0,
    )
    assert offers["Soon"][0].startswith("This reward is offered from ")
    assert offers["Dear"] == (None, 300)
    assert offers["Few"] == (None, 0)
    html = page.content.decode()
    assert "Only 4 left" in html
    assert "300 more points needed" in html
    assert html.count("disabled") == 4  # Gone, Once, Soon, Dear


def test_the_member_page_tells_why_a_redemption_was_refused(client):
    member = _rich_member()
    client.force_login(member.user)
    reward = _reward(stock=0)

    page = client.post(
        reverse("loyalty:redeem", kwargs={"pk": reward.pk}), {"key": "abc"}, follow=True
    )

    assert [str(m) for m in page.context["messages"]] == ["This reward is out of stock."]
    assert Member.objects.get(pk=member.pk).balance == 1000


def test_the_member_page_speaks_french_about_rewards(client):
    member = _rich_member()
    client.force_login(member.user)
    _reward(name="Gone", stock=0)

    page = client.get("/fr/loyalty/")

    assert "Cette récompense est épuisée." in page.content.decode()


# --- Concurrency (PostgreSQL) ------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_members_never_take_the_stock_below_zero():
    reward = _reward(stock=3)
    members = [_rich_member() for _ in range(12)]
    start = threading.Barrier(12)

    def redeem(i: int) -> str:
        start.wait()
        try:
            reward_redeem(member=Member(pk=members[i].pk), reward=reward, idempotency_key=f"r:{i}")
            return "ok"
        except RewardUnavailable:
            return "out"
        finally:
            connection.close()

    with slow_writes("loyalty_reward", 0.05), ThreadPoolExecutor(12) as pool:
        results = list(pool.map(redeem, range(12)))

    assert (results.count("ok"), results.count("out")) == (3, 9)
    assert Reward.objects.get(pk=reward.pk).stock == 0
    assert Redemption.objects.filter(reward=reward).count() == 3
    assert sorted(Member.objects.values_list("balance", flat=True)) == [900] * 3 + [1000] * 9
    assert_ledger_balanced()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_redemptions_of_one_member_respect_the_limit():
    reward = _reward(per_member_limit=2)
    member = _rich_member()
    start = threading.Barrier(10)

    def redeem(i: int) -> str:
        start.wait()
        try:
            reward_redeem(member=Member(pk=member.pk), reward=reward, idempotency_key=f"r:{i}")
            return "ok"
        except (RewardUnavailable, InsufficientPoints):
            return "refused"
        finally:
            connection.close()

    with slow_writes("loyalty_member", 0.05), ThreadPoolExecutor(10) as pool:
        results = list(pool.map(redeem, range(10)))

    assert results.count("ok") == 2
    assert Redemption.objects.filter(member=member).count() == 2
    assert Member.objects.get(pk=member.pk).balance == 800
    assert_ledger_balanced()
