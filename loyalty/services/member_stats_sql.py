"""The member statistics refresh on PostgreSQL: four set-based statements, whatever the
number of members (loyalty.services.member_stats.member_stats_refresh)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import connection, transaction

from loyalty.models import MemberStats

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


def stats_refresh_in_sql(*, since: datetime | None, at: datetime) -> int:
    """`stats_refresh_in_python`'s rows in four statements on PostgreSQL, in one transaction.

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
