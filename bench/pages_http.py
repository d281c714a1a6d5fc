"""The pages of bench/pages_at_size.py over HTTP, each side served by gunicorn (`--http`).

For each side, next to its in-process worker: gunicorn with `bench/wsgi.py` (config/wsgi.py
with the side's settings and environment), one sync worker (latency, not concurrency) on a
free loopback port, and a `requests` session per kind of visitor, as the in-process side
has a test client: a guest, a signed-in member who chose a store and a member of staff
(their session cookies made by the side's in-process worker: a new session of each, saved
in the database the server reads), and a guest whose basket is new at each run (the add to
basket is a POST with the CSRF token, as a browser sends it, then GET /basket/).
`pages_at_size.measure` interleaves these sides with the in-process ones: each page, each
side in turn, in-process then over HTTP. Gunicorn's sync worker closes the connection after
each response, so the client connects again for every request (on loopback).
"""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from bench.common import SERVED, free_port, log, requests_timed
from bench.listing import CARD_RE

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
SUFFIX = " http"
HOST = "127.0.0.1"
STARTUP_SECONDS = 180


class HttpSide:
    """One side of pages_at_size.py served by gunicorn; asked as its `Remote` is."""

    def __init__(self, remote: Any, env: dict[str, str]):
        self.name = remote.name + SUFFIX
        self.pages: dict[str, str] = remote.pages
        self.kinds: dict[str, list[str]] = remote.ask(kinds=True)
        self.folder = Path(tempfile.mkdtemp(prefix="solomo-bench-http-"))
        port = free_port()
        self.base = f"http://{HOST}:{port}"
        self.server = subprocess.Popen(
            [str(GUNICORN), "bench.wsgi", "--bind", f"{HOST}:{port}",
             "--workers", "1", "--worker-class", "sync", "--timeout", "300",
             "--no-control-socket", "--error-logfile", str(self.folder / "error.log")],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self._wait()
        # As the in-process side's clients: a guest, a new guest basket at each run, and
        # the signed-in kinds with a session of their own made by the in-process worker.
        self.sessions = {"guest": requests.Session(), "basket": requests.Session()}
        for kind in {kind for kind, _ in self.kinds.values()} - set(self.sessions) - {"checkout"}:
            self.sessions[kind] = requests.Session()
            for name, value in remote.ask(cookies=kind).items():
                self.sessions[kind].cookies.set(name, value, domain=HOST, path="/")

    def _wait(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                requests.get(self.base + "/", timeout=60)
                return
            except requests.RequestException:
                if self.server.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.5)
                    continue
            self.close()
            log_file = self.folder / "error.log"
            errors = log_file.read_text(errors="replace") if log_file.exists() else ""
            raise SystemExit(f"{self.name}: gunicorn did not answer\n{errors[-3000:]}")

    def request(self, name: str) -> requests.Response:
        """What `pages_at_size.Side.request` does, over HTTP."""
        kind, method = self.kinds[name]
        session, url = self.sessions[kind], self.base + self.pages[name]
        if method == "POST":
            token = session.cookies.get("csrftoken", domain=HOST, path="/")
            if not token:
                # What Django's CSRF cookie holds: 32 letters and digits (a browser has it
                # from the page the form is on).
                alphabet = string.ascii_letters + string.digits
                token = "".join(secrets.choice(alphabet) for _ in range(32))
                session.cookies.set("csrftoken", token, domain=HOST, path="/")
            added = session.post(
                url, data={"quantity": 1, "csrfmiddlewaretoken": token}, allow_redirects=False
            )
            if added.status_code != 302:
                return added
            return session.get(self.base + "/basket/", allow_redirects=False)
        return session.get(url, allow_redirects=name.startswith(SERVED))

    def ask(self, **command: Any) -> dict:
        """`timed` or `counted`, as a `pages_at_size.Remote` answers them (no SQL count)."""
        name = command.get("timed") or command["counted"]
        if self.kinds[name][0] == "checkout":  # a test client's round trip, in-process only
            return {"queries": None, "cards": 0, "status": "in-process only", "ms": []}
        if "counted" in command:
            response = self.request(name)
            cards = len(CARD_RE.findall(response.text))
            return {"queries": None, "cards": cards, "status": response.status_code}
        if self.kinds[name][0] == "basket":
            self.sessions["basket"].close()
            self.sessions["basket"] = requests.Session()
        return requests_timed(lambda: self.request(name), command["count"])

    def close(self) -> None:
        for session in getattr(self, "sessions", {}).values():
            session.close()
        self.server.terminate()
        try:
            self.server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait()


def http_split(report: dict) -> dict:
    """Move the HTTP sides' rows out of report["results"] into report["http"], keyed by the
    side's name, with the SQL queries its in-process twin counted; return a report of them
    for `pages_at_size.table`."""
    http = {}
    for name in [n for n in report["results"] if n.endswith(SUFFIX)]:
        rows = report["results"].pop(name)
        side = name.removesuffix(SUFFIX)
        for page, row in rows.items():
            row["queries"] = report["results"][side][page]["queries"]
        http[side] = rows
    report["http"] = http
    log(f"over HTTP: {', '.join(http)}")
    return {"pages": report["pages"], "results": http}
