"""The pages of bench/pages_at_size.py over HTTP, each side served by gunicorn (`--http`).

For each side, next to its in-process worker: gunicorn with `bench/wsgi.py` (config/wsgi.py
with the side's settings and environment), one sync worker (latency, not concurrency) on a
free loopback port, and a `requests` session per kind of visitor, as the in-process side
has a test client: a guest, a signed-in member who chose a store and a member of staff
(their session cookies made by the side's in-process worker: a new session of each, saved
in the database the server reads), a guest whose basket is new at each run (the add to
basket is a POST with the CSRF token, as a browser sends it, then GET /basket/), and a
guest's checkout round trip: the product, store and slot its in-process twin chose
(`CheckoutRoundTrip.plan`), the basket and the checkout's start untimed, then the same
POSTs as in-process, redirects followed.
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

from bench.checkout_round_trip import CHECKOUT_ADDRESS
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
        self.remote = remote
        self.plan: dict = {}
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
        self.sessions = {kind: requests.Session() for kind in ("guest", "basket", "checkout")}
        for kind in {kind for kind, _ in self.kinds.values()} - set(self.sessions):
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
        if kind == "checkout":
            return self.checkout_round_trip()
        if method == "POST":
            added = self.post(session, url, {"quantity": 1}, allow_redirects=False)
            if added.status_code != 302:
                return added
            return session.get(self.base + "/basket/", allow_redirects=False)
        return session.get(url, allow_redirects=name.startswith(SERVED))

    @staticmethod
    def post(session: requests.Session, url: str, data: dict, **kwargs: Any) -> requests.Response:
        """A form's POST with the CSRF token, as a browser sends it."""
        token = session.cookies.get("csrftoken", domain=HOST, path="/")
        if not token:
            # What Django's CSRF cookie holds: 32 letters and digits (a browser has it
            # from the page the form is on).
            alphabet = string.ascii_letters + string.digits
            token = "".join(secrets.choice(alphabet) for _ in range(32))
            session.cookies.set("csrftoken", token, domain=HOST, path="/")
        return session.post(url, data={**data, "csrfmiddlewaretoken": token}, **kwargs)

    def checkout_prepare(self) -> None:
        """What `CheckoutRoundTrip.prepare` does, over HTTP (untimed): a new guest's basket
        of the product its in-process twin chose, and the checkout started as a guest."""
        self.sessions["checkout"].close()
        session = self.sessions["checkout"] = requests.Session()
        self.plan = self.remote.ask(checkout_plan=True)
        self.post(session, f"{self.base}/basket/add/{self.plan['item']}/", {"quantity": 1})
        started = self.post(
            session,
            f"{self.base}/checkout/",
            {"username": "bench-checkout@example.com", "options": "anonymous"},
            allow_redirects=False,
        )
        if started.status_code != 302:
            raise RuntimeError(f"{self.name}: checkout did not start: {started.status_code}")

    def checkout_round_trip(self) -> requests.Response:
        """`CheckoutRoundTrip.round_trip` over HTTP: the store's time (ours) or the address
        (Oscar's), the steps that follow, the order placed, the thank-you page."""
        session = self.sessions["checkout"]
        if self.plan["pickup"]:
            first = (f"/checkout/pickup/{self.plan['store']}/", {"slot": self.plan["slot"]})
        else:
            first = ("/checkout/shipping-address/", CHECKOUT_ADDRESS)
        steps = (
            (*first, "/checkout/preview/"),
            ("/checkout/preview/", {"action": "place_order"}, "/checkout/thank-you/"),
        )
        for path, data, expected in steps:
            response = self.post(session, self.base + path, data)
            if not response.url.endswith(expected) or response.status_code != 200:
                response.status_code = 599 if response.status_code == 200 else response.status_code
                return response
        return response

    def ask(self, **command: Any) -> dict:
        """`timed` or `counted`, as a `pages_at_size.Remote` answers them (no SQL count)."""
        name = command.get("timed") or command["counted"]
        if "counted" in command:
            if self.kinds[name][0] == "checkout":
                self.checkout_prepare()
            response = self.request(name)
            cards = len(CARD_RE.findall(response.text))
            return {"queries": None, "cards": cards, "status": response.status_code}
        if self.kinds[name][0] == "basket":
            self.sessions["basket"].close()
            self.sessions["basket"] = requests.Session()
        prepare = self.checkout_prepare if self.kinds[name][0] == "checkout" else None
        return requests_timed(lambda: self.request(name), command["count"], prepare)

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
