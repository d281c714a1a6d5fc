"""After a load run (bench/load.py): the data it needs before, and the invariants it checks
after, in SQL on the run's database (psycopg, no Django)."""

from __future__ import annotations

import email
import json
import re
import time
from collections import Counter
from pathlib import Path

import psycopg

STOCK_BAD = """
SELECT count(*) FROM partner_stockrecord
WHERE num_in_stock < 0 OR num_allocated < 0 OR num_allocated > num_in_stock
"""
# Allocated units that the run's orders do not account for (Oscar allocates each line's
# quantity at its stock record when the order is placed; nothing is handed over meanwhile).
STOCK_UNACCOUNTED = """
SELECT count(*) FROM partner_stockrecord sr
LEFT JOIN (
    SELECT l.stockrecord_id, sum(l.quantity) AS quantity FROM order_line l
    WHERE l.order_id > %(last_order)s GROUP BY l.stockrecord_id
) run ON run.stockrecord_id = sr.id
WHERE coalesce(sr.num_allocated, 0)
      <> coalesce((%(allocated)s::jsonb ->> sr.id::text)::int, 0) + coalesce(run.quantity, 0)
"""
# loyalty/services/ledger.py: balance = sum of entries = sum of lot remainders >= 0, and
# pending = sum of the remainders of open pending earns.
LEDGER_BAD = """
SELECT count(*) FROM loyalty_member m
LEFT JOIN (SELECT member_id, sum(amount) s FROM loyalty_pointsentry GROUP BY member_id) e
    ON e.member_id = m.id
LEFT JOIN (SELECT member_id, sum(remaining) s FROM loyalty_pointslot GROUP BY member_id) l
    ON l.member_id = m.id
LEFT JOIN (
    SELECT member_id, sum(remaining) s FROM loyalty_pendingearn WHERE status = 'pending'
    GROUP BY member_id
) p ON p.member_id = m.id
WHERE m.balance <> coalesce(e.s, 0) OR m.balance <> coalesce(l.s, 0) OR m.balance < 0
   OR m.pending <> coalesce(p.s, 0)
"""
MEMBER_ORDERS = """
SELECT count(*), count(pe.id) FROM order_order o
JOIN loyalty_member m ON m.user_id = o.user_id
LEFT JOIN loyalty_pendingearn pe ON pe.order_id = o.id
WHERE o.id > %(last_order)s
"""
CONFIRMATIONS_NOT_ONE = """
SELECT count(*) FROM (
    SELECT o.number FROM order_order o
    LEFT JOIN communication_outboxmessage m
        ON m.order_number = o.number AND m.event_code = 'ORDER_PLACED' AND m.channel = 'email'
    WHERE o.id > %(last_order)s GROUP BY o.number HAVING count(m.id) <> 1
) bad
"""
MESSAGES_DUPLICATED = """
SELECT count(*) FROM (
    SELECT 1 FROM communication_outboxmessage WHERE id > %(last_message)s AND order_number <> ''
    GROUP BY order_number, event_code, channel, recipient HAVING count(*) > 1
) dup
"""
MESSAGES_BY_STATUS = """
SELECT status, count(*) FROM communication_outboxmessage WHERE id > %(last_message)s
GROUP BY status ORDER BY status
"""
PICKUPS_BAD = """
SELECT
    (SELECT count(*) FROM order_order o WHERE o.id > %(last_order)s
        AND (SELECT count(*) FROM stores_pickup p WHERE p.order_id = o.id) <> 1),
    (SELECT count(*) FROM stores_pickupslot s WHERE s.booked > s.capacity OR s.booked < 0
        OR s.booked < (SELECT count(*) FROM stores_pickup p
                       WHERE p.slot_id = s.id AND p.status = 'new'))
"""


def before_run(database_url: str) -> dict:
    """What the checks compare against: the last order and message ids, allocations."""
    with psycopg.connect(database_url) as conn:
        last_order = conn.execute("SELECT coalesce(max(id), 0) FROM order_order").fetchone()[0]
        last_message = conn.execute(
            "SELECT coalesce(max(id), 0) FROM communication_outboxmessage"
        ).fetchone()[0]
        allocated = dict(
            conn.execute("SELECT id::text, coalesce(num_allocated, 0) FROM partner_stockrecord")
        )
    return {"last_order": last_order, "last_message": last_message, "allocated": allocated}


def outbox_drained(database_url: str, before: dict, timeout: float) -> float:
    """Wait until the run's messages are no longer pending or sending; seconds waited."""
    started = time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as conn:
        while time.monotonic() - started < timeout:
            left = conn.execute(
                "SELECT count(*) FROM communication_outboxmessage WHERE id > %s "
                "AND status IN ('pending', 'sending')",
                [before["last_message"]],
            ).fetchone()[0]
            if not left:
                break
            time.sleep(2)
    return round(time.monotonic() - started, 1)


def emails_per_order(mail_dir: Path) -> Counter:
    """Order confirmations delivered, per order number, from the file e-mail backend."""
    delivered: Counter = Counter()
    for path in mail_dir.glob("*.log") if mail_dir.exists() else []:
        # The file backend separates the messages of one file with a line of 79 dashes.
        for chunk in path.read_text(encoding="utf-8", errors="replace").split("-" * 79):
            subject = email.message_from_string(chunk.strip()).get("Subject", "")
            found = re.search(r"order (\d+)", subject)
            if found:
                delivered[found.group(1)] += 1
    return delivered


def invariants(database_url: str, before: dict, mail_dir: Path) -> dict:
    params = {**before, "allocated": json.dumps(before["allocated"])}
    with psycopg.connect(database_url) as conn:

        def one(sql: str) -> int:
            return conn.execute(sql, params).fetchone()[0]

        orders = [
            row[0]
            for row in conn.execute(
                "SELECT number FROM order_order WHERE id > %(last_order)s", params
            )
        ]
        member_orders, pending_earns = conn.execute(MEMBER_ORDERS, params).fetchone()
        orders_without_one_pickup, slots_bad = conn.execute(PICKUPS_BAD, params).fetchone()
        statuses = dict(conn.execute(MESSAGES_BY_STATUS, params).fetchall())
        checks = {
            "orders": len(orders),
            "member_orders": member_orders,
            "member_orders_with_pending_points": pending_earns,
            "stock_records_oversold_or_negative": one(STOCK_BAD),
            "stock_records_allocation_unaccounted": one(STOCK_UNACCOUNTED),
            "members_ledger_unbalanced": one(LEDGER_BAD),
            "orders_without_exactly_one_confirmation": one(CONFIRMATIONS_NOT_ONE),
            "messages_duplicated": one(MESSAGES_DUPLICATED),
            "orders_without_exactly_one_pickup": orders_without_one_pickup,
            "slots_overbooked_or_miscounted": slots_bad,
            "messages_by_status": statuses,
        }
    delivered = emails_per_order(mail_dir)
    checks["confirmations_delivered_twice"] = sum(1 for n in orders if delivered[n] > 1)
    checks["confirmations_not_delivered"] = sum(1 for n in orders if delivered[n] == 0)
    checks["ok"] = (
        all(
            checks[key] == 0
            for key in (
                "stock_records_oversold_or_negative",
                "stock_records_allocation_unaccounted",
                "members_ledger_unbalanced",
                "orders_without_exactly_one_confirmation",
                "messages_duplicated",
                "orders_without_exactly_one_pickup",
                "slots_overbooked_or_miscounted",
                "confirmations_delivered_twice",
            )
        )
        and member_orders == pending_earns
    )
    return checks


def load_data(database_url: str, password: str, path: Path, scarce_units: int) -> None:
    """The scenario's data (bench/locustfile.py LOAD_DATA): public products with the stores
    that stock them (and whether they are scarce), categories, search words, stores, member
    logins."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """
            SELECT p.id, p.slug, p.title, array_agg(s.slug ORDER BY s.slug),
                min(sr.num_in_stock - coalesce(sr.num_allocated, 0)) <= %s
            FROM catalogue_product p
            JOIN partner_stockrecord sr ON sr.product_id = p.id
            JOIN stores_store s ON s.partner_id = sr.partner_id AND s.is_active
            WHERE p.is_public AND sr.num_in_stock - coalesce(sr.num_allocated, 0) > 0
            GROUP BY p.id ORDER BY p.id
            """,
            [scarce_units],
        ).fetchall()
        categories = [
            f"/catalogue/category/{slug}_{pk}/"
            for pk, slug in conn.execute("SELECT id, slug FROM catalogue_category ORDER BY id")
        ]
        stores = [
            {"slug": slug}
            for (slug,) in conn.execute("SELECT slug FROM stores_store WHERE is_active ORDER BY id")
        ]
        members = [
            email_
            for (email_,) in conn.execute(
                "SELECT email FROM auth_user WHERE email LIKE 'load-member-%%' ORDER BY id"
            )
        ]
    words = sorted({word.lower() for row in rows for word in re.findall(r"[A-Za-z]{5,}", row[2])})
    products = [
        {"id": pk, "url": f"/catalogue/{slug}_{pk}/", "stores": slugs, "scarce": scarce}
        for pk, slug, _title, slugs, scarce in rows
    ]
    path.write_text(
        json.dumps(
            {
                "products": products,
                "categories": categories,
                "words": words,
                "stores": stores,
                "members": members,
                "password": password,
            }
        ),
        encoding="utf-8",
    )
