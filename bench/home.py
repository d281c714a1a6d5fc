"""Server time of the dashboard home after a staff login and of the shop's home page.

Run from the project root:

    .venv/bin/python bench/home.py                   # SQLite and PostgreSQL, 7 runs each
    .venv/bin/python bench/home.py --runs 5 --no-postgres
    .venv/bin/python bench/home.py --postgres URL --database-name solomo_me_bench

Each database (a temporary SQLite file; a throw-away PostgreSQL database
`solomo_bench_home_<pid>` on the server of `--postgres`, default DATABASE_URL if it is a
PostgreSQL URL, else postgres://postgres@127.0.0.1:5432/postgres, dropped at the end) is
migrated and seeded with `seed_demo`, under config.settings.test (DEBUG off, local-memory
cache, no Redis), media in a temporary directory. Django's test client runs in-process: the
time is the server's (middleware, view, template), not the network's. Three measures per
page, `--runs` times each, medians reported:

- cold: a fresh process (a web worker just started) loads the WSGI application as gunicorn
  does (`config.wsgi`), signs in, then its FIRST request to the page is timed;
- after an order: in a warm process, a click & collect order is placed (Oscar's
  OrderCreator, as `seed_demo` does) by the demo shopper; for the home page, of a product
  the page shows when one is in stock at the store (its cached card must show the new
  stock); then the page is requested;
- warm: the page again, nothing changed.

Pages: `/dashboard/` signed in as the demo superuser (Oscar's dashboard index, the
statistics over orders, baskets and customers) and `/` signed in as the demo shopper.
Each figure is given as wall-clock time and as the CPU time of the Django process (on SQLite
that includes the database's work; on PostgreSQL the server's share is only in the wall
time): on a shared machine the wall time follows the load of the other processes, the CPU
time much less. The SQL queries of each request are counted (CaptureQueriesContext). The
load average of the machine before and after the run is recorded with the figures. Prints
JSON and writes it to bench/results/home-<date>[-<label>].json. Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import log, scratch_postgres  # noqa: E402

PAGES = {
    "dashboard": ("/dashboard/", "admin@solomo.example"),
    "home": ("/", "shopper@solomo.example"),
}


def _environ(database_url: str, media: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
        "REDIS_URL": "",
        "CONN_MAX_AGE": "60",
        "ALLOWED_HOSTS": "testserver",
        "MEDIA_ROOT": media,
    }


def _client(email: str):
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(email=email))
    return client


def _timed(client, url: str) -> tuple[float, float, int]:
    """Wall-clock ms, CPU ms of this process and SQL queries of one GET of `url`."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started, cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        cpu_ms = (time.process_time() - cpu) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code}")
    return elapsed, cpu_ms, len(queries.captured_queries)


def cold_child(page: str) -> None:
    """In a fresh process: load the WSGI app as a worker does, sign in, time one request."""
    import config.wsgi  # noqa: F401  (what gunicorn imports before serving)

    url, email = PAGES[page]
    client = _client(email)
    elapsed, cpu_ms, queries = _timed(client, url)
    print(json.dumps({"ms": elapsed, "cpu_ms": cpu_ms, "queries": queries}))


def _shown_ids(email: str) -> list[int]:
    """The products whose cards the shop's home page shows to `email`: the newest ones and
    the member's "for you" candidates."""
    from django.contrib.auth import get_user_model
    from oscar.core.loading import get_model

    from loyalty.recommendations import for_you_ids
    from shop.views import FEATURED_PRODUCTS

    newest = (
        get_model("catalogue", "Product")
        .objects.browsable()
        .order_by("-date_created", "-pk")
        .values_list("pk", flat=True)[:FEATURED_PRODUCTS]
    )
    return [*newest, *for_you_ids(user=get_user_model().objects.get(email=email))]


def _order_place(page: str) -> None:
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from shop.demo.stores import _place_pickup_order
    from stores.models import Store

    user = get_user_model().objects.get(email="shopper@solomo.example")
    shown = _shown_ids(PAGES[page][1]) if page == "home" else None
    with transaction.atomic():
        store = Store.objects.order_by("pk").first()
        now = timezone.now()
        placed = _place_pickup_order(user=user, store=store, now=now, product_ids=shown)
        if placed is None and shown is not None:
            placed = _place_pickup_order(user=user, store=store, now=now)
        if placed is None:
            raise SystemExit("no stock or slot left to place an order")


def measure(database_url: str, media: str, runs: int) -> dict:
    env = {**os.environ, **_environ(database_url, media)}
    results: dict[str, dict] = {}
    for page in PAGES:
        cold = []
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, __file__, "--cold-child", page],
                env=env,
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            cold.append(json.loads(out.stdout.strip().splitlines()[-1]))
        results[page] = {
            "cold_ms": round(statistics.median(r["ms"] for r in cold), 1),
            "cold_cpu_ms": round(statistics.median(r["cpu_ms"] for r in cold), 1),
            "cold_queries": cold[-1]["queries"],
        }
    os.environ.update(_environ(database_url, media))
    import django

    django.setup()
    for page, (url, email) in PAGES.items():
        client = _client(email)
        for _ in range(3):
            _timed(client, url)
        after, warm = [], []
        for _ in range(runs):
            _order_place(page)
            after.append(_timed(client, url))
            warm.append(_timed(client, url))
        results[page].update(
            after_order_ms=round(statistics.median(ms for ms, _c, _q in after), 1),
            after_order_cpu_ms=round(statistics.median(c for _ms, c, _q in after), 1),
            after_order_queries=after[-1][2],
            warm_ms=round(statistics.median(ms for ms, _c, _q in warm), 1),
            warm_cpu_ms=round(statistics.median(c for _ms, c, _q in warm), 1),
            warm_queries=warm[-1][2],
        )
        log(f"{page}: {json.dumps(results[page])}")
    return results


def prepare(database_url: str, media: str) -> None:
    env = {**os.environ, **_environ(database_url, media)}
    for command in (["migrate", "--noinput", "-v0"], ["seed_demo", "-v0"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            env=env,
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )


def _run_one(label: str, database_url: str, media: str, runs: int) -> dict:
    """Measure in a child process, so each database gets a fresh Django."""
    log(f"{label}: migrating and seeding")
    prepare(database_url, media)
    log(f"{label}: measuring ({runs} runs)")
    out = subprocess.run(
        [sys.executable, __file__, "--measure-child", database_url, media, str(runs)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    sys.stderr.write(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--cold-child":
        import django

        django.setup()
        cold_child(sys.argv[2])
        return
    if len(sys.argv) > 4 and sys.argv[1] == "--measure-child":
        print(json.dumps(measure(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    default_pg = os.environ.get("DATABASE_URL", "")
    if not default_pg.startswith("postgres"):
        default_pg = "postgres://postgres@127.0.0.1:5432/postgres"
    parser.add_argument("--postgres", default=default_pg)
    parser.add_argument(
        "--database-name",
        default=f"solomo_bench_home_{os.getpid()}",
        help="the throw-away PostgreSQL database's name (created, then dropped)",
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--label", default="", help="written into the results (e.g. before)")
    args = parser.parse_args()

    summary: dict = {
        "date": dt.date.today().isoformat(),
        "label": args.label,
        "runs": args.runs,
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    with tempfile.TemporaryDirectory(prefix="solomo-bench-home-") as tmp:
        if not args.no_sqlite:
            url = f"sqlite:///{tmp}/db.sqlite3"
            summary["sqlite"] = _run_one("sqlite", url, f"{tmp}/media-sqlite", args.runs)
        if not args.no_postgres:
            with scratch_postgres(args.postgres, args.database_name) as url:
                summary["postgresql"] = _run_one("postgresql", url, f"{tmp}/media-pg", args.runs)
    summary["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(summary, indent=2))
    suffix = f"-{args.label}" if args.label else ""
    out = ROOT / "bench" / "results" / f"home-{summary['date']}{suffix}.json"
    out.write_text(json.dumps(summary, indent=2) + "\n")
    log(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
