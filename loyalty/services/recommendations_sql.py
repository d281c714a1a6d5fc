"""The recommendation job's statements (loyalty.services.recommendations): the products
bought together and their popularity, then members' "for you" rows, as INSERT ... SELECT
with common table expressions and window functions.

Table names come from the models' metadata, quoted by the database backend; every value
is a query parameter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.conf import settings
from django.db import connection

from loyalty.models import (
    Member,
    MemberRecommendation,
    ProductOrders,
    ProductPair,
    RecommendationReason,
)


@dataclass(frozen=True)
class RecommendationTables:
    order: str
    line: str
    status_change: str
    product: str
    product_category: str
    member: str
    pair: str
    popularity: str
    recommendation: str


def recommendation_tables() -> RecommendationTables:
    def table(label: str) -> str:
        return connection.ops.quote_name(apps.get_model(label)._meta.db_table)

    return RecommendationTables(
        order=table("order.Order"),
        line=table("order.Line"),
        status_change=table("order.OrderStatusChange"),
        product=table("catalogue.Product"),
        product_category=table("catalogue.ProductCategory"),
        member=connection.ops.quote_name(Member._meta.db_table),
        pair=connection.ops.quote_name(ProductPair._meta.db_table),
        popularity=connection.ops.quote_name(ProductOrders._meta.db_table),
        recommendation=connection.ops.quote_name(MemberRecommendation._meta.db_table),
    )


def recommendation_params(since: datetime | None) -> tuple[dict, str]:
    """Named parameters, and the SQL list of the void order statuses."""
    statuses = list(settings.LOYALTY_VOID_ORDER_STATUSES) or [""]
    params: dict = {f"void_{i}": status for i, status in enumerate(statuses)}
    params.update(
        since=since,
        pairs=settings.LOYALTY_RECOMMENDATION_PAIRS,
        per_member=settings.LOYALTY_RECOMMENDATIONS_PER_MEMBER,
        categories=settings.LOYALTY_RECOMMENDATION_CATEGORIES,
        together=RecommendationReason.BOUGHT_TOGETHER.value,
        category=RecommendationReason.CATEGORY.value,
    )
    void = ", ".join(f"%(void_{i})s" for i in range(len(statuses)))
    return params, void


def _touched_ctes(t: RecommendationTables, *, full: bool) -> str:
    """`touched` (order ids the run reads) and `touched_products` (canonical ids)."""
    if full:
        touched = f"SELECT id AS order_id FROM {t.order}"  # noqa: S608
    else:
        placed = f"SELECT id AS order_id FROM {t.order} WHERE date_placed >= %(since)s"  # noqa: S608
        changed = f"SELECT order_id FROM {t.status_change} WHERE date_created >= %(since)s"  # noqa: S608
        touched = f"{placed} UNION {changed}"
    return f"""
    touched AS ({touched}),
    touched_products AS (
        SELECT DISTINCT COALESCE(p.parent_id, p.id) AS product_id
        FROM {t.line} l JOIN {t.product} p ON p.id = l.product_id
        WHERE l.order_id IN (SELECT order_id FROM touched)
    )"""  # noqa: S608


def _baskets_cte(t: RecommendationTables, void: str, *, full: bool) -> str:
    """`baskets`: (order, canonical product) of every counted order holding a touched
    product (a full run: of every counted order), each pair once whatever the quantities
    and lines."""
    holding_touched = f"""AND l.order_id IN (
            SELECT l2.order_id FROM {t.line} l2 JOIN {t.product} p2 ON p2.id = l2.product_id
            WHERE COALESCE(p2.parent_id, p2.id) IN (SELECT product_id FROM touched_products)
        )"""  # noqa: S608
    return f"""
    baskets AS (
        SELECT DISTINCT l.order_id, COALESCE(p.parent_id, p.id) AS product_id
        FROM {t.line} l
        JOIN {t.product} p ON p.id = l.product_id
        JOIN {t.order} o ON o.id = l.order_id
        WHERE o.status NOT IN ({void}) {"" if full else holding_touched}
    )"""  # noqa: S608


def products_refresh(t: RecommendationTables, params: dict, void: str, *, full: bool) -> int:
    """Replace the pairs and popularity of the touched products. A full run touches every
    product ordered: it replaces every row and reads the order lines three times instead
    of nine (no "touched" filter to apply)."""
    touched = _touched_ctes(t, full=full)
    baskets = _baskets_cte(t, void, full=full)
    touched_only = "" if full else "WHERE a.product_id IN (SELECT product_id FROM touched_products)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {touched} SELECT COUNT(*) FROM touched_products",  # noqa: S608
            params,
        )
        (products,) = cursor.fetchone()
        for table in (t.pair, t.popularity):
            if full:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608
            else:
                cursor.execute(
                    f"WITH {touched} DELETE FROM {table} WHERE product_id IN "  # noqa: S608
                    "(SELECT product_id FROM touched_products)",
                    params,
                )
        cursor.execute(
            f"""
            INSERT INTO {t.pair} (product_id, other_id, times)
            WITH {touched}, {baskets},
            counted AS (
                SELECT a.product_id, b.product_id AS other_id, COUNT(*) AS times
                FROM baskets a
                JOIN baskets b ON b.order_id = a.order_id AND b.product_id <> a.product_id
                {touched_only}
                GROUP BY a.product_id, b.product_id
            ),
            ranked AS (
                SELECT product_id, other_id, times, ROW_NUMBER() OVER (
                    PARTITION BY product_id ORDER BY times DESC, other_id
                ) AS position
                FROM counted
            )
            SELECT product_id, other_id, times FROM ranked WHERE position <= %(pairs)s
            """,  # noqa: S608
            params,
        )
        cursor.execute(
            f"""
            INSERT INTO {t.popularity} (product_id, orders)
            WITH {touched}, {baskets}
            SELECT product_id, COUNT(*) FROM baskets a
            {touched_only}
            GROUP BY product_id
            """,  # noqa: S608
            params,
        )
    return products


def _members_cte(t: RecommendationTables, *, full: bool) -> str:
    """`members`: the members to refresh whose id is between %(low)s and %(high)s (one
    chunk): those with an order (full run), or who placed one of the touched orders."""
    if full:
        return f"""
    members AS (
        SELECT m.id AS member_id, m.user_id FROM {t.member} m
        WHERE m.id BETWEEN %(low)s AND %(high)s
          AND EXISTS (SELECT 1 FROM {t.order} o WHERE o.user_id = m.user_id)
    )"""  # noqa: S608
    return f"""
    members AS (
        SELECT DISTINCT m.id AS member_id, m.user_id
        FROM {t.member} m JOIN {t.order} o ON o.user_id = m.user_id
        WHERE m.id BETWEEN %(low)s AND %(high)s
          AND o.id IN (SELECT order_id FROM touched)
    )"""  # noqa: S608


def members_to_refresh(t: RecommendationTables, params: dict, *, full: bool) -> list[int]:
    """The ids of every member the run refreshes, in order (the chunks are cut from it)."""
    touched = _touched_ctes(t, full=full)
    members = _members_cte(t, full=full)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {touched}, {members} SELECT member_id FROM members ORDER BY member_id",  # noqa: S608
            {**params, "low": -1, "high": 2**62},
        )
        return [member_id for (member_id,) in cursor.fetchall()]


def members_refresh(t: RecommendationTables, params: dict, void: str, *, full: bool) -> None:
    """Replace the recommendations of the members of one chunk (`params` low, high)."""
    touched = _touched_ctes(t, full=full)
    members = _members_cte(t, full=full)
    with connection.cursor() as cursor:
        if full:
            # Every row of the range: also those of members left without any order.
            cursor.execute(
                f"DELETE FROM {t.recommendation} "  # noqa: S608
                "WHERE member_id BETWEEN %(low)s AND %(high)s",
                params,
            )
        else:
            cursor.execute(
                f"WITH {touched}, {members} DELETE FROM {t.recommendation} WHERE "  # noqa: S608
                "member_id IN (SELECT member_id FROM members)",
                params,
            )
        cursor.execute(
            f"""
            INSERT INTO {t.recommendation}
                (member_id, product_id, position, reason, score, via_product_id,
                 via_category_id, times)
            WITH {touched}, {members},
            bought AS (
                SELECT mm.member_id, COALESCE(p.parent_id, p.id) AS product_id,
                       COUNT(DISTINCT o.id) AS orders
                FROM members mm
                JOIN {t.order} o ON o.user_id = mm.user_id
                JOIN {t.line} l ON l.order_id = o.id
                JOIN {t.product} p ON p.id = l.product_id
                WHERE o.status NOT IN ({void})
                GROUP BY mm.member_id, COALESCE(p.parent_id, p.id)
            ),
            eligible AS (
                SELECT id AS product_id FROM {t.product} WHERE parent_id IS NULL AND is_public
            ),
            together_all AS (
                SELECT b.member_id, pp.other_id AS product_id, SUM(pp.times) AS score,
                       MAX(pp.times) AS best
                FROM bought b JOIN {t.pair} pp ON pp.product_id = b.product_id
                LEFT JOIN bought x ON x.member_id = b.member_id AND x.product_id = pp.other_id
                WHERE x.member_id IS NULL
                  AND pp.other_id IN (SELECT product_id FROM eligible)
                GROUP BY b.member_id, pp.other_id
            ),
            together_top AS (
                SELECT member_id, product_id, score, best FROM (
                    SELECT together_all.*, ROW_NUMBER() OVER (
                        PARTITION BY member_id ORDER BY score DESC, product_id
                    ) AS position
                    FROM together_all
                ) ranked_together WHERE position <= %(per_member)s
            ),
            together AS (
                SELECT t.member_id, t.product_id, t.score, t.best AS times,
                       MIN(pp.product_id) AS via_product_id
                FROM together_top t
                JOIN bought b ON b.member_id = t.member_id
                JOIN {t.pair} pp ON pp.product_id = b.product_id
                    AND pp.other_id = t.product_id AND pp.times = t.best
                GROUP BY t.member_id, t.product_id, t.score, t.best
            ),
            affinity AS (
                SELECT b.member_id, pc.category_id, SUM(b.orders) AS times,
                       ROW_NUMBER() OVER (
                           PARTITION BY b.member_id ORDER BY SUM(b.orders) DESC, pc.category_id
                       ) AS position
                FROM bought b JOIN {t.product_category} pc ON pc.product_id = b.product_id
                GROUP BY b.member_id, pc.category_id
            ),
            category_top AS (
                SELECT pc.category_id, pc.product_id, po.orders, ROW_NUMBER() OVER (
                    PARTITION BY pc.category_id ORDER BY po.orders DESC, pc.product_id
                ) AS position
                FROM {t.product_category} pc
                JOIN {t.popularity} po ON po.product_id = pc.product_id
                WHERE pc.product_id IN (SELECT product_id FROM eligible)
                  AND pc.category_id IN (
                      SELECT category_id FROM affinity WHERE position <= %(categories)s
                  )
            ),
            in_category AS (
                SELECT a.member_id, ct.product_id, a.category_id, a.times, ct.orders,
                       ROW_NUMBER() OVER (
                           PARTITION BY a.member_id, ct.product_id
                           ORDER BY a.times DESC, a.category_id
                       ) AS pick
                FROM affinity a
                JOIN category_top ct
                  ON ct.category_id = a.category_id AND ct.position <= %(per_member)s
                WHERE a.position <= %(categories)s
                  AND NOT EXISTS (
                      SELECT 1 FROM bought x
                      WHERE x.member_id = a.member_id AND x.product_id = ct.product_id
                  )
            ),
            candidates AS (
                SELECT member_id, product_id, %(together)s AS reason, 0 AS kind, score,
                       via_product_id, CAST(NULL AS INTEGER) AS via_category_id, times
                FROM together
                UNION ALL
                SELECT member_id, product_id, %(category)s, 1, orders,
                       CAST(NULL AS INTEGER), category_id, times
                FROM in_category WHERE pick = 1
            ),
            -- A product bought together with the member's is not proposed again for its
            -- category. (A window rather than NOT EXISTS over `together`: PostgreSQL
            -- cannot estimate a CTE's rows and ran that as a nested loop, every candidate
            -- against every row of `together`; see bench/README.md.)
            once AS (
                SELECT member_id, product_id, reason, kind, score, via_product_id,
                       via_category_id, times, ROW_NUMBER() OVER (
                           PARTITION BY member_id, product_id ORDER BY kind
                       ) AS pick
                FROM candidates
            ),
            ranked AS (
                SELECT member_id, product_id, reason, kind, score, via_product_id,
                       via_category_id, times, ROW_NUMBER() OVER (
                           PARTITION BY member_id ORDER BY kind, score DESC, product_id
                       ) AS position
                FROM once WHERE pick = 1
            )
            SELECT member_id, product_id, position, reason, score, via_product_id,
                   via_category_id, times
            FROM ranked WHERE position <= %(per_member)s
            """,  # noqa: S608
            params,
        )
