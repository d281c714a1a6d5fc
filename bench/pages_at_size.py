"""Storefront pages on a 10,000-product catalogue: ours against plain django-oscar, interleaved.

    .venv/bin/python bench/pages_at_size.py                         # builds solomo_size_10k once
    .venv/bin/python bench/pages_at_size.py --runs 7 --requests 20 --label after
    .venv/bin/python bench/pages_at_size.py --http    # over HTTP with gunicorn too

The catalogue comes from bench/catalogue_size.py (same options: --reuse-db, --products, ...).
Three processes, one per side, each with Django's test client in-process (DEBUG off):

- ours: config.settings.test;
- oscar-whoosh: bench.settings_vanilla (Oscar's search app and stock templates, Haystack on
  Whoosh, the index built with the catalogue);
- oscar-simple: the same with Haystack's `simple` backend (no index), plain Oscar as installed.

Each side warms every page up, then for each of --runs runs, page by page, every side in
turn (the order rotates with the run) makes --requests requests: the sides share the
machine's load alike. Per page and side: median and p95 of the request times, the SQL
queries of one more request and the product cards in its HTML. Results go to
bench/results/pages-at-size-<date>[-label].json and a table to stdout. With --http, each
side is also served by gunicorn and asked over HTTP in the same runs (bench/pages_http.py):
a second table, and "-http" in the file's name.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.catalogue_size import arguments_add, catalogue_ensure, environment  # noqa: E402
from bench.checkout_round_trip import CHECKOUT_PAGE, CHECKOUT_URL, CheckoutRoundTrip  # noqa: E402
from bench.common import SERVED, log, percentile, requests_timed  # noqa: E402
from bench.listing import CARD_RE  # noqa: E402

SIDES = {
    "ours": {"DJANGO_SETTINGS_MODULE": "config.settings.test"},
    "oscar-whoosh": {"DJANGO_SETTINGS_MODULE": "bench.settings_vanilla"},
    "oscar-simple": {
        "DJANGO_SETTINGS_MODULE": "bench.settings_vanilla",
        "BENCH_HAYSTACK": "simple",
    },
}
COMMON_WORD, RARE_WORD, FRENCH_QUERY = "coffee", "yirgacheffe", "fromage affiné"
STORES_API = "/api/stores/?lat=48.58&lng=7.75"


# --- Worker: one side's Django, driven by JSON lines on stdin -----------------------------


def pages_choose() -> dict[str, tuple[str, str, str]]:
    """name -> (client, method, url), the same on every side (read from the same data)."""
    from django.conf import settings
    from django.db.models import Count
    from oscar.core.loading import get_model

    category_model = get_model("catalogue", "Category")
    product_model = get_model("catalogue", "Product")
    stock = get_model("partner", "StockRecord").objects.filter(partner__code="online")
    item = stock.filter(num_in_stock__gte=500).order_by("product_id").first().product
    category = (
        category_model.objects.filter(depth=1, is_public=True, name__startswith="Bench")
        .order_by("pk")
        .first()
    )
    listed = product_model.objects.filter(categories__path__startswith=category.path).count()
    deep = min(20, (listed - 1) // 24 + 1)  # page 20, or the last on a small catalogue
    busiest = (
        product_model.objects.browsable()
        .filter(upc__startswith="BENCH")
        .annotate(stores=Count("stockrecords"))
        .order_by("-stores", "pk")
        .first()
    )
    # Our home page on every side (on the vanilla sides at /our-home/, with Oscar's
    # templates); "home as served" is what each shop answers at `/`, redirects followed:
    # plain Oscar's is a redirect to its catalogue page (bench/vanilla_urls.py).
    home = getattr(settings, "BENCH_HOME_URL", "/")
    return {
        f"{SERVED}, guest": ("guest", "GET", "/"),
        f"{SERVED}, signed in": ("member", "GET", "/"),
        "home guest": ("guest", "GET", home),
        "home signed in": ("member", "GET", home),
        "catalogue": ("guest", "GET", "/catalogue/"),
        "category p1": ("guest", "GET", category.get_absolute_url()),
        f"category p{deep}": ("guest", "GET", f"{category.get_absolute_url()}?page={deep}"),
        "search common": ("guest", "GET", f"/search/?q={COMMON_WORD}"),
        "search rare": ("guest", "GET", f"/search/?q={RARE_WORD}"),
        "search French": ("guest", "GET", f"/fr/search/?q={FRENCH_QUERY}"),
        "product guest": ("guest", "GET", busiest.get_absolute_url()),
        "product signed in, store": ("member", "GET", busiest.get_absolute_url()),
        "basket add + view": ("basket", "POST", f"/basket/add/{item.pk}/"),
        CHECKOUT_PAGE: ("checkout", "POST", CHECKOUT_URL),
        "member page": ("member", "GET", "/loyalty/"),
        "store locator": ("guest", "GET", "/stores/"),
        "stores API": ("guest", "GET", STORES_API),
        "dashboard home, staff": ("staff", "GET", "/dashboard/"),
    }


STAFF_EMAIL = "admin@solomo.example"  # seed_demo's administrator (shop/demo/people.py)


def client_signed_in(kind: str):
    """A test client signed in as `kind`: "member" (a generated member who chose the first
    store) or "staff" (seed_demo's administrator)."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from oscar.core.loading import get_model

    client = Client()
    if kind == "staff":
        client.force_login(get_user_model().objects.get(email=STAFF_EMAIL))
        return client
    member = get_model("loyalty", "Member").objects.filter(user__email__startswith="pop")
    client.force_login(member.order_by("pk").first().user)
    store = get_model("stores", "Store").objects.order_by("pk").first()
    client.post(f"/stores/{store.slug}/choose/", {"next": "/"})
    return client


class Side:
    """The test clients of one side: a guest, a signed-in member with a chosen store, a
    member of staff, and a guest whose basket is new at each run."""

    def __init__(self):
        from django.test import Client

        self.pages = pages_choose()
        self.guest = Client()
        self.member = client_signed_in("member")
        self.staff = client_signed_in("staff")
        self.basket = Client()
        self.checkout = CheckoutRoundTrip()

    def request(self, name: str):
        kind, method, url = self.pages[name]
        if kind == "checkout":
            return self.checkout.round_trip()
        client = getattr(self, kind)
        if method == "POST":
            added = client.post(url, {"quantity": 1})
            if added.status_code != 302:
                return added
            return client.get("/basket/")
        return client.get(url, follow=name.startswith(SERVED))

    def timed(self, name: str, count: int) -> dict:
        if self.pages[name][0] == "basket":
            from django.test import Client

            self.basket = Client()
        # A checkout round trip starts from a new basket of one line, not timed.
        prepare = self.checkout.prepare if self.pages[name][0] == "checkout" else None
        return requests_timed(lambda: self.request(name), count, prepare)

    def counted(self, name: str) -> dict:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        if self.pages[name][0] == "checkout":
            self.checkout.prepare()
        with CaptureQueriesContext(connection) as queries:
            response = self.request(name)
        cards = len(CARD_RE.findall(response.content.decode(errors="replace")))
        return {"queries": len(queries), "cards": cards, "status": response.status_code}


def plans() -> dict[str, str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the page query of our search and catalogue pages."""
    from django.utils import translation
    from oscar.core.loading import get_model

    from shop.search.selectors import products_search

    Category = get_model("catalogue", "Category")

    asked = {
        "search common": ("en", COMMON_WORD),
        "search rare": ("en", RARE_WORD),
        "search French": ("fr", FRENCH_QUERY),
        "catalogue": ("en", ""),
    }
    found = {}
    for name, (language, query) in asked.items():
        with translation.override(language):
            page = products_search(query=query)[:24]
            found[name] = page.explain(analyze=True, buffers=True)
    category = Category.objects.filter(depth=1, name__startswith="Bench").order_by("pk").first()
    deep = products_search(categories=category.get_descendants_and_self())[19 * 24 : 20 * 24]
    found["category p20"] = deep.explain(analyze=True, buffers=True)
    return found


def worker() -> None:
    import django

    django.setup()
    side = Side()
    print(json.dumps({k: v[2] for k, v in side.pages.items()}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if "timed" in command:
            answer = side.timed(command["timed"], command["count"])
        elif "plans" in command:
            answer = plans()
        elif "kinds" in command:  # for bench/pages_http.py: who asks for each page, how
            answer = {k: v[:2] for k, v in side.pages.items()}
        elif "checkout_plan" in command:  # for bench/pages_http.py's round trip
            answer = side.checkout.plan()
        elif "cookies" in command:  # a new session of that kind, for bench/pages_http.py
            answer = {k: v.value for k, v in client_signed_in(command["cookies"]).cookies.items()}
        else:
            answer = side.counted(command["counted"])
        print(json.dumps(answer), flush=True)


# --- Orchestrator -------------------------------------------------------------------------


class Remote:
    def __init__(self, name: str, env: dict[str, str]):
        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker"],
            cwd=ROOT,
            env={**os.environ, **env, **SIDES[name]},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.pages = self._answer()

    def _answer(self):
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"{self.name}: the worker stopped")
        return json.loads(line)

    def ask(self, **command):
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._answer()

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


def measure(remotes: list[Remote], args) -> dict:
    wanted = [word for word in args.pages.split(",") if word]
    pages = [p for p in remotes[0].pages if not wanted or any(word in p for word in wanted)]
    samples = {side.name: {page: [] for page in pages} for side in remotes}
    failed: dict[tuple[str, str], int] = {}
    loads = [os.getloadavg()[0]]
    log(f"warm-up: {args.warmup} requests per page and side")
    for page in pages:
        for side in remotes:
            answer = side.ask(timed=page, count=args.warmup)
            if answer["status"] != 200:
                failed[(side.name, page)] = answer["status"]
    for run in range(args.runs):
        order = remotes[run % len(remotes) :] + remotes[: run % len(remotes)]
        for page in pages:
            for side in order:
                if (side.name, page) not in failed:
                    samples[side.name][page] += side.ask(timed=page, count=args.requests)["ms"]
        loads.append(os.getloadavg()[0])
        log(f"run {run + 1}/{args.runs} done, load {loads[-1]:.2f}")
    results: dict = {}
    for side in remotes:
        results[side.name] = {}
        for page in pages:
            times = samples[side.name][page]
            row = side.ask(counted=page)
            if (side.name, page) in failed:
                row["failed"] = failed[(side.name, page)]
            elif times:
                row.update(median=statistics.median(times), p95=percentile(times, 0.95))
            results[side.name][page] = row
    return {
        "pages": {page: remotes[0].pages[page] for page in pages},
        "results": results,
        "load_1min": loads,
    }


def table(report: dict) -> str:
    head = (
        "| page | ours median / p95 ms | queries | Oscar+Whoosh median / p95 ms | queries"
        " | ×Whoosh | Oscar simple median / p95 ms | queries | ×simple |"
    )
    lines = [head, "|" + "---|" * 9]
    results = report["results"]

    def cell(row: dict) -> str:
        if "failed" in row:
            return f"answers {row['failed']}"
        cards = f", {row['cards']} cards" if row["cards"] else ""
        return f"{row['median']:.1f} / {row['p95']:.1f}{cards}"

    def ratio(ours: dict, other: dict) -> str:
        if "median" not in ours or "median" not in other:
            return "—"
        if ours["cards"] and not other["cards"]:
            return "lists nothing"
        return f"{other['median'] / ours['median']:.1f}×"

    for page, url in report["pages"].items():
        ours = results["ours"][page]
        row = [f"{page} `{url}`", cell(ours), str(ours["queries"])]
        for side in ("oscar-whoosh", "oscar-simple"):
            other = results[side][page]
            row += [cell(other), str(other["queries"]), ratio(ours, other)]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def side_env(env: dict[str, str], name: str) -> dict[str, str]:
    """One side's environment: with --redis, a Redis database of its own (the one named, the
    next, the one after), so that no side reads another's cached cards, pages or menus."""
    env = {**env, **SIDES[name]}
    if env.get("REDIS_URL"):
        parts = urlsplit(env["REDIS_URL"])
        database = int(parts.path.strip("/") or 0) + list(SIDES).index(name)
        env["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{database}"))
    return env


def orchestrate(args) -> None:
    database_url, data_dir, counts = catalogue_ensure(args)
    # With --redis, every side caches there (and Celery tasks are queued, not run: the
    # product views our page counts there are left unflushed).
    env = {**environment(database_url, data_dir), "REDIS_URL": args.redis}
    started = time.monotonic()
    if args.explain:
        ours = Remote("ours", env)
        for name, plan in ours.ask(plans=True).items():
            print(f"### {name}\n\n```\n{plan}\n```\n")
        ours.close()
        return
    remotes = [Remote(name, side_env(env, name)) for name in SIDES]
    servers: list = []  # --http: each side served by gunicorn too (bench/pages_http.py)
    try:
        for remote in remotes[1:]:
            if list(remote.pages) != list(remotes[0].pages):
                raise SystemExit(f"{remote.name} chose other pages: {remote.pages}")
        if args.http:
            from bench.pages_http import HttpSide

            for remote in remotes:
                servers.append(HttpSide(remote, side_env(env, remote.name)))
        report = measure(remotes + servers, args)
    finally:
        for side in remotes + servers:
            side.close()
    now = dt.datetime.now(dt.UTC)
    report.update(
        when=now.isoformat(timespec="seconds"),
        seconds=round(time.monotonic() - started),
        cpus=os.cpu_count(),
        counts=counts,
        options={
            k: getattr(args, k) for k in ("runs", "requests", "warmup", "redis", "pages", "http")
        },
    )
    text = table(report)
    if args.http:
        from bench.pages_http import http_split

        text += "\n\nOver HTTP, gunicorn with one sync worker per side:\n\n"
        text += table(http_split(report))
    print(text)
    label = ("-http" if args.http else "") + (f"-{args.label}" if args.label else "")
    path = ROOT / "bench" / "results" / f"pages-at-size-{now:%Y-%m-%d}{label}.json"
    path.write_text(json.dumps({**report, "table": text}, indent=1))
    log(f"written to {path.relative_to(ROOT)}; load {report['load_1min']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments_add(parser)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=10, help="per page, side and run")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--redis", default="", help="Redis URL for every side's cache")
    parser.add_argument("--label", default="", help="suffix of the results file")
    parser.add_argument("--pages", default="", help="only pages naming one of these, a,b,...")
    parser.add_argument("--explain", action="store_true", help="print our search plans only")
    parser.add_argument("--http", action="store_true", help="over HTTP with gunicorn too")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker()
    else:
        orchestrate(args)


if __name__ == "__main__":
    main()
