"""Helpers shared by the benchmarks: progress lines, ports, percentiles, scratch databases."""

from __future__ import annotations

import socket
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


@contextmanager
def scratch_postgres(server_url: str, name: str) -> Iterator[str]:
    """Create the empty database `name` on the PostgreSQL server of `server_url`, yield its
    URL, and drop it afterwards (even while connections to it are still open)."""
    import psycopg

    server = urlsplit(server_url)
    admin_url = urlunsplit(server._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(server._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
