"""Real processes and servers for the notification tests: a redis-server of our own, Celery
workers on it, HTTP providers on 127.0.0.1 (an SMS gateway, a push service) and an SMTP
server speaking the protocol over a socket.

Nothing of ours is patched: the fakes only stand where the providers would be, across a
process or socket boundary.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import socketserver
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
        self,
        *,
        broker_url: str,
        env: dict[str, str],
        beat_dir: Path | None = None,
        queues: str | None = None,
    ) -> None:
        super().__init__(
            broker_url=broker_url,
            env={"NOTIFY_TEST_BROKER_URL": broker_url, **env},
            settings_module="tests.shop.communication.worker_settings",
            own_broker=True,
            beat_dir=beat_dir,
            name_prefix="notify",
            queues=queues,
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


class SmtpHandler(socketserver.StreamRequestHandler):
    """One SMTP session (RFC 5321, no TLS or AUTH), following the server's next plan.

    server.plans is a list of dicts, one taken per connection (then the default: accept):
    "greeting": a code to greet with before hanging up (421: busy, try later);
    "rcpt": a code to answer every RCPT with; "data_delay": seconds to wait before
    answering the end of DATA; "data_hold": wait for server.release before answering it
    (server.arrived is set once the content is in); "data_reply": the code answering the
    end of DATA (250 unless told). A message whose content came in whole and that is not
    refused is delivered (server.delivered), as a real server would, whether or not the
    client was still there for the reply. server.on_data, if set, is called when the DATA
    command arrives, before the content (the tests check what the shop recorded by then).
    """

    timeout = 60

    def reply(self, line: str) -> None:
        with contextlib.suppress(OSError):  # the client is gone (timed out, or killed)
            self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        server = self.server
        with server.lock:
            plan = server.plans.pop(0) if server.plans else {}
            server.connections += 1
        if "greeting" in plan:
            self.reply(f"{plan['greeting']} test server busy, try again later")
            return
        self.reply("220 localhost ESMTP test server")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode("utf-8", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250-localhost\r\n250-8BITMIME\r\n250 SMTPUTF8")
            elif verb == "MAIL":
                self.reply("250 sender ok")
            elif verb == "RCPT":
                code = plan.get("rcpt", 250)
                self.reply(f"{code} recipient {'ok' if code == 250 else 'refused, try later'}")
            elif verb == "DATA":
                if server.on_data is not None:
                    server.on_data()
                self.reply("354 end data with <CR><LF>.<CR><LF>")
                content = self.read_content()
                if content is None:
                    return
                code = plan.get("data_reply", 250)
                with server.lock:
                    server.received.append(content)
                    if code == 250:
                        server.delivered.append(content)
                if plan.get("data_hold"):
                    server.arrived.set()
                    server.release.wait(60)
                time.sleep(plan.get("data_delay", 0))
                self.reply(f"{code} {'queued' if code == 250 else 'try again later'}")
            elif verb == "RSET" or verb == "NOOP":
                self.reply("250 ok")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 command not implemented")

    def read_content(self) -> bytes | None:
        lines = []
        while True:
            line = self.rfile.readline()
            if not line:
                return None  # the client left before the end of the content
            if line == b".\r\n":
                return b"".join(lines)
            lines.append(line[1:] if line.startswith(b"..") else line)


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def message_ids(self) -> list[int]:
        """The outbox ids of the delivered messages, from their Message-ID headers."""
        with self.lock:
            contents = list(self.delivered)
        return [
            int(match)
            for content in contents
            for match in re.findall(rb"^Message-ID: <outbox-(\d+)@", content, re.M)
        ]


@contextmanager
def smtp_server() -> Iterator[_SmtpServer]:
    server = _SmtpServer(("127.0.0.1", 0), SmtpHandler)
    server.lock = threading.Lock()
    server.plans, server.received, server.delivered = [], [], []
    server.connections = 0
    server.on_data = None
    server.arrived, server.release = threading.Event(), threading.Event()
    server.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


def wait_for(predicate, *, timeout: float, interval: float = 0.2, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s: {message}")
