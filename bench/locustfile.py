"""The shop under load: a Locust scenario, driven headless by bench/load.py (bench/README.md).

Task mix per user (weights = percentages): browse 60 (home, catalogue, a category), search 15,
product page 15, click & collect checkout 8 (the real pages: add to basket from the product
page, the guest step for a guest, a store's pickup times, place the order, paid at pickup),
member page 2 (`/loyalty/`, signing in first if needed). Every other user signs in as a member
at its start, so members check out too (points promised for their orders).

Read from the environment (set by bench/load.py):
- LOAD_HOSTS: base URLs separated by commas (loopback only). With two (the scale-out run),
  each user sends its requests to them in turn, so a user signs in, fills a basket and checks
  out across both web processes: a session, basket or rate-limit counter kept in one process
  would show as a failed step.
- LOAD_DATA: the JSON file of products, categories, search words, stores and member logins.
- LOAD_REQUEST_LOG: where to write one line per request (start time, name, milliseconds,
  error), from which bench/load.py takes the p99 of the window Redis is frozen.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import re
import time
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task

HOSTS = [host.strip().rstrip("/") for host in os.environ["LOAD_HOSTS"].split(",")]
for _host in HOSTS:
    if urlsplit(_host).hostname not in {"127.0.0.1", "localhost"}:
        raise SystemExit(f"LOAD_HOSTS must be loopback addresses, got {_host}")
with open(os.environ["LOAD_DATA"], encoding="utf-8") as _file:
    DATA = json.load(_file)
_log = open(os.environ["LOAD_REQUEST_LOG"], "a", encoding="utf-8")  # noqa: SIM115
_user_numbers = itertools.count()

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SLOT = re.compile(r'<input[^>]*name="slot"[^>]*value="([^"]+)"')
# Answers to a shopper who lost a race, between the page and the POST: the pickup time
# filled up, or the store sold its last units.
FULLY_BOOKED = "has just been fully booked"
SOLD_OUT = "no longer has"
# The store lost the basket's last units between its times page and the chosen time.
CANNOT_PREPARE = "cannot prepare your whole basket any more"
ALERT = re.compile(r'class="alert\b[^"]*alert-(?:danger|warning)[^"]*"[^>]*>(.*?)</div>', re.S)
TAG = re.compile(r"<[^>]+>|\s+")


def page_says(html: str) -> str:
    """The page's first error or warning, as text (to tell why a step ended elsewhere)."""
    found = ALERT.search(html)
    return TAG.sub(" ", found.group(1)).strip()[:160] if found else ""


@events.request.add_listener
def _request_logged(request_type, name, response_time, exception, **kwargs):
    started = time.time() - response_time / 1000
    error = "" if exception is None else str(exception).replace("\t", " ").replace("\n", " ")
    _log.write(f"{started:.3f}\t{request_type} {name}\t{response_time:.1f}\t{error[:200]}\n")


@events.quitting.add_listener
def _log_closed(environment, **kwargs):
    _log.close()


class StepFailed(Exception):
    pass


def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    if not found:
        raise StepFailed("no CSRF token on the page")
    return found.group(1)


class Shopper(HttpUser):
    host = HOSTS[0]
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.number = next(_user_numbers)
        self.hosts = itertools.cycle(HOSTS[self.number % len(HOSTS) :] + HOSTS)
        self.rng = random.Random(self.number)
        self.signed_in = False
        if self.number % 2 == 0:
            self.sign_in()

    # --- Requests: each to the next web process in turn -------------------------------

    def url(self, path: str) -> str:
        return next(self.hosts) + path

    def get(self, path: str, name: str, expect: str = ""):
        with self.client.get(self.url(path), name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                raise StepFailed(name)
            if expect and expect not in response.url:
                response.failure(f"ended at {urlsplit(response.url).path}, not {expect}")
                raise StepFailed(name)
            return response

    def post(self, path: str, data: dict, name: str, expect: str, contains: str = "", busy=()):
        """POST; the response must end at `expect` showing `contains`. Ending elsewhere
        with a page that says one of `busy` (another shopper got there first) is an answer,
        not an error: it is logged as that outcome and the step returns None."""
        with self.client.post(self.url(path), data, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                raise StepFailed(name)
            if expect not in response.url:
                says = page_says(response.text)
                for answer in busy:
                    if answer in says:
                        self.outcome(answer)
                        return None
                response.failure(f"ended at {urlsplit(response.url).path}, not {expect}: {says}")
                raise StepFailed(name)
            if contains not in response.text:
                response.failure(f"{contains!r} not on {urlsplit(response.url).path}")
                raise StepFailed(name)
            return response

    def sign_in(self) -> None:
        member = DATA["members"][self.number % len(DATA["members"])]
        page = self.get("/accounts/login/", "login page")
        self.post(
            "/accounts/login/",
            {
                "csrfmiddlewaretoken": csrf_token(page.text),
                "login-username": member,
                "login-password": DATA["password"],
                "login_submit": "Log In",
            },
            "sign in",
            expect="/",
            contains="/accounts/logout/",  # signed in: the page offers to sign out
        )
        self.signed_in = True

    # --- The mix ------------------------------------------------------------------------

    @task(60)
    def browse(self) -> None:
        path = self.rng.choice(["/", "/catalogue/", *DATA["categories"]])
        with contextlib.suppress(StepFailed):
            self.get(path, "browse")

    @task(15)
    def search(self) -> None:
        with contextlib.suppress(StepFailed):
            self.get(f"/search/?q={self.rng.choice(DATA['words'])}", "search")

    @task(15)
    def product(self) -> None:
        with contextlib.suppress(StepFailed):
            self.get(self.rng.choice(DATA["products"])["url"], "product")

    @task(2)
    def member_page(self) -> None:
        try:
            if not self.signed_in:
                self.sign_in()
            self.get("/loyalty/", "member page", expect="/loyalty/")
        except StepFailed:
            pass

    @task(8)
    def checkout(self) -> None:
        with contextlib.suppress(StepFailed):
            self.checkout_steps()

    def checkout_steps(self) -> None:
        if not self.signed_in:
            self.client.cookies.clear()  # each guest checkout is a new visitor
        store = self.rng.choice(DATA["stores"])
        here = [product for product in DATA["products"] if store["slug"] in product["stores"]]
        # Half the checkouts go for a scarce product: shoppers race for its last units.
        scarce = [product for product in here if product["scarce"]]
        item = self.rng.choice(scarce if scarce and self.rng.random() < 0.5 else here)
        page = self.get(item["url"], "checkout: product page")
        self.post(
            f"/basket/add/{item['id']}/",
            {"csrfmiddlewaretoken": csrf_token(page.text), "quantity": 1},
            "checkout: add to basket",
            expect="/basket/",
        )
        if not self.signed_in:
            page = self.get("/checkout/", "checkout: guest step", expect="/checkout/")
            self.post(
                "/checkout/",
                {
                    "csrfmiddlewaretoken": csrf_token(page.text),
                    "username": f"load-guest-{self.number}-{time.time_ns()}@example.com",
                    "options": "anonymous",
                },
                "checkout: guest",
                expect="/checkout/delivery/",
            )
        times = self.get(f"/checkout/pickup/{store['slug']}/", "checkout: pickup times")
        if f"/checkout/pickup/{store['slug']}/" not in times.url:
            # The store no longer has the whole basket: an answer, not an error.
            self.outcome("sold out")
            # A member's basket keeps the line: they leave (and come back as a guest).
            self.client.cookies.clear()
            self.signed_in = False
            return
        slots = SLOT.findall(times.text)
        if not slots:
            self.outcome("no pickup time left")
            return
        preview = self.post(
            f"/checkout/pickup/{store['slug']}/",
            # Most take one of the first times offered.
            {"csrfmiddlewaretoken": csrf_token(times.text), "slot": self.rng.choice(slots[:3])},
            "checkout: choose time",
            expect="/checkout/preview/",
            busy=(FULLY_BOOKED, CANNOT_PREPARE),
        )
        if preview is None:
            return
        placed = self.post(
            "/checkout/preview/",
            {"csrfmiddlewaretoken": csrf_token(preview.text), "action": "place_order"},
            "checkout: place order",
            expect="/checkout/thank-you/",
            busy=(FULLY_BOOKED, SOLD_OUT),
        )
        if placed is not None:
            self.outcome("order placed")

    def outcome(self, what: str) -> None:
        _log.write(f"{time.time():.3f}\toutcome {what}\t0\t\n")
