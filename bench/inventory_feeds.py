"""Local inventory feeds (README "Open data for local search"): one run of the beat task.

Run from the project root (needs PostgreSQL):

    .venv/bin/python bench/inventory_feeds.py                  # 20 stores x 2,000 products
    .venv/bin/python bench/inventory_feeds.py --stores 50 --products 5000 --runs 5

It creates a throw-away database `solomo_bench_feeds_<pid>` (bench/common.py), N public
products each stocked at every one of S stores (one stock record per store and product),
then times `stores.feeds.inventory_feeds_refresh` (the beat task's work; the cache is this
process's local memory, as without REDIS_URL): runs after a stock change at every store
("changed": every feed made again) and runs with nothing changed (each feed kept). Prints
the medians in s and the query counts as JSON and writes them to bench/results/. Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import django_on_scratch_postgres, log, postgres_server_default  # noqa: E402


def timed(call) -> tuple[float, int, object]:
    """Seconds, queries and result of `call()`."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = call()
        seconds = time.perf_counter() - started
    return seconds, len(queries), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stores", type=int, default=20)
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", default=postgres_server_default())
    args = parser.parse_args()

    with django_on_scratch_postgres(args.postgres, f"solomo_bench_feeds_{os.getpid()}"):
        from django.db import connection
        from django.db.models import F
        from oscar.core.loading import get_model

        from stores.feeds import inventory_feeds_refresh
        from stores.models import Store

        Partner = get_model("partner", "Partner")
        Product = get_model("catalogue", "Product")
        ProductClass = get_model("catalogue", "ProductClass")
        StockRecord = get_model("partner", "StockRecord")

        log(f"making {args.stores} stores and {args.products} products")
        kind = ProductClass.objects.create(name="Bench", slug="bench")
        products = Product.objects.bulk_create(
            Product(
                product_class=kind,
                title=f"Produit {i}",
                slug=f"produit-{i}",
                upc=f"{4006381000000 + i}",
                is_public=True,
            )
            for i in range(args.products)
        )
        for n in range(args.stores):
            partner = Partner.objects.create(name=f"Magasin {n}", code=f"magasin-{n}")
            Store.objects.create(
                partner=partner,
                name=f"Magasin {n}",
                slug=f"magasin-{n}",
                line1=f"{n} rue du Banc",
                postcode="67000",
                city="Strasbourg",
                latitude=48.58,
                longitude=7.75,
            )
            StockRecord.objects.bulk_create(
                StockRecord(
                    partner=partner,
                    product=p,
                    partner_sku=f"{n}-{p.pk}",
                    price="9.90",
                    num_in_stock=(p.pk + n) % 7,
                    num_allocated=0,
                )
                for p in products
            )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        at = dt.datetime(2026, 12, 4, 9, tzinfo=dt.UTC)
        changed, kept = [], []
        for run in range(args.runs):
            StockRecord.objects.filter(product_id=products[run].pk).update(
                num_in_stock=F("num_in_stock") + 1
            )
            changed.append(timed(lambda at=at: inventory_feeds_refresh(now=at)))
            at += dt.timedelta(minutes=15)
            kept.append(timed(lambda at=at: inventory_feeds_refresh(now=at)))
            at += dt.timedelta(minutes=15)
        result = {
            "stores": args.stores,
            "products": args.products,
            "stock_records": args.stores * args.products,
            "runs": args.runs,
            "changed_median_s": round(statistics.median(s for s, _, _ in changed), 3),
            "changed_queries": changed[-1][1],
            "changed_result": changed[-1][2],
            "kept_median_s": round(statistics.median(s for s, _, _ in kept), 3),
            "kept_queries": kept[-1][1],
            "kept_result": kept[-1][2],
        }
    print(json.dumps(result, indent=1))
    out = ROOT / "bench" / "results" / "inventory_feeds.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
