"""Helpers shared by the benchmarks: progress lines, ports, percentiles, scratch databases,
and the start most of them share: Django on a migrated scratch PostgreSQL database."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit


def log(message: str) -> None:
    # UTC: Django sets TZ to TIME_ZONE in processes that set it up.
    print(f"[{time.strftime('%H:%M:%SZ', time.gmtime())}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _admin_url(server_url: str) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path="/postgres"))


def database_exists(server_url: str, name: str) -> bool:
    import psycopg

    with psycopg.connect(_admin_url(server_url), autocommit=True) as conn:
        return bool(conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone())


def database_copy(server_url: str, source: str, target: str) -> None:
    """Create the database `target` as a copy of `source` (PostgreSQL's CREATE DATABASE ...
    TEMPLATE: a file copy, no connection to `source` may be open), replacing any `target`."""
    import psycopg

    with psycopg.connect(_admin_url(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')


@contextmanager
def scratch_postgres(server_url: str, name: str, template: str | None = None) -> Iterator[str]:
    """Create the database `name` on the PostgreSQL server of `server_url` (empty, or a copy
    of the database `template`), yield its URL, and drop it afterwards (even while
    connections to it are still open)."""
    import psycopg

    server = urlsplit(server_url)
    admin_url = _admin_url(server_url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        copy = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield urlunsplit(server._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_server_default() -> str:
    """DATABASE_URL when it is a PostgreSQL URL, else the local server: a `--postgres` default."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgres") else "postgres://postgres@127.0.0.1:5432/postgres"


@contextmanager
def redis_scratch() -> Iterator[int]:
    """A throw-away redis-server (no persistence) on a free port; yields the port."""
    port = free_port()
    redis = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server",
            *("--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no"),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        yield port
    finally:
        redis.terminate()
        redis.wait(timeout=10)


def population_generate(*, members: int, orders: int, seed: int, stats: bool = False) -> float:
    """`manage.py population_generate` in this (set-up) Django process, in batches of 5,000,
    with the member statistics refreshed only when `stats`; returns the seconds it took."""
    from django.core.management import call_command

    log(f"generating {members:,} members and {orders:,} orders")
    started = time.monotonic()
    call_command(
        "population_generate",
        members=members,
        orders=orders,
        seed=seed,
        batch=5000,
        no_stats=not stats,
    )
    return time.monotonic() - started


@contextmanager
def django_on_scratch_postgres(
    server_url: str,
    name: str,
    environ: dict[str, str] | None = None,
    template: str | None = None,
) -> Iterator[str]:
    """Create the scratch database `name` (a copy of `template` if given), set this
    process's environment for it (config.settings.test, no Redis, kept connections, then
    `environ` on top), set Django up, migrate, and yield the database URL; close the
    connections and drop it afterwards. Worker processes started inside inherit the same
    environment (`os.environ`)."""
    with scratch_postgres(server_url, name, template) as database_url:
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings.test",
                "REDIS_URL": "",
                "CONN_MAX_AGE": "60",
                "ALLOWED_HOSTS": "testserver",
                **(environ or {}),
                "DATABASE_URL": database_url,
            }
        )
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        log(f"migrating {name}")
        call_command("migrate", verbosity=0)
        try:
            yield database_url
        finally:
            connections.close_all()


# pages_at_size.py: the one page whose redirects are followed, in-process and over HTTP
# (what each shop answers at `/`: plain Oscar redirects to its catalogue page).
SERVED = "home as served"


def requests_timed(request, count: int, prepare=None) -> dict:
    """pages_at_size.py: `count` calls of `request()` (each answering a response with a
    `status_code`), their times in ms, stopping at the first answer that is not a 200;
    `prepare()`, when given, runs before each one, untimed."""
    times, status = [], 200
    for _ in range(count):
        if prepare is not None:
            prepare()
        started = time.perf_counter()
        response = request()
        times.append((time.perf_counter() - started) * 1000)
        status = response.status_code
        if status != 200:
            break
    return {"ms": times, "status": status}
