"""The member statistics segments filter on (RFM scores, categories bought): MemberStats
and MemberCategory, refreshed incrementally by beat (README.md "Segments").

On PostgreSQL the refresh is set-based (loyalty.services.member_stats_sql); elsewhere the
same rows are computed here in Python."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Sum

from loyalty.models import Member, MemberCategory, MemberStats
from loyalty.services.member_stats_sql import stats_refresh_in_sql

# Orders placed this long before the newest one already counted are read again on the
# next run: an order committed late (a long checkout transaction) is still counted.
STATS_OVERLAP = timedelta(hours=1)
STATS_CHUNK = 1000


def _quintiles(values: dict[int, object]) -> dict[int, int]:
    """Score 1-5 per key by quintile of its value's percent rank (PERCENT_RANK: the
    lowest value 0, the highest 1), so the lowest value scores 1 and the highest 5;
    equal values share the lowest rank; a lone member is in the middle (3)."""
    ordered = sorted(values.items(), key=lambda kv: (kv[1], kv[0]))
    scores: dict[int, int] = {}
    count = len(ordered)
    first_rank: dict[object, int] = {}
    for rank, (key, value) in enumerate(ordered):
        first = first_rank.setdefault(value, rank)
        scores[key] = 1 + min(4, (5 * first) // (count - 1)) if count > 1 else 3
    return scores


def _member_ids_to_refresh(*, since: datetime | None) -> list[int]:
    order_model = apps.get_model("order", "Order")
    orders = order_model.objects.filter(user__loyalty_member__isnull=False)
    if since is not None:
        orders = orders.filter(date_placed__gte=since)
    return sorted(
        set(orders.values_list("user__loyalty_member__id", flat=True).order_by().distinct())
    )


def _stats_for(member_ids: list[int], at: datetime) -> list[MemberStats]:
    order_model = apps.get_model("order", "Order")
    outbox_model = apps.get_model("communication", "OutboxMessage")
    users = dict(Member.objects.filter(pk__in=member_ids).values_list("user_id", "pk"))
    counted = order_model.objects.filter(user_id__in=users).exclude(
        status__in=settings.LOYALTY_VOID_ORDER_STATUSES
    )
    totals = {
        row["user_id"]: row
        for row in counted.order_by()
        .values("user_id")
        .annotate(
            count=Count("id"),
            spend=Sum("total_incl_tax"),
            first=Min("date_placed"),
            last=Max("date_placed"),
        )
    }
    pickups: dict[int, int] = {}
    for user_id, store_id in (
        counted.filter(pickup__isnull=False)
        .order_by("user_id", "-date_placed", "-id")
        .values_list("user_id", "pickup__store_id")
    ):
        pickups.setdefault(user_id, store_id)
    languages: dict[int, str] = {}
    for user_id, language in (
        outbox_model.objects.filter(user_id__in=users)
        .exclude(language="")
        .order_by("user_id", "-created_at", "-id")
        .values_list("user_id", "language")
    ):
        languages.setdefault(user_id, language.split("-")[0])
    rows = []
    for user_id, member_id in users.items():
        total = totals.get(user_id)
        last = total["last"] if total else None
        rows.append(
            MemberStats(
                member_id=member_id,
                orders_count=total["count"] if total else 0,
                lifetime_spend=(total["spend"] or Decimal(0)).quantize(Decimal("0.01"))
                if total
                else Decimal("0.00"),
                first_order_at=total["first"] if total else None,
                last_order_at=last,
                recency_days=(at - last).days if last else None,
                last_pickup_store_id=pickups.get(user_id),
                language=languages.get(user_id, ""),
                computed_at=at,
            )
        )
    return rows


def _categories_for(member_ids: list[int]) -> dict[tuple[int, int], tuple[datetime, datetime]]:
    """(member, category) -> (first, last) bought, each category's ancestors included."""
    line_model = apps.get_model("order", "Line")
    category_model = apps.get_model("catalogue", "Category")
    lines = line_model.objects.filter(order__user__loyalty_member__in=member_ids).exclude(
        order__status__in=settings.LOYALTY_VOID_ORDER_STATUSES
    )
    found: dict[tuple[int, int], tuple[datetime, datetime]] = {}
    # A child product's categories are its parent's (Oscar).
    for path in ("product__categories", "product__parent__categories"):
        rows = (
            lines.filter(**{f"{path}__isnull": False})
            .order_by()
            .values("order__user__loyalty_member__id", path)
            .annotate(first=Min("order__date_placed"), last=Max("order__date_placed"))
        )
        for row in rows:
            key = (row["order__user__loyalty_member__id"], row[path])
            old = found.get(key)
            found[key] = (
                (min(old[0], row["first"]), max(old[1], row["last"]))
                if old
                else (row["first"], row["last"])
            )
    if not found:
        return found
    paths = dict(category_model.objects.values_list("pk", "path"))
    by_path = {path: pk for pk, path in paths.items()}
    step = category_model.steplen
    with_ancestors: dict[tuple[int, int], tuple[datetime, datetime]] = {}
    for (member_id, category_id), (first, last) in found.items():
        path = paths.get(category_id, "")
        for end in range(step, len(path) + 1, step):
            ancestor = by_path.get(path[:end])
            if ancestor is None:
                continue
            key = (member_id, ancestor)
            old = with_ancestors.get(key)
            with_ancestors[key] = (min(old[0], first), max(old[1], last)) if old else (first, last)
    return with_ancestors


def _refresh_chunk(member_ids: list[int], at: datetime) -> None:
    stats = _stats_for(member_ids, at)
    with transaction.atomic():
        MemberStats.objects.bulk_create(
            stats,
            update_conflicts=True,
            unique_fields=["member"],
            update_fields=[
                "orders_count",
                "lifetime_spend",
                "first_order_at",
                "last_order_at",
                "recency_days",
                "last_pickup_store",
                "language",
                "computed_at",
            ],
        )
        wanted = _categories_for(member_ids)
        existing = set(
            MemberCategory.objects.filter(member_id__in=member_ids).values_list(
                "member_id", "category_id"
            )
        )
        gone = existing - set(wanted)
        for member_id, category_id in gone:
            MemberCategory.objects.filter(member_id=member_id, category_id=category_id).delete()
        MemberCategory.objects.bulk_create(
            [
                MemberCategory(
                    member_id=member_id,
                    category_id=category_id,
                    first_bought_at=first,
                    last_bought_at=last,
                )
                for (member_id, category_id), (first, last) in sorted(wanted.items())
            ],
            update_conflicts=True,
            unique_fields=["member", "category"],
            update_fields=["first_bought_at", "last_bought_at"],
        )


def _scores_refresh(at: datetime) -> int:
    """Recompute every member's RFM quintiles and recency; write only the rows that changed."""
    rows = list(
        MemberStats.objects.filter(orders_count__gt=0).values_list(
            "member_id",
            "last_order_at",
            "orders_count",
            "lifetime_spend",
            "recency_score",
            "frequency_score",
            "monetary_score",
            "recency_days",
        )
    )
    recency = _quintiles({row[0]: row[1] for row in rows})
    frequency = _quintiles({row[0]: row[2] for row in rows})
    monetary = _quintiles({row[0]: row[3] for row in rows})
    changed = []
    for member_id, last, _count, _spend, r, f, m, days in rows:
        assert last is not None, "a member with orders has a last order date"
        new = (recency[member_id], frequency[member_id], monetary[member_id], (at - last).days)
        if new != (r, f, m, days):
            changed.append(
                MemberStats(
                    member_id=member_id,
                    recency_score=new[0],
                    frequency_score=new[1],
                    monetary_score=new[2],
                    recency_days=new[3],
                )
            )
    MemberStats.objects.bulk_update(
        changed,
        ["recency_score", "frequency_score", "monetary_score", "recency_days"],
        batch_size=STATS_CHUNK,
    )
    # Members whose orders were all cancelled have no scores.
    MemberStats.objects.filter(orders_count=0).exclude(recency_score=None).update(
        recency_score=None, frequency_score=None, monetary_score=None, recency_days=None
    )
    return len(changed)


def member_stats_refresh(*, at: datetime, full: bool = False) -> int:
    """Bring MemberStats and MemberCategory up to date; returns the members recomputed.

    Incremental: only members with an order placed since the newest order already
    counted (less STATS_OVERLAP) are recomputed, each from all of their orders, so a run
    repeated or overlapping another gives the same rows (idempotent). `full` recomputes
    every member with orders. RFM scores are then re-ranked over all members.

    On PostgreSQL it is set-based: four statements (`stats_refresh_in_sql`),
    whatever the number of members; elsewhere (SQLite, the embedded default with small
    numbers) the same rows are computed in Python, STATS_CHUNK members at a time.
    """
    since = None
    if not full:
        newest = MemberStats.objects.aggregate(newest=Max("last_order_at"))["newest"]
        since = newest - STATS_OVERLAP if newest else None
    if connection.vendor == "postgresql":
        return stats_refresh_in_sql(since=since, at=at)
    return stats_refresh_in_python(since=since, at=at)


def stats_refresh_in_python(*, since: datetime | None, at: datetime) -> int:
    member_ids = _member_ids_to_refresh(since=since)
    for start in range(0, len(member_ids), STATS_CHUNK):
        _refresh_chunk(member_ids[start : start + STATS_CHUNK], at)
    _scores_refresh(at)
    return len(member_ids)
