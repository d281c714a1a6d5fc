"""`celery worker` in a subprocess, on the test database: the real thing, for the tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from celery import Celery
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for_worker() -> str:
    """The URL of the test database this process uses, for a worker subprocess."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        user = db.get("USER") or "postgres"
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        return f"postgres://{user}@{host}:{port}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


class Worker:
    """A solo `celery worker` subprocess on the test database and the given broker.

    `settings_module` and `env` shape the worker's settings; with `own_broker`
    the xdist-derived Redis database of config.settings.test is not applied (the
    broker URL comes through `env` instead). Waits until the worker answers a ping.
    """

    def __init__(
        self,
        *,
        broker_url: str,
        env: dict[str, str] | None = None,
        settings_module: str = "config.settings.test",
        own_broker: bool = False,
        beat_dir: Path | None = None,
        name_prefix: str = "test",
        queues: str | None = None,
    ):
        self.broker_url = broker_url
        self.name = f"{name_prefix}-{os.getpid()}-{free_port()}"
        environment = {
            key: value
            for key, value in os.environ.items()
            if not (own_broker and key == "PYTEST_XDIST_WORKER")
        }
        environment.update(
            DJANGO_SETTINGS_MODULE=settings_module,
            DATABASE_URL=database_url_for_worker(),
            CONN_MAX_AGE="0",
            **(env or {}),
        )
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--pool=solo", "--concurrency=1", "--loglevel=WARNING",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "-n", f"{self.name}@%h",
        ]  # fmt: skip
        if queues is not None:
            command += ["-Q", queues]
        if beat_dir is not None:
            command += ["-B", "-s", str(beat_dir / "beat-schedule")]
        self.proc = subprocess.Popen(command, cwd=ROOT, env=environment)
        self._wait_ready()

    def _wait_ready(self) -> None:
        probe = Celery("probe", broker=self.broker_url, set_as_current=False)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"worker exited with {self.proc.returncode}")
                replies = probe.control.ping(timeout=0.5)
                if any(self.name in host for reply in replies for host in reply):
                    return
            self.kill()
            raise RuntimeError("worker did not answer a ping within 60 s")
        finally:
            probe.close()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
