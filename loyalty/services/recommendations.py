"""The recommendation job (README.md "Recommendations"): products bought together and each
member's "for you" products, computed from orders in set-based SQL.

Incremental: a run reads the orders placed, or whose status changed, since the previous
run started (less RECOMMENDATIONS_OVERLAP, for orders committed late); every product in
those orders has its partners and popularity recomputed from all of its orders, and every
member who placed one has their recommendations recomputed. So a run repeated or
overlapping another gives the same rows (idempotent), and the nightly full run also
refreshes members whose products' partners changed through other people's orders.

Two steps: the products (one transaction), then the members in chunks of
MEMBERS_PER_CHUNK by member id, each chunk one INSERT ... SELECT in its own transaction,
so each statement's sorts stay small and a long run holds no lock for long; progress is
logged after each chunk. bench/README.md "recommendations.py" has the timings and the
EXPLAIN ANALYZE findings behind the statement's shape.

Table names come from the models' metadata, quoted by the database backend; every value
is a query parameter. The SQL is portable (common table expressions and window functions,
which SQLite has since 3.25): the same statements run on PostgreSQL, where they handle a
million order lines, and on the embedded SQLite.
"""

from __future__ import annotations

import logging
import time
import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import connection, transaction

from loyalty.models import (
    RecommendationRun,
)
from loyalty.services.recommendations_sql import (
    members_refresh,
    members_to_refresh,
    products_refresh,
    recommendation_params,
    recommendation_tables,
)

RECOMMENDATIONS_OVERLAP = timedelta(hours=1)
# Where readers find the latest run's id, which names their cached candidate lists.
RECOMMENDATIONS_VERSION_KEY = "loyalty:recommendations:version"
# One job at a time on PostgreSQL (an advisory lock); SQLite serialises writers anyway.
_ADVISORY_LOCK = 7_134_001
# Members whose recommendations one statement (and transaction) replaces: bench/README.md
# "recommendations.py" measured the member step at this size.
MEMBERS_PER_CHUNK = 5_000
# Above any member id: the last chunk's range is open-ended.
_LAST_ID = 2**62

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefreshProgress:
    """Where a run is: `step` "products" (done once, `total` products) or "members" (`done`
    of `total` members so far); `seconds` since the run started."""

    step: str
    done: int
    total: int
    seconds: float


def _member_ranges(member_ids: list[int], size: int, *, full: bool) -> list[tuple[int, int]]:
    """(low, high) id ranges of at most `size` of `member_ids` each, tiling every id from 0
    on (so a full run also clears the rows of members left without orders)."""
    if not member_ids:
        return [(0, _LAST_ID)] if full else []
    ranges = []
    low = 0
    for start in range(0, len(member_ids), size):
        high = member_ids[min(start + size, len(member_ids)) - 1]
        ranges.append((low, high))
        low = high + 1
    ranges[-1] = (ranges[-1][0], _LAST_ID)
    return ranges


@contextmanager
def _one_run_at_a_time() -> Iterator[None]:
    """PostgreSQL: a session advisory lock, held across the run's transactions (SQLite
    serialises writers anyway)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_ADVISORY_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_ADVISORY_LOCK])


def recommendations_refresh(
    *,
    at: datetime,
    full: bool = False,
    members_per_chunk: int = MEMBERS_PER_CHUNK,
    progress: Callable[[RefreshProgress], None] | None = None,
) -> RecommendationRun:
    """Recompute products bought together and members' recommendations from orders.

    Incremental unless `full` or no run was recorded yet (see the module docstring). The
    products step is one transaction; then the members, `members_per_chunk` at a time, each
    chunk one statement and one transaction (readers see a member's previous rows or the
    new ones, never a mix). The run is recorded last: a run stopped half-way records
    nothing, so the next one reads the same orders again. One run at a time. Progress is
    logged (and passed to `progress`).
    """
    started = time.perf_counter()

    def report(step: str, done: int, total: int) -> None:
        seconds = round(time.perf_counter() - started, 3)
        logger.info("recommendations: %s %s/%s (%.1f s)", step, f"{done:,}", f"{total:,}", seconds)
        if progress is not None:
            progress(RefreshProgress(step, done, total, seconds))

    with _one_run_at_a_time():
        last = RecommendationRun.objects.order_by("-started_at", "-id").first()
        full = full or last is None
        since = None if full or last is None else last.started_at - RECOMMENDATIONS_OVERLAP
        tables = recommendation_tables()
        params, void = recommendation_params(since)
        with transaction.atomic():
            products = products_refresh(tables, params, void, full=full)
        if connection.vendor == "postgresql":
            # The member step joins the rows just written: without fresh statistics the
            # planner takes those tables for empty and picks nested loops over them.
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {tables.pair}, {tables.popularity}")
        report("products", products, products)
        member_ids = members_to_refresh(tables, params, full=full)
        done = 0
        for low, high in _member_ranges(member_ids, members_per_chunk, full=full):
            with transaction.atomic():
                members_refresh(tables, {**params, "low": low, "high": high}, void, full=full)
            done += bisect_right(member_ids, high) - bisect_left(member_ids, low)
            report("members", done, len(member_ids))
        with transaction.atomic():
            run = RecommendationRun.objects.create(
                started_at=at,
                full=full,
                since=since,
                products=products,
                members=len(member_ids),
                seconds=round(time.perf_counter() - started, 3),
            )
            # Now, and again once committed: a list read between the two is cached under
            # the first version only, so readers see the new rows from the commit on.
            recommendations_version_bump()
            transaction.on_commit(recommendations_version_bump)
    return run


def recommendations_version_bump() -> None:
    """Give the cached candidate lists (loyalty.recommendations) a new name."""
    cache.set(RECOMMENDATIONS_VERSION_KEY, uuid.uuid4().hex, None)
