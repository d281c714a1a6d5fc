"""Nearest 10 stores among 100,000, and the pickup checkout round trip, on SQLite and PostgreSQL.

Run from the project root:

    .venv/bin/python bench/stores.py                 # SQLite only
    .venv/bin/python bench/stores.py --postgres      # also a throw-away PostgreSQL database

Per engine a fresh database is migrated, filled with N stores (default 100,000;
one partner each) scattered over metropolitan France, a fifth of them clustered
around a dozen cities as real chains are, then `stores_near(limit=10)` is timed
from Q random points (default 300, half in cities, half anywhere) after a
warm-up. Then, in the same database, the click & collect checkout round trip is
timed R times (default 100, after 5 warm-up runs) through Django's test client:
from the POST of the pickup choice (store + slot) to the thank-you page, i.e.
POST /checkout/pickup/ → payment → POST place_order on the preview → GET
/checkout/thank-you/, redirects followed. Each run is a new guest with a fresh
basket; the basket and the guest step are set up outside the timing. Prints
p50 / p95 / max in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The project root before bench/: `import stores` must find the app, not this file.
sys.path.insert(0, str(ROOT))

from bench.common import scratch_postgres  # noqa: E402

CITIES = [
    (48.5734, 7.7521),
    (48.8566, 2.3522),
    (45.7640, 4.8357),
    (43.2965, 5.3698),
    (43.6047, 1.4442),
    (44.8378, -0.5792),
    (47.2184, -1.5536),
    (50.6292, 3.0573),
    (43.7102, 7.2620),
    (48.1173, -1.6778),
    (49.2583, 4.0317),
    (47.3220, 5.0415),
]


def random_point(rng: random.Random, clustered: bool) -> tuple[float, float]:
    if clustered:
        lat, lng = rng.choice(CITIES)
        return lat + rng.gauss(0, 0.08), lng + rng.gauss(0, 0.12)
    return rng.uniform(42.5, 51.0), rng.uniform(-4.5, 8.0)


def checkout_round_trip(runs: int, warmup: int = 5) -> dict:
    """Time `runs` pickup checkouts, POST of the pickup choice → thank-you page, in ms."""
    import datetime as dt

    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone
    from oscar.core.loading import get_model
    from oscar.test.factories import create_product

    from stores.models import OpeningPeriod, Pickup, Store
    from stores.selectors import slots_available

    Partner = get_model("partner", "Partner")
    StockRecord = get_model("partner", "StockRecord")
    partner = Partner.objects.create(name="Bench checkout", code="bench-checkout")
    store = Store.objects.create(
        partner=partner,
        name="Bench checkout",
        slug="bench-checkout",
        line1="1 place Kléber",
        postcode="67000",
        city="Strasbourg",
        latitude=48.5834,
        longitude=7.7459,
        preparation_minutes=0,
        slot_minutes=30,
        slot_capacity=runs + warmup,
    )
    for weekday in range(7):
        OpeningPeriod.objects.create(
            store=store, weekday=weekday, opens=dt.time(0, 0), closes=dt.time(23, 59)
        )
    item = create_product(title="Bench bretzel")  # no other stock record than the store's
    StockRecord.objects.create(
        partner=partner, product=item, partner_sku="bench-1", price=1, num_in_stock=10_000
    )
    # Every run books the same slot: capacity is sized for all of them.
    starts_at = slots_available(store=store, basket_or_lines=None, now=timezone.now())[1].starts_at
    choice = {"slot": starts_at.isoformat()}
    times_url = reverse("checkout:pickup-store", kwargs={"slug": store.slug})
    thank_you = reverse("checkout:thank-you")
    timings = []
    for run in range(warmup + runs):
        client = Client(SERVER_NAME="localhost")
        client.post(reverse("basket:add", kwargs={"pk": item.pk}), {"quantity": 1})
        client.post(
            reverse("checkout:index"),
            {"username": f"bench{run}@example.com", "options": "anonymous"},
        )
        t0 = time.perf_counter()
        client.post(times_url, choice, follow=True)
        placed = client.post(reverse("checkout:preview"), {"action": "place_order"}, follow=True)
        elapsed = (time.perf_counter() - t0) * 1000
        assert placed.redirect_chain[-1][0] == thank_you, placed.redirect_chain
        if run >= warmup:
            timings.append(elapsed)
    assert Pickup.objects.filter(store=store).count() == warmup + runs
    timings.sort()
    return {
        "checkout_runs": len(timings),
        "checkout_p50_ms": round(statistics.median(timings), 1),
        "checkout_p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
        "checkout_max_ms": round(timings[-1], 1),
    }


def stores_fill(count: int, rng: random.Random) -> float:
    """`count` active stores (one partner each) over metropolitan France, a fifth around the
    cities, in one transaction (Django set up), then ANALYZE; returns the seconds taken."""
    from django.db import connection, transaction
    from oscar.core.loading import get_model

    from stores.models import Store

    Partner = get_model("partner", "Partner")
    started = time.monotonic()
    with transaction.atomic():
        for offset in range(0, count, 5000):
            size = min(5000, count - offset)
            partners = Partner.objects.bulk_create(
                Partner(name=f"Bench {i}", code=f"bench-{i}") for i in range(offset, offset + size)
            )
            stores = []
            for i, partner in zip(range(offset, offset + size), partners, strict=True):
                lat, lng = random_point(rng, clustered=i % 5 == 0)
                stores.append(
                    Store(
                        partner=partner,
                        name=f"Bench {i}",
                        slug=f"bench-{i}",
                        line1="1 rue",
                        postcode="00000",
                        city="Bench",
                        latitude=lat,
                        longitude=lng,
                    )
                )
            Store.objects.bulk_create(stores)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE stores_store")
    return time.monotonic() - started


def worker(count: int, queries: int, checkout_runs: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()
    from django.db import connection

    from stores.models import Store
    from stores.selectors import stores_near

    rng = random.Random(42)
    filled = stores_fill(count, rng)
    points = [random_point(rng, clustered=i % 2 == 0) for i in range(queries)]
    for lat, lng in points[:20]:
        stores_near(lat=lat, lng=lng, limit=10)
    timings = []
    for lat, lng in points:
        t0 = time.perf_counter()
        found = stores_near(lat=lat, lng=lng, limit=10)
        timings.append((time.perf_counter() - t0) * 1000)
        assert len(found) == 10
    timings.sort()
    return {
        "engine": connection.vendor,
        "stores": Store.objects.count(),
        "fill_seconds": round(filled, 1),
        "queries": len(timings),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
        "max_ms": round(timings[-1], 2),
        **checkout_round_trip(checkout_runs),
    }


def run_engine(database_url: str, count: int, queries: int, checkout_runs: int) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    env.pop("REDIS_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            "--count",
            str(count),
            "--queries",
            str(queries),
            "--checkout-runs",
            str(checkout_runs),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--checkout-runs", type=int, default=100)
    parser.add_argument("--postgres", nargs="?", const="", default=None, metavar="URL")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.count, args.queries, args.checkout_runs)))
        return

    results = []
    with tempfile.TemporaryDirectory(prefix="solomo-bench-stores-") as tmp:
        results.append(
            run_engine(
                f"sqlite:///{tmp}/bench.sqlite3", args.count, args.queries, args.checkout_runs
            )
        )
    if args.postgres is not None:
        server = args.postgres or os.environ.get("DATABASE_URL", "")
        if not server.startswith("postgres"):
            server = "postgres://postgres@127.0.0.1:5432/postgres"
        with scratch_postgres(server, f"solomo_bench_stores_{os.getpid()}") as url:
            results.append(run_engine(url, args.count, args.queries, args.checkout_runs))
    print("| engine | stores | queries | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['engine']} | {r['stores']:,} | {r['queries']} | {r['p50_ms']} | "
            f"{r['p95_ms']} | {r['max_ms']} |"
        )
    print()
    print("| engine | pickup checkouts | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['engine']} | {r['checkout_runs']} | {r['checkout_p50_ms']} | "
            f"{r['checkout_p95_ms']} | {r['checkout_max_ms']} |"
        )


if __name__ == "__main__":
    main()
