"""Real processes and servers for the notification tests: a redis-server of our own, Celery
workers on it, and HTTP providers on 127.0.0.1 (an SMS gateway, a push service).

Nothing of ours is patched: the fakes only stand where the providers would be, across a
process or socket boundary.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests import celery_worker
from tests.celery_worker import free_port


class RedisServer:
    """A redis-server process on a free port, with no persistence; can be stopped and restarted."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


class Worker(celery_worker.Worker):
    """A worker on a broker of our choice (our own redis-server), with the notification
    test settings (tests/shop/communication/worker_settings.py)."""

    def __init__(
        self, *, broker_url: str, env: dict[str, str], beat_dir: Path | None = None
    ) -> None:
        super().__init__(
            broker_url=broker_url,
            env={"NOTIFY_TEST_BROKER_URL": broker_url, **env},
            settings_module="tests.shop.communication.worker_settings",
            own_broker=True,
            beat_dir=beat_dir,
            name_prefix="notify",
        )


@contextmanager
def app_broker(url: str) -> Iterator[None]:
    """Point this process's Celery app (what the Dispatcher publishes with) at `url`.

    The app's connection and producer pools are put back untouched afterwards: kombu keeps
    one pool per broker URL, and dropping or closing the original ones would starve (or
    break) every later publish in this process.
    """
    from config.celery_app import app

    saved = (app.conf.broker_url, app.conf.task_always_eager, app._pool, app.amqp._producer_pool)
    app.conf.broker_url, app.conf.task_always_eager = url, False
    app._pool = app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.task_always_eager, app._pool, app.amqp._producer_pool = saved


class _Server(ThreadingHTTPServer):
    daemon_threads = True


@contextmanager
def http_server(handler_class: type[BaseHTTPRequestHandler], **state) -> Iterator[_Server]:
    server = _Server(("127.0.0.1", 0), handler_class)
    for key, value in state.items():
        setattr(server, key, value)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class SmsGatewayHandler(BaseHTTPRequestHandler):
    """A JSON SMS gateway: answers scripted statuses per number, dedups Idempotency-Key.

    server.script[to] is a list of statuses to answer first (then 200); a number in
    server.block_numbers makes the gateway accept the SMS and hang until server.release
    is set, so the sender can be killed mid-request.
    """

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        server = self.server
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        key = self.headers.get("Idempotency-Key", "")
        with server.lock:
            server.requests.append({"key": key, **payload})
            script = server.script.get(payload["to"], [])
            status = script.pop(0) if script else 200
            if status == 200 and key not in server.accepted:
                # A real gateway sends the SMS here; a replay of the same key does not.
                server.accepted[key] = f"sms-{len(server.accepted) + 1}"
                server.sent[payload["to"]].append(payload["text"])
        if payload["to"] in server.block_numbers:
            server.arrived.set()
            server.release.wait(60)
        body = json.dumps({"id": server.accepted.get(key, ""), "status": status}).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the sender was killed while we held its request


@contextmanager
def sms_gateway() -> Iterator[_Server]:
    with http_server(
        SmsGatewayHandler,
        lock=threading.Lock(),
        requests=[],
        script={},
        accepted={},
        sent=defaultdict(list),
        block_numbers=set(),
        arrived=threading.Event(),
        release=threading.Event(),
    ) as server:
        server.url = f"http://127.0.0.1:{server.server_port}/messages"
        yield server


class PushServiceHandler(BaseHTTPRequestHandler):
    """A push service endpoint: records each encrypted POST and answers server.status."""

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append(
            {"path": self.path, "headers": dict(self.headers), "body": body}
        )
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()


@contextmanager
def push_service(status: int = 201) -> Iterator[_Server]:
    with http_server(PushServiceHandler, received=[], status=status) as server:
        server.base_url = f"http://127.0.0.1:{server.server_port}"
        yield server


def wait_for(predicate, *, timeout: float, interval: float = 0.2, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s: {message}")
