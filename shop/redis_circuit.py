"""A circuit breaker in front of Redis, in each process (README "Architecture", R25, R45).

With Redis hung (stopped, not refusing), every command waits REDIS_SOCKET_TIMEOUT before it
fails, and a catalogue page reads the cache dozens of times. So the first timeout or
connection error to a Redis server opens its circuit: for REDIS_CIRCUIT_SECONDS this process
sends that server nothing, and every command fails at once with `RedisSkipped` (a redis
ConnectionError, which django-redis's IGNORE_EXCEPTIONS turns into a cache miss). After
that, the next command tries again; one that fails opens the circuit for another period.

The cache uses it through `CircuitConnectionPool` (CACHES' CONNECTION_POOL_CLASS); the
outbox checks and opens the broker's circuit around its publishes
(shop/communication/outbox/recording.py), so a timeout on either side spares both.
"""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import urlsplit

from django.conf import settings
from redis.connection import Connection, ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# What a hung or dead server raises; a command's own error (ResponseError) is not one.
SERVER_FAILURES = (RedisConnectionError, RedisTimeoutError, OSError)


class RedisSkipped(RedisConnectionError):
    """Not sent: this Redis server failed moments ago and its circuit is open."""


class RedisCircuit:
    """Per-server open/closed state, shared by the threads of a process."""

    def __init__(self) -> None:
        self._open_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def is_open(self, server: str) -> bool:
        return time.monotonic() < self._open_until.get(server, 0.0)

    def check(self, server: str) -> None:
        """Raise RedisSkipped while `server`'s circuit is open."""
        if self.is_open(server):
            raise RedisSkipped(f"Redis at {server} failed moments ago; skipped for now")

    def trip(self, server: str) -> None:
        """Open `server`'s circuit for REDIS_CIRCUIT_SECONDS from now (one failure seen
        by nested calls, e.g. a timeout while connecting, opens it once)."""
        seconds = settings.REDIS_CIRCUIT_SECONDS
        with self._lock:
            if self.is_open(server):
                return
            self._open_until[server] = time.monotonic() + seconds
        logger.warning("Redis at %s failed; this process skips it for %s s", server, seconds)

    def reset(self) -> None:
        """Close every circuit (tests start each with a reachable Redis)."""
        with self._lock:
            self._open_until.clear()


circuit = RedisCircuit()


def redis_server(url: str) -> str:
    """`host:port` of a redis:// URL, the key of its circuit."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"


class SkippedNotLogged(logging.Filter):
    """Keeps django-redis from logging each command skipped while a circuit is open (dozens
    a page): the failure that opened it is logged once, by `RedisCircuit.trip`."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        while error is not None:
            if isinstance(error, RedisSkipped):
                return False
            error = error.__cause__ or error.__context__
        return True


class CircuitConnection(Connection):
    """A redis-py connection that sends nothing while its server's circuit is open and
    opens it on a timeout or connection error."""

    @property
    def _server(self) -> str:
        return f"{self.host}:{self.port}"

    def _failed(self, error: BaseException) -> None:
        if not isinstance(error, RedisSkipped):
            circuit.trip(self._server)

    def connect(self, *args, **kwargs):
        circuit.check(self._server)
        try:
            return super().connect(*args, **kwargs)
        except SERVER_FAILURES as error:
            self._failed(error)
            raise

    def send_packed_command(self, *args, **kwargs):
        circuit.check(self._server)
        try:
            return super().send_packed_command(*args, **kwargs)
        except SERVER_FAILURES as error:
            self._failed(error)
            raise

    def read_response(self, *args, **kwargs):
        try:
            return super().read_response(*args, **kwargs)
        except SERVER_FAILURES as error:
            self._failed(error)
            raise


class CircuitConnectionPool(ConnectionPool):
    """A connection pool of CircuitConnections (TLS and Unix-socket pools are left as
    redis-py makes them)."""

    def __init__(self, connection_class=Connection, **kwargs):
        if connection_class is Connection:
            connection_class = CircuitConnection
        super().__init__(connection_class=connection_class, **kwargs)
