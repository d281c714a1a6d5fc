"""README.md "Recommendations": the job's rows (products bought together, popularity,
members' "for you" products with their reasons), incremental and idempotent."""

import datetime as dt

import pytest
from django.utils import timezone
from oscar.core.loading import get_model
from oscar.test.factories import create_product

from loyalty.models import (
    MemberRecommendation,
    ProductOrders,
    ProductPair,
    RecommendationRun,
)
from loyalty.recommendations import (
    for_you_ids,
    member_recommendations_explained,
    pairs_strongest,
    together_ids,
)
from loyalty.services.recommendations import recommendations_refresh
from loyalty.tasks import refresh_recommendations
from tests.factories import category, product
from tests.loyalty.factories import member_factory, order_for

pytestmark = pytest.mark.django_db

Order = get_model("order", "Order")


def pairs() -> dict[tuple[str, str], int]:
    return {
        (p.product.title, p.other.title): p.times
        for p in ProductPair.objects.select_related("product", "other")
    }


def popularity() -> dict[str, int]:
    return {p.product.title: p.orders for p in ProductOrders.objects.select_related("product")}


def recommended(member) -> list[tuple[int, str, str, str | None, str | None, int]]:
    return [
        (
            r.position,
            r.product.title,
            r.reason,
            r.via_product.title if r.via_product else None,
            r.via_category.name if r.via_category else None,
            r.times,
        )
        for r in MemberRecommendation.objects.filter(member=member)
        .select_related("product", "via_product", "via_category")
        .order_by("position")
    ]


def rows() -> tuple:
    """Everything the job writes, to compare two runs."""
    return (
        sorted(ProductPair.objects.values_list("product_id", "other_id", "times")),
        sorted(ProductOrders.objects.values_list("product_id", "orders")),
        sorted(
            MemberRecommendation.objects.values_list(
                "member_id",
                "product_id",
                "position",
                "reason",
                "score",
                "via_product_id",
                "via_category_id",
                "times",
            )
        ),
    )


def placed(member, *items, days_ago: float = 0, status: str | None = None):
    order = order_for(member.user, *[(item, 1) for item in items])
    Order.objects.filter(pk=order.pk).update(
        date_placed=timezone.now() - dt.timedelta(days=days_ago),
        **({"status": status} if status else {}),
    )
    return order


@pytest.fixture
def shop():
    cheese = category("Cheese")
    wine = category("Wine")
    return {
        "munster": product("Munster", categories=[cheese]),
        "comte": product("Comté", categories=[cheese]),
        "brie": product("Brie", categories=[cheese]),
        "riesling": product("Riesling", categories=[wine]),
        "pinot": product("Pinot gris", categories=[wine]),
        "caviar": product("Caviar"),
    }


def test_pairs_count_orders_holding_both_and_skip_cancelled_orders(shop):
    ann, bob, cid = member_factory(), member_factory(), member_factory()
    placed(ann, shop["munster"], shop["riesling"])
    placed(bob, shop["munster"], shop["riesling"], shop["comte"])
    placed(cid, shop["munster"], shop["comte"])
    placed(cid, shop["munster"], shop["caviar"], status="Cancelled")

    run = recommendations_refresh(at=timezone.now())

    assert pairs() == {
        ("Munster", "Riesling"): 2,
        ("Munster", "Comté"): 2,
        ("Riesling", "Munster"): 2,
        ("Riesling", "Comté"): 1,
        ("Comté", "Munster"): 2,
        ("Comté", "Riesling"): 1,
    }
    assert popularity() == {"Munster": 3, "Riesling": 2, "Comté": 2}
    assert (run.full, run.products, run.members) == (True, 4, 3)
    assert [(p.product.title, p.other.title, p.times) for p in pairs_strongest()] == [
        ("Munster", "Comté", 2),
        ("Munster", "Riesling", 2),
        ("Comté", "Riesling", 1),
    ]


def test_a_member_gets_products_bought_with_theirs_then_popular_ones_in_their_categories(
    shop,
):
    ann, bob, cid = member_factory(), member_factory(), member_factory()
    placed(bob, shop["munster"], shop["riesling"])
    placed(cid, shop["munster"], shop["riesling"])
    placed(cid, shop["munster"], shop["pinot"])
    placed(bob, shop["brie"])
    placed(ann, shop["munster"])
    placed(ann, shop["comte"])

    recommendations_refresh(at=timezone.now())

    assert recommended(ann) == [
        (1, "Riesling", "together", "Munster", None, 2),
        (2, "Pinot gris", "together", "Munster", None, 1),
        # Ann bought two cheeses: Brie is the cheese she has not bought.
        (3, "Brie", "category", None, "Cheese", 2),
    ]
    assert [e.why for e in member_recommendations_explained(member=ann)] == [
        "Bought together with Munster (2 times)",
        "Bought together with Munster (1 times)",
        "Buys in the category Cheese (2 purchases); in 1 orders in all",
    ]
    assert for_you_ids(user=ann.user) == [
        shop["riesling"].pk,
        shop["pinot"].pk,
        shop["brie"].pk,
    ]


def test_the_strongest_partner_explains_a_product_bought_with_several(shop):
    ann, bob = member_factory(), member_factory()
    placed(bob, shop["munster"], shop["riesling"], shop["comte"])
    placed(bob, shop["comte"], shop["riesling"])
    placed(ann, shop["munster"], shop["comte"])

    recommendations_refresh(at=timezone.now())

    # Riesling was in 1 order with Munster and 2 with Comté: scored 3, explained by Comté.
    assert recommended(ann) == [(1, "Riesling", "together", "Comté", None, 2)]
    assert MemberRecommendation.objects.get(member=ann).score == 3


def test_a_variant_counts_as_its_parent_and_hidden_products_are_not_recommended(shop):
    parent = create_product(title="Kougelhopf", structure="parent")
    small = create_product(
        title="Kougelhopf S", structure="child", parent=parent, price=5, num_in_stock=5
    )
    hidden = product("Secret", is_public=False)
    ann, bob = member_factory(), member_factory()
    placed(bob, shop["munster"], small, hidden)
    placed(ann, shop["munster"])

    recommendations_refresh(at=timezone.now())

    assert pairs()[("Munster", "Kougelhopf")] == 1
    assert ("Munster", "Kougelhopf S") not in pairs()
    assert recommended(ann) == [(1, "Kougelhopf", "together", "Munster", None, 1)]
    assert together_ids(product_ids=[shop["munster"].pk]) == [parent.pk, hidden.pk]


def test_a_second_run_reads_only_new_orders_and_gives_their_rows_as_a_full_run(shop):
    ann, bob = member_factory(), member_factory()
    placed(ann, shop["munster"], shop["riesling"], days_ago=3)
    placed(bob, shop["brie"], shop["pinot"], days_ago=3)
    first = recommendations_refresh(at=timezone.now() - dt.timedelta(days=2))

    again = recommendations_refresh(at=timezone.now() - dt.timedelta(days=1))
    assert (again.full, again.products, again.members) == (False, 0, 0)
    placed(bob, shop["munster"], shop["comte"])
    incremental = recommendations_refresh(at=timezone.now())
    pairs_after, popularity_after, _ = rows()
    bob_after, ann_after = recommended(bob), recommended(ann)
    full = recommendations_refresh(at=timezone.now(), full=True)

    assert (first.full, incremental.full, full.full) == (True, False, True)
    # Munster and Comté were in the new order; Bob placed it.
    assert (incremental.products, incremental.members) == (2, 1)
    assert rows()[:2] == (pairs_after, popularity_after)
    assert (
        recommended(bob)
        == bob_after
        == [
            (1, "Riesling", "together", "Munster", None, 1),
        ]
    )
    # Ann ordered nothing new: Comté, now bought with her Munster, reaches her at the
    # nightly full run.
    in_her_categories = [
        ("Brie", "category", None, "Cheese", 1),
        ("Pinot gris", "category", None, "Wine", 1),
    ]
    assert ann_after == [(i, *row) for i, row in enumerate(in_her_categories, start=1)]
    assert recommended(ann) == [
        (1, "Comté", "together", "Munster", None, 1),
        *[(i, *row) for i, row in enumerate(in_her_categories, start=2)],
    ]
    assert RecommendationRun.objects.count() == 4


def test_a_cancellation_is_read_by_the_next_run(shop):
    ann, bob = member_factory(), member_factory()
    order = placed(bob, shop["munster"], shop["riesling"], days_ago=5)
    placed(ann, shop["munster"], days_ago=5)
    recommendations_refresh(at=timezone.now() - dt.timedelta(hours=2))
    assert recommended(ann) == [(1, "Riesling", "together", "Munster", None, 1)]

    order.set_status("Cancelled")
    run = recommendations_refresh(at=timezone.now())

    assert (run.full, run.products, run.members) == (False, 2, 1)
    assert pairs() == {}
    # Ann's own rows are refreshed by the nightly full run.
    recommendations_refresh(at=timezone.now(), full=True)
    # Only Ann's Munster is left: no other cheese was ordered, so nothing to suggest.
    assert recommended(ann) == []


def test_the_beat_task_runs_the_job(shop):
    ann = member_factory()
    placed(ann, shop["munster"], shop["riesling"])

    assert refresh_recommendations() == {"products": 2, "members": 1}
    assert refresh_recommendations() == {"products": 2, "members": 1}  # the overlap hour
    assert refresh_recommendations(full=True) == {"products": 2, "members": 1}


def test_members_in_chunks_get_the_rows_of_one_chunk(shop):
    """The member step replaces `members_per_chunk` members per statement: cut into chunks
    of 2, the rows are those of a single chunk, and a full run clears the rows of a member
    left without orders, whichever chunk's range they fall in."""
    items = list(shop.values())
    members = [member_factory() for _ in range(3)]
    idle = member_factory()
    members += [member_factory() for _ in range(4)]
    for index, member in enumerate(members):
        for order in range(index % 3 + 1):
            placed(member, *{items[(index + order * k) % len(items)] for k in (1, 2, 5)})
    MemberRecommendation.objects.create(
        member=idle,
        product=shop["caviar"],
        position=1,
        reason="together",
        score=1,
        times=1,
        via_product=shop["munster"],
    )

    steps = []
    chunked = recommendations_refresh(
        at=timezone.now(), full=True, members_per_chunk=2, progress=steps.append
    )
    chunked_rows = rows()
    MemberRecommendation.objects.all().delete()
    whole = recommendations_refresh(at=timezone.now(), full=True, members_per_chunk=100)

    assert rows() == chunked_rows
    assert not MemberRecommendation.objects.filter(member=idle).exists()
    assert MemberRecommendation.objects.values("member").distinct().count() == 7
    assert (chunked.members, whole.members) == (7, 7)
    assert [(s.step, s.done, s.total) for s in steps] == [
        ("products", 6, 6),
        ("members", 2, 7),
        ("members", 4, 7),
        ("members", 6, 7),
        ("members", 7, 7),
    ]


def test_an_incremental_run_in_chunks_refreshes_only_the_members_with_new_orders(shop):
    ann, bob, cid, dan = (member_factory() for _ in range(4))
    placed(ann, shop["munster"], shop["riesling"], days_ago=3)
    placed(bob, shop["munster"], shop["comte"], days_ago=3)
    placed(cid, shop["munster"], days_ago=3)
    placed(dan, shop["munster"], days_ago=3)
    recommendations_refresh(at=timezone.now() - dt.timedelta(days=2))
    before = recommended(cid)
    placed(ann, shop["comte"], shop["brie"])
    placed(dan, shop["pinot"])

    steps = []
    run = recommendations_refresh(at=timezone.now(), members_per_chunk=1, progress=steps.append)

    assert (run.full, run.members) == (False, 2)
    assert [(s.step, s.done, s.total) for s in steps][1:] == [
        ("members", 1, 2),
        ("members", 2, 2),
    ]
    assert recommended(dan) == [
        (1, "Comté", "together", "Munster", None, 1),
        (2, "Riesling", "together", "Munster", None, 1),
        (3, "Brie", "category", None, "Cheese", 1),
    ]
    # Cid ordered nothing new: his rows wait for the nightly run, though Brie is now
    # bought (popular) in his category.
    assert before == [
        (1, "Comté", "together", "Munster", None, 1),
        (2, "Riesling", "together", "Munster", None, 1),
    ]
    assert recommended(cid) == before
    refreshed = {m.pk: recommended(m) for m in (ann, dan)}

    recommendations_refresh(at=timezone.now(), full=True, members_per_chunk=1)

    assert {m.pk: recommended(m) for m in (ann, dan)} == refreshed
    assert recommended(cid) == [*before, (3, "Brie", "category", None, "Cheese", 1)]
