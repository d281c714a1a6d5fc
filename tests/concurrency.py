"""Real races on PostgreSQL: threads that all reach the critical section together.

A second connection holds a row lock (`hold_row_locks`) while the threads
start, so every one of them is blocked inside its transaction on that row;
releasing it lets them through at once. Or a trigger sleeps on each UPDATE
(`slow_writes`) so the windows overlap. Nothing in our code is patched.
"""

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

import psycopg
from django.db import connection, connections


def _conninfo() -> str:
    db = connection.settings_dict
    return psycopg.conninfo.make_conninfo(
        dbname=db["NAME"],
        user=db.get("USER") or "postgres",
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
    )


def _sessions(condition: str) -> int:
    """How many sessions of this database meet `condition` (SQL on pg_stat_activity)."""
    with psycopg.connect(_conninfo(), autocommit=True) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            f"WHERE datname = current_database() AND {condition}"
        ).fetchone()
    return count


def waiting_on_locks() -> int:
    return _sessions("wait_event_type = 'Lock'")


def sessions_in_transaction() -> int:
    """Other sessions of this database with a transaction open: while none is, no row
    lock is held (docs/architecture.md, "Lock order")."""
    return _sessions("xact_start IS NOT NULL AND pid <> pg_backend_pid()")


@contextlib.contextmanager
def hold_row_locks(table: str, ids: list[int]) -> Iterator[None]:
    """Lock rows `ids` of `table` FOR UPDATE from another connection until the block ends."""
    with psycopg.connect(_conninfo()) as conn:
        conn.execute(
            f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR UPDATE",  # noqa: S608
            [ids],
        )
        try:
            yield
        finally:
            conn.rollback()


@contextlib.contextmanager
def slow_writes(table: str, seconds: float = 0.05, *, on: str = "UPDATE") -> Iterator[None]:
    """Every `on` (UPDATE or INSERT) of a row of `table` sleeps `seconds` inside its
    transaction, so concurrent critical sections really overlap."""
    if on not in {"UPDATE", "INSERT"}:
        raise ValueError(f"on must be UPDATE or INSERT, not {on!r}")
    with psycopg.connect(_conninfo(), autocommit=True) as conn:
        conn.execute(
            "CREATE OR REPLACE FUNCTION solomo_test_sleep() RETURNS trigger AS $$ "
            f"BEGIN PERFORM pg_sleep({float(seconds)}); RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        conn.execute(
            f"CREATE TRIGGER solomo_test_slow BEFORE {on} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION solomo_test_sleep()"
        )
        try:
            yield
        finally:
            conn.execute(f"DROP TRIGGER solomo_test_slow ON {table}")
            conn.execute("DROP FUNCTION solomo_test_sleep()")


def run_concurrently(
    calls: list[Callable[[], object]],
    *,
    until_blocked: int = 0,
    lock: contextlib.AbstractContextManager | None = None,
    timeout: float = 30,
) -> list[object]:
    """Run `calls` in threads started together; return their results or exceptions, in order.

    With `lock` (e.g. hold_row_locks), it is held until `until_blocked`
    sessions wait on a lock, so all threads are inside the critical section.
    """
    results: list[object] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def worker(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # reported to the test, which asserts on it
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    with lock or contextlib.nullcontext():
        for thread in threads:
            thread.start()
        if lock is not None:
            deadline = time.monotonic() + timeout
            while waiting_on_locks() < until_blocked:
                if time.monotonic() > deadline:
                    raise AssertionError(f"only {waiting_on_locks()} sessions reached the lock")
                time.sleep(0.05)
    for thread in threads:
        thread.join(timeout)
    return results
