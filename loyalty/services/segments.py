"""Writes for segments: saving a segment, and the member statistics segments filter on."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Sum
from django.utils.translation import gettext as _

from loyalty.models import Member, MemberCategory, MemberStats, Segment
from loyalty.segments import rules_validate
from loyalty.services.errors import LoyaltyError

# Orders placed this long before the newest one already counted are read again on the
# next run: an order committed late (a long checkout transaction) is still counted.
STATS_OVERLAP = timedelta(hours=1)
STATS_CHUNK = 1000


@transaction.atomic
def segment_save(
    *,
    segment: Segment | None = None,
    name: str,
    description: str = "",
    rules: dict,
    offers: Iterable | None = None,
    user: User | None = None,
) -> Segment:
    """Create or update a segment with validated rules (SegmentRulesError otherwise).

    A change of rules bumps `version`, which invalidates cached memberships at once.
    """
    clean = rules_validate(rules)
    if segment is None:
        segment = Segment(created_by=user if user and user.is_authenticated else None)
    elif segment.rules != clean:
        segment.version = F("version") + 1
    segment.name = name
    segment.description = description
    segment.rules = clean
    segment.save()
    segment.refresh_from_db(fields=["version"])
    if offers is not None:
        segment.offers.set(offers)
    _segments_changed()
    return segment


class SegmentInUse(LoyaltyError):
    """Campaigns were sent to the segment: their history keeps it."""


@transaction.atomic
def segment_delete(*, segment: Segment) -> None:
    """Delete a segment no campaign uses (SegmentInUse otherwise)."""
    if segment.campaigns.exists():
        raise SegmentInUse(
            _("Campaigns use this segment, so it is kept: %(names)s.")
            % {"names": ", ".join(segment.campaigns.values_list("name", flat=True)[:5])}
        )
    segment.delete()
    _segments_changed()


def _segments_changed() -> None:
    # Now for this process, and again once committed, so that a request that cached the
    # old list between the two sees the new one.
    segments_with_offers_forget()
    transaction.on_commit(segments_with_offers_forget)


def segments_with_offers_forget() -> None:
    """Drop the cached list of segments with offers (loyalty.selectors.segments_with_offers)."""
    from django.core.cache import cache

    from loyalty.selectors import SEGMENTS_WITH_OFFERS_KEY

    cache.delete(SEGMENTS_WITH_OFFERS_KEY)


# --- Member statistics (RFM, categories bought) -------------------------------------------


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

    On PostgreSQL it is set-based: four statements (`_refresh_in_sql`),
    whatever the number of members; elsewhere (SQLite, the embedded default with small
    numbers) the same rows are computed in Python, STATS_CHUNK members at a time.
    """
    since = None
    if not full:
        newest = MemberStats.objects.aggregate(newest=Max("last_order_at"))["newest"]
        since = newest - STATS_OVERLAP if newest else None
    if connection.vendor == "postgresql":
        return _refresh_in_sql(since=since, at=at)
    return _refresh_in_python(since=since, at=at)


def _refresh_in_python(*, since: datetime | None, at: datetime) -> int:
    member_ids = _member_ids_to_refresh(since=since)
    for start in range(0, len(member_ids), STATS_CHUNK):
        _refresh_chunk(member_ids[start : start + STATS_CHUNK], at)
    _scores_refresh(at)
    return len(member_ids)


# The members to recompute: those with an order (any status), placed since %(since)s when
# set. Each statement below starts from it, so all of them see the same members.
_TARGETS_SQL = """
    targets AS (
        SELECT m.id AS member_id, m.user_id
        FROM loyalty_member m
        WHERE EXISTS (
            SELECT 1 FROM order_order o
            WHERE o.user_id = m.user_id
              AND (%(since)s::timestamptz IS NULL OR o.date_placed >= %(since)s::timestamptz)
        )
    ),
    counted AS (
        SELECT o.id, o.user_id, o.total_incl_tax, o.date_placed, t.member_id
        FROM order_order o JOIN targets t ON t.user_id = o.user_id
        WHERE NOT (o.status = ANY(%(void)s))
    )"""

_STATS_SQL = f"""
    WITH {_TARGETS_SQL},
    totals AS (
        SELECT user_id, COUNT(*) AS orders_count, COALESCE(SUM(total_incl_tax), 0) AS spend,
               MIN(date_placed) AS first_order_at, MAX(date_placed) AS last_order_at
        FROM counted GROUP BY user_id
    ),
    pickups AS (
        SELECT DISTINCT ON (c.user_id) c.user_id, p.store_id
        FROM counted c JOIN stores_pickup p ON p.order_id = c.id
        ORDER BY c.user_id, c.date_placed DESC, c.id DESC
    ),
    languages AS (
        SELECT DISTINCT ON (x.user_id) x.user_id, split_part(x.language, '-', 1) AS language
        FROM communication_outboxmessage x JOIN targets t ON t.user_id = x.user_id
        WHERE x.language <> ''
        ORDER BY x.user_id, x.created_at DESC, x.id DESC
    )
    INSERT INTO loyalty_memberstats (
        member_id, orders_count, lifetime_spend, first_order_at, last_order_at,
        recency_days, last_pickup_store_id, language, computed_at
    )
    SELECT t.member_id, COALESCE(s.orders_count, 0), ROUND(COALESCE(s.spend, 0), 2),
           s.first_order_at, s.last_order_at,
           FLOOR(EXTRACT(EPOCH FROM (%(at)s::timestamptz - s.last_order_at)) / 86400)::int,
           p.store_id, COALESCE(l.language, ''), %(at)s::timestamptz
    FROM targets t
    LEFT JOIN totals s ON s.user_id = t.user_id
    LEFT JOIN pickups p ON p.user_id = t.user_id
    LEFT JOIN languages l ON l.user_id = t.user_id
    ON CONFLICT (member_id) DO UPDATE SET
        orders_count = EXCLUDED.orders_count,
        lifetime_spend = EXCLUDED.lifetime_spend,
        first_order_at = EXCLUDED.first_order_at,
        last_order_at = EXCLUDED.last_order_at,
        recency_days = EXCLUDED.recency_days,
        last_pickup_store_id = EXCLUDED.last_pickup_store_id,
        language = EXCLUDED.language,
        computed_at = EXCLUDED.computed_at
"""  # noqa: S608 (constants only)

# (member, category) first and last bought, over the product's categories or, for a child
# product, its parent's (Oscar), each with its ancestors (a treebeard ancestor's path is a
# prefix of the category's path); categories no longer bought are deleted, in the same
# statement (a data-modifying WITH), and only rows that change are written.
_CATEGORIES_SQL = f"""
    WITH {_TARGETS_SQL},
    bought AS (
        SELECT c.member_id, pc.category_id, c.date_placed
        FROM counted c
        JOIN order_line l ON l.order_id = c.id
        JOIN catalogue_productcategory pc ON pc.product_id = l.product_id
        UNION ALL
        SELECT c.member_id, pc.category_id, c.date_placed
        FROM counted c
        JOIN order_line l ON l.order_id = c.id
        JOIN catalogue_product p ON p.id = l.product_id
        JOIN catalogue_productcategory pc ON pc.product_id = p.parent_id
    ),
    direct AS (
        SELECT member_id, category_id, MIN(date_placed) AS first, MAX(date_placed) AS last
        FROM bought GROUP BY member_id, category_id
    ),
    wanted AS (
        SELECT d.member_id, a.id AS category_id,
               MIN(d.first) AS first_bought_at, MAX(d.last) AS last_bought_at
        FROM direct d
        JOIN catalogue_category cat ON cat.id = d.category_id
        JOIN catalogue_category a ON left(cat.path, length(a.path)) = a.path
        GROUP BY d.member_id, a.id
    ),
    gone AS (
        DELETE FROM loyalty_membercategory mc
        USING targets t
        WHERE mc.member_id = t.member_id
          AND NOT EXISTS (
            SELECT 1 FROM wanted w
            WHERE w.member_id = mc.member_id AND w.category_id = mc.category_id
          )
    )
    INSERT INTO loyalty_membercategory (member_id, category_id, first_bought_at, last_bought_at)
    SELECT member_id, category_id, first_bought_at, last_bought_at FROM wanted
    ORDER BY member_id, category_id
    ON CONFLICT (member_id, category_id) DO UPDATE SET
        first_bought_at = EXCLUDED.first_bought_at,
        last_bought_at = EXCLUDED.last_bought_at
    WHERE (loyalty_membercategory.first_bought_at, loyalty_membercategory.last_bought_at)
        IS DISTINCT FROM (EXCLUDED.first_bought_at, EXCLUDED.last_bought_at)
"""  # noqa: S608 (constants only)

# Quintiles as `_quintiles` computes them: RANK() gives equal values the lowest rank.
_SCORE = "CASE WHEN n > 1 THEN 1 + LEAST(4, (5 * ({rank} - 1)) / (n - 1)) ELSE 3 END"
_SCORES_SQL = f"""
    UPDATE loyalty_memberstats s SET
        recency_score = r.recency_score,
        frequency_score = r.frequency_score,
        monetary_score = r.monetary_score,
        recency_days = r.recency_days
    FROM (
        SELECT member_id,
               {_SCORE.format(rank="r_rank")} AS recency_score,
               {_SCORE.format(rank="f_rank")} AS frequency_score,
               {_SCORE.format(rank="m_rank")} AS monetary_score,
               FLOOR(EXTRACT(EPOCH FROM (%(at)s::timestamptz - last_order_at)) / 86400)::int
                   AS recency_days
        FROM (
            SELECT member_id, last_order_at,
                   RANK() OVER (ORDER BY last_order_at) AS r_rank,
                   RANK() OVER (ORDER BY orders_count) AS f_rank,
                   RANK() OVER (ORDER BY lifetime_spend) AS m_rank,
                   COUNT(*) OVER () AS n
            FROM loyalty_memberstats WHERE orders_count > 0
        ) ranked
    ) r
    WHERE s.member_id = r.member_id
      AND (s.recency_score, s.frequency_score, s.monetary_score, s.recency_days)
          IS DISTINCT FROM (r.recency_score, r.frequency_score, r.monetary_score, r.recency_days)
"""  # noqa: S608 (constants only)


def _refresh_in_sql(*, since: datetime | None, at: datetime) -> int:
    """`_refresh_in_python`'s rows in four statements on PostgreSQL, in one transaction.

    Only constants are interpolated into the SQL; values are parameters.
    """
    params = {"since": since, "at": at, "void": list(settings.LOYALTY_VOID_ORDER_STATUSES)}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_STATS_SQL, params)
        refreshed = max(cursor.rowcount, 0)
        cursor.execute(_CATEGORIES_SQL, params)
        cursor.execute(_SCORES_SQL, params)
        # Members whose orders were all cancelled have no scores.
        MemberStats.objects.filter(orders_count=0).exclude(recency_score=None).update(
            recency_score=None, frequency_score=None, monetary_score=None, recency_days=None
        )
    return refreshed
