"""Segments: every condition type, AND/OR nesting, validation, one SQL query, the stats task."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oscar.core.loading import get_model

from loyalty.models import MemberCategory, MemberStats, Tier
from loyalty.segments import SegmentRulesError, rules_validate
from loyalty.selectors import email_masked, segment_members, segment_sample
from loyalty.services.ledger import points_credit
from loyalty.services.member_stats import member_stats_refresh
from loyalty.services.segments import segment_save
from shop.communication.preferences import consent_record
from stores.models import StorePreference
from tests.factories import category, product
from tests.loyalty.factories import member_factory, order_for
from tests.stores.factories import pickup_order, store

pytestmark = pytest.mark.django_db

Order = get_model("order", "Order")
OutboxMessage = get_model("communication", "OutboxMessage")


def matching(rules) -> set:
    return set(segment_members(rules=rules).values_list("pk", flat=True))


def one(condition) -> dict:
    return {"match": "all", "conditions": [condition]}


def order_at(member, days_ago: float, *lines, status=None):
    """An order of `member` placed `days_ago` days ago."""
    lines = lines or ((product("Thing", price="10.00"), 1),)
    order = order_for(member.user, *lines)
    placed = timezone.now() - dt.timedelta(days=days_ago)
    Order.objects.filter(pk=order.pk).update(
        date_placed=placed, **({"status": status} if status else {})
    )
    return order


@pytest.fixture
def two():
    """Two members: `a` matches each test's condition, `b` does not."""
    return member_factory(first_name="Ann"), member_factory(first_name="Bob")


# --- One test per condition type (a inside, b outside) ------------------------------------


def test_tier(two):
    a, b = two
    a.tier = Tier.GOLD
    a.save(update_fields=["tier"])

    assert matching(one({"type": "tier", "op": "in", "value": ["gold", "silver"]})) == {a.pk}
    assert matching(one({"type": "tier", "op": "not_in", "value": "gold"})) == {b.pk}


def test_points_balance(two):
    a, b = two
    points_credit(member=a, amount=600, reason="test", idempotency_key="seg-a")
    b.refresh_from_db()
    assert b.balance < 500

    assert matching(one({"type": "points_balance", "op": "gte", "value": 500})) == {a.pk}


def test_lifetime_spend_counts_members_without_orders_as_zero(two):
    a, b = two
    order_at(a, 3, (product("Wine", price="80.00"), 1))
    member_stats_refresh(at=timezone.now())

    assert matching(one({"type": "lifetime_spend", "op": "gte", "value": "50"})) == {a.pk}
    assert matching(one({"type": "lifetime_spend", "op": "lt", "value": "50"})) == {b.pk}


def test_spend_within_n_days_excludes_older_and_cancelled_orders(two):
    a, b = two
    order_at(a, 5, (product("Cheese", price="30.00"), 1))
    order_at(b, 40, (product("Cheese", price="30.00"), 1))
    order_at(b, 2, (product("Caviar", price="99.00"), 1), status="Cancelled")

    rule = one({"type": "spend_within", "op": "gte", "value": "20", "days": 30})

    assert matching(rule) == {a.pk}
    # Less than 20: members who spent nothing in the window match too.
    assert matching({**rule, "conditions": [{**rule["conditions"][0], "op": "lt"}]}) == {b.pk}


@pytest.mark.parametrize("score", ["recency_score", "frequency_score", "monetary_score"])
def test_rfm_scores(two, score):
    a, b = two
    # a: recent, frequent and big; b: one small old order.
    for days in (1, 2, 3):
        order_at(a, days, (product("Big", price="100.00"), 1))
    order_at(b, 200, (product("Small", price="5.00"), 1))
    member_stats_refresh(at=timezone.now())

    assert matching(one({"type": score, "op": "gte", "value": 4})) == {a.pk}
    assert matching(one({"type": score, "op": "eq", "value": 1})) == {b.pk}


def test_days_since_last_order(two):
    a, b = two
    order_at(a, 45)
    order_at(b, 10)
    member_stats_refresh(at=timezone.now())

    assert matching(one({"type": "days_since_last_order", "op": "gte", "value": 30})) == {a.pk}
    assert matching(one({"type": "days_since_last_order", "op": "eq", "value": 10})) == {b.pk}


def test_orders_count(two):
    a, b = two
    order_at(a, 1)
    order_at(a, 2)
    member_stats_refresh(at=timezone.now())

    assert matching(one({"type": "orders_count", "op": "gte", "value": 2})) == {a.pk}
    assert matching(one({"type": "orders_count", "op": "eq", "value": 0})) == {b.pk}


def test_home_store(two):
    a, b = two
    centre, north = store("Centre"), store("North")
    StorePreference.objects.create(user=a.user, store=centre)
    StorePreference.objects.create(user=b.user, store=north)

    assert matching(one({"type": "home_store", "op": "in", "value": [centre.pk]})) == {a.pk}
    assert matching(one({"type": "home_store", "op": "not_in", "value": str(centre.pk)})) == {b.pk}


def test_last_pickup_store(two):
    a, b = two
    centre, north = store("Centre"), store("North")
    pickup_order(north, user=a.user)
    pickup_order(centre, user=a.user)  # the latest
    pickup_order(north, user=b.user)
    member_stats_refresh(at=timezone.now())

    assert matching(one({"type": "last_pickup_store", "op": "in", "value": [centre.pk]})) == {a.pk}


def test_home_store_distance(two):
    a, b = two
    # Strasbourg centre; Kehl is about 6 km away, Paris about 400 km.
    centre = store("Centre", lat=48.5819, lng=7.7507)
    kehl = store("Kehl", lat=48.5722, lng=7.8155)
    paris = store("Paris", lat=48.8566, lng=2.3522)
    StorePreference.objects.create(user=a.user, store=kehl)
    StorePreference.objects.create(user=b.user, store=paris)

    near = {"type": "home_store_distance", "op": "lte", "value": "10", "store": centre.pk}
    far = {"type": "home_store_distance", "op": "gt", "value": "10", "store": centre.pk}

    assert matching(one(near)) == {a.pk}
    assert matching(one(far)) == {b.pk}


def test_pickup_store_distance(two):
    a, b = two
    centre = store("Centre", lat=48.5819, lng=7.7507)
    kehl = store("Kehl", lat=48.5722, lng=7.8155)
    paris = store("Paris", lat=48.8566, lng=2.3522)
    pickup_order(kehl, user=a.user)
    pickup_order(paris, user=b.user)
    member_stats_refresh(at=timezone.now())

    rule = one({"type": "pickup_store_distance", "op": "lte", "value": "7", "store": centre.pk})

    assert matching(rule) == {a.pk}


def test_bought_category_ever_and_within_days_including_subcategories(two):
    a, b = two
    food = category("Food")
    cheese = category("Cheese", parent=food)
    wine = category("Wine", parent=food)
    order_at(a, 3, (product("Comté", categories=[cheese]), 1))
    order_at(b, 90, (product("Riesling", categories=[wine]), 1))
    member_stats_refresh(at=timezone.now())

    assert matching(one({"type": "bought_category", "op": "in", "value": cheese.pk})) == {a.pk}
    assert matching(one({"type": "bought_category", "op": "in", "value": food.pk})) == {
        a.pk,
        b.pk,
    }
    recent_food = {"type": "bought_category", "op": "in", "value": food.pk, "days": 30}
    assert matching(one(recent_food)) == {a.pk}
    assert matching(one({"type": "bought_category", "op": "not_in", "value": cheese.pk})) == {b.pk}


def test_bought_product_ever_and_within_days(two):
    a, b = two
    comte = product("Comté")
    order_at(a, 3, (comte, 1))
    order_at(b, 60, (comte, 1))

    assert matching(one({"type": "bought_product", "op": "in", "value": comte.pk})) == {
        a.pk,
        b.pk,
    }
    recent = {"type": "bought_product", "op": "in", "value": comte.pk, "days": 30}
    assert matching(one(recent)) == {a.pk}


def test_birthday_month(two):
    a, b = two
    a.birthday, b.birthday = dt.date(1990, 3, 14), dt.date(1985, 11, 2)
    a.save(update_fields=["birthday"])
    b.save(update_fields=["birthday"])

    assert matching(one({"type": "birthday_month", "op": "in", "value": "3, 4"})) == {a.pk}


def test_joined_within(two):
    a, b = two
    b.joined_at = timezone.now() - dt.timedelta(days=100)
    b.save(update_fields=["joined_at"])

    assert matching(one({"type": "joined_within", "value": 30})) == {a.pk}


def test_consent_per_channel_uses_the_latest_record(two):
    a, b = two
    consent_record(user=a.user, channel="email", granted=True, source="test")
    consent_record(user=b.user, channel="email", granted=True, source="test")
    consent_record(user=b.user, channel="email", granted=False, source="test")
    consent_record(user=b.user, channel="sms", granted=True, source="test")

    assert matching(one({"type": "consent", "op": "in", "value": "email"})) == {a.pk}
    assert matching(one({"type": "consent", "op": "not_in", "value": "email"})) == {b.pk}
    assert matching(one({"type": "consent", "op": "in", "value": "sms"})) == {b.pk}


def test_language_is_the_one_the_shop_last_wrote_in(two):
    a, b = two
    now = timezone.now()
    for member, language in ((a, "fr"), (b, "en")):
        OutboxMessage.objects.create(
            user=member.user,
            channel="email",
            recipient=member.user.email,
            language=language,
            max_attempts=1,
            next_attempt_at=now,
        )
        order_at(member, 1)
    member_stats_refresh(at=now)

    assert matching(one({"type": "language", "op": "in", "value": ["fr"]})) == {a.pk}


# --- Nesting, validation, one query -------------------------------------------------------


def test_and_or_nesting():
    gold_fr = member_factory()
    gold_en = member_factory()
    silver = member_factory()
    for member, tier in ((gold_fr, Tier.GOLD), (gold_en, Tier.GOLD), (silver, Tier.SILVER)):
        member.tier = tier
        member.save(update_fields=["tier"])
    silver.birthday = dt.date(1990, 6, 1)
    silver.save(update_fields=["birthday"])
    consent_record(user=gold_fr.user, channel="sms", granted=True, source="test")

    rules = {
        "match": "any",
        "conditions": [
            {
                "match": "all",
                "conditions": [
                    {"type": "tier", "op": "in", "value": ["gold"]},
                    {"type": "consent", "op": "in", "value": "sms"},
                ],
            },
            {"type": "birthday_month", "op": "in", "value": [6]},
        ],
    }

    assert matching(rules) == {gold_fr.pk, silver.pk}
    rules["match"] = "all"
    assert matching(rules) == set()
    assert matching({"match": "all", "conditions": []}) == {gold_fr.pk, gold_en.pk, silver.pk}


def test_bad_rules_give_one_clear_error_per_condition():
    rules = {
        "match": "all",
        "conditions": [
            {"type": "tier", "op": "in", "value": ["platinum"]},
            {"type": "points_balance", "op": "gte", "value": "lots"},
            {"match": "any", "conditions": [{"type": "shoe_size", "value": 42}]},
            {"type": "spend_within", "op": "gte", "value": "10"},
            {"type": "recency_score", "op": "in", "value": 7},
            {"type": "home_store_distance", "op": "lte", "value": "5"},
            {"match": "all", "conditions": []},
        ],
    }

    with pytest.raises(SegmentRulesError) as caught:
        rules_validate(rules)

    assert caught.value.errors == [
        "Condition 1 (Tier): unknown tier ['platinum'] (bronze, silver, gold).",
        "Condition 2 (Points balance): enter a whole number of 0 or more.",
        "Condition 3.1: unknown type 'shoe_size'.",
        "Condition 4 (Spend in the last N days): enter a number of days.",
        "Condition 5 (Recency score (1-5)): choose one of at least, at most, exactly, "
        "more than, less than.",
        "Condition 5 (Recency score (1-5)): enter a score from 1 to 5.",
        "Condition 6 (Home store's distance to a store (km)): choose the store to measure from.",
        "Group 7: add at least one condition.",
    ]
    with pytest.raises(SegmentRulesError):
        segment_members(rules={"match": "both", "conditions": []})


def test_a_type_that_is_not_a_string_is_an_unknown_type_not_a_crash():
    # The advanced JSON field lets a marketer write any JSON as the type.
    rules = {"match": "all", "conditions": [{"type": ["tier"], "op": "in", "value": ["gold"]}]}

    with pytest.raises(SegmentRulesError) as caught:
        rules_validate(rules)

    assert caught.value.errors == ["Condition 1: unknown type ['tier']."]


def test_every_condition_together_is_one_query_to_count_and_one_to_sample():
    a = member_factory(first_name="Ann", last_name="Lee", email="ann.lee@example.com")
    centre = store("Centre")
    food = category("Food")
    rules = {
        "match": "any",
        "conditions": [
            {"type": "tier", "op": "in", "value": ["bronze"]},
            {"type": "points_balance", "op": "gte", "value": 0},
            {"type": "lifetime_spend", "op": "gte", "value": "0"},
            {"type": "spend_within", "op": "gte", "value": "0", "days": 30},
            {"type": "recency_score", "op": "gte", "value": 1},
            {"type": "frequency_score", "op": "gte", "value": 1},
            {"type": "monetary_score", "op": "gte", "value": 1},
            {"type": "days_since_last_order", "op": "gte", "value": 1},
            {"type": "orders_count", "op": "gte", "value": 0},
            {"type": "home_store", "op": "in", "value": [centre.pk]},
            {"type": "last_pickup_store", "op": "not_in", "value": [centre.pk]},
            {"type": "home_store_distance", "op": "lte", "value": "5", "store": centre.pk},
            {"type": "pickup_store_distance", "op": "gt", "value": "5", "store": centre.pk},
            {"type": "bought_category", "op": "in", "value": food.pk, "days": 10},
            {"type": "bought_product", "op": "not_in", "value": 1},
            {"type": "birthday_month", "op": "in", "value": [1]},
            {"type": "joined_within", "value": 5},
            {"type": "consent", "op": "in", "value": "push"},
            {"type": "language", "op": "in", "value": ["fr"]},
        ],
    }
    members = segment_members(rules=rules)

    with CaptureQueriesContext(connection) as count_queries:
        count = members.count()
    with CaptureQueriesContext(connection) as sample_queries:
        sample = segment_sample(members=members)

    assert count == 1
    assert len(count_queries) == 1
    assert len(sample_queries) == 1
    assert [(row.name, row.email) for row in sample] == [("Ann Lee", "a***@example.com")]
    assert a.pk == sample[0].pk


def test_email_masked():
    assert email_masked("jo@example.com") == "j***@example.com"
    assert email_masked("not-an-email") == "***"


def test_a_rule_change_bumps_the_segment_version():
    segment = segment_save(name="Gold", rules=one({"type": "tier", "value": ["gold"]}))
    assert segment.version == 1

    segment = segment_save(segment=segment, name="Gold!", rules=segment.rules)
    assert segment.version == 1
    segment = segment_save(
        segment=segment, name="Gold", rules=one({"type": "tier", "value": "silver"})
    )
    assert segment.version == 2
    assert segment.rules == {
        "match": "all",
        "conditions": [{"type": "tier", "op": "in", "value": ["silver"]}],
    }


# --- The statistics task --------------------------------------------------------------------


def _rows():
    stats = list(
        MemberStats.objects.order_by("member_id").values_list(
            "member_id",
            "orders_count",
            "lifetime_spend",
            "last_order_at",
            "recency_score",
            "frequency_score",
            "monetary_score",
            "last_pickup_store_id",
        )
    )
    categories = list(
        MemberCategory.objects.order_by("pk").values_list(
            "pk", "member_id", "category_id", "first_bought_at", "last_bought_at"
        )
    )
    return stats, categories


def test_the_stats_task_is_idempotent_and_incremental():
    from loyalty.tasks import refresh_member_stats

    cheese = category("Cheese")
    a, b, c = member_factory(), member_factory(), member_factory()
    order_at(a, 10, (product("Comté", price="20.00", categories=[cheese]), 1))
    order_at(a, 400, (product("Brie", price="5.00", categories=[cheese]), 2))
    order_at(b, 3, (product("Bread", price="3.00"), 1))
    order_at(b, 1, (product("Caviar", price="90.00"), 1), status="Cancelled")

    assert refresh_member_stats() == 2
    first = _rows()
    assert refresh_member_stats() == 1  # only b's orders are within the overlap window
    assert _rows() == first  # same rows, same primary keys

    stats_a = MemberStats.objects.get(member=a)
    assert (stats_a.orders_count, stats_a.lifetime_spend) == (2, Decimal("30.00"))
    assert MemberStats.objects.get(member=b).orders_count == 1
    assert not MemberStats.objects.filter(member=c).exists()
    assert list(MemberCategory.objects.filter(member=a).values_list("category", flat=True)) == [
        cheese.pk
    ]

    # A new order of c only: c is computed, a's row is not touched.
    order_at(c, 0, (product("Tea", price="4.00"), 1))
    computed_a = stats_a.computed_at
    assert member_stats_refresh(at=timezone.now()) == 2  # b (in the overlap) and c
    assert MemberStats.objects.get(member=a).computed_at == computed_a
    assert MemberStats.objects.get(member=c).orders_count == 1
    assert member_stats_refresh(at=timezone.now(), full=True) == 3


def test_the_stats_task_is_scheduled_by_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["loyalty-refresh-member-stats"]
    assert entry["task"] == "loyalty.tasks.refresh_member_stats"


# --- Set-based refresh on PostgreSQL -------------------------------------------------------

STATS_FIELDS = [field.attname for field in MemberStats._meta.concrete_fields]


def _all_rows():
    """Every column of every statistics row and category bought (ids left out: the two
    computations are compared on the same database state, one after a rollback)."""
    stats = list(MemberStats.objects.order_by("member_id").values_list(*STATS_FIELDS))
    categories = list(
        MemberCategory.objects.order_by("member_id", "category_id").values_list(
            "member_id", "category_id", "first_bought_at", "last_bought_at"
        )
    )
    return stats, categories


def _python_rows(*, since, at):
    """What the Python computation (the path SQLite takes) writes, rolled back after."""
    from django.db import transaction

    from loyalty.services.member_stats import stats_refresh_in_python

    with transaction.atomic():
        count = stats_refresh_in_python(since=since, at=at)
        rows = _all_rows()
        transaction.set_rollback(True)
    return count, rows


def _population(*, members: int, seed: int) -> None:
    from django.core.management import call_command

    call_command(
        "population_generate",
        members=members,
        orders=4 * members,
        seed=seed,
        today=dt.date(2026, 11, 30),
        no_stats=True,
        stdout=open("/dev/null", "w"),  # noqa: SIM115
        stderr=open("/dev/null", "w"),  # noqa: SIM115
    )


@pytest.mark.postgres(reason="the set-based refresh is PostgreSQL's (DISTINCT ON, UPDATE FROM)")
def test_the_set_based_refresh_writes_what_the_python_computation_writes():
    from django.db.models import Max

    from loyalty.services.member_stats import STATS_OVERLAP

    # Given a small generated population (cancelled orders, pickups, languages, categories),
    # a child product bought (its parent's categories count) and stale rows to correct
    _population(members=40, seed=5)
    categories = get_model("catalogue", "Category").objects.order_by("-depth", "path")
    cheese = categories.first()
    wine = categories.exclude(pk__in=[cheese.pk, *(a.pk for a in cheese.get_ancestors())]).first()
    parent = product("Cheeses", price="10.00", categories=[cheese])
    child = product("Comté 200 g", price="6.00")
    child.parent, child.structure = parent, "child"
    child.save(update_fields=["parent", "structure"])
    buyer = member_factory()
    order_at(buyer, 3, (child, 1))
    cancelled_only = member_factory()
    order_at(cancelled_only, 2, status="Cancelled")
    at = timezone.now()
    expected_count, expected = _python_rows(since=None, at=at)
    assert len(expected[0]) > 20 and len(expected[1]) > 40
    assert (cancelled_only.pk, 0) in [row[:2] for row in expected[0]]
    bought = [row[1] for row in expected[1] if row[0] == buyer.pk]
    assert bought == sorted([cheese.pk, *(a.pk for a in cheese.get_ancestors())])

    # When the full refresh runs on PostgreSQL (over stale rows: a category never bought,
    # scores of a member whose orders were all cancelled)
    MemberStats.objects.create(member=cancelled_only, orders_count=3, recency_score=5)
    MemberCategory.objects.create(
        member=buyer, category=wine, first_bought_at=at, last_bought_at=at
    )
    assert member_stats_refresh(at=at, full=True) == expected_count

    # Then every column of every row is what the Python computation wrote
    assert _all_rows() == expected

    # And so is an incremental run after new orders of two members
    first, second = member_factory(), MemberStats.objects.order_by("member_id").first().member
    order_at(first, 0, (parent, 2))
    order_at(second, 0)
    later = at + dt.timedelta(hours=2)
    newest = MemberStats.objects.aggregate(newest=Max("last_order_at"))["newest"]
    expected_count, expected = _python_rows(since=newest - STATS_OVERLAP, at=later)
    assert member_stats_refresh(at=later) == expected_count >= 2
    assert _all_rows() == expected


@pytest.mark.postgres(reason="the set-based refresh is PostgreSQL's (DISTINCT ON, UPDATE FROM)")
def test_the_set_based_refresh_takes_as_many_queries_for_more_members():
    _population(members=10, seed=6)
    at = timezone.now()
    with CaptureQueriesContext(connection) as small:
        small_count = member_stats_refresh(at=at, full=True)
    _population(members=50, seed=7)
    with CaptureQueriesContext(connection) as large:
        large_count = member_stats_refresh(at=at, full=True)

    assert small_count < large_count
    assert len(small) == len(large) <= 8
