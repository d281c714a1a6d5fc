"""The recommendation job (README.md "Recommendations") over about 1,000,000 order lines
on PostgreSQL.

Run from the project root (needs PostgreSQL):

    .venv/bin/python bench/recommendations.py                     # 40,000 members, 381,000 orders
    .venv/bin/python bench/recommendations.py --database postgres://.../solomo_recbench

Without --database it creates a throw-away database `solomo_bench_recommendations_<pid>`
(same default server as bench/segments.py), migrates it, generates the population with
`population_generate --seed 31 --no-stats` (40,000 members and 381,000 orders make about
a million order lines), and drops it at the end; with --database it uses (and migrates)
that database, generating the population only if it is missing. Then ANALYZE, and it
times `recommendations_refresh`: a full run, a second full run (the rows replaced by the
same rows), an incremental run with no new order, and an incremental run after 100 new
orders. Prints the figures as JSON and writes them to bench/results/. Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import log, scratch_postgres  # noqa: E402

MEMBERS, ORDERS, SEED = 40_000, 381_000, 31


def new_orders(count: int) -> None:
    """`count` orders placed now by existing members, two products each, as history rows
    (the job reads orders; placing them through checkout is not what is measured)."""
    from django.db import transaction
    from django.utils import timezone
    from oscar.core.loading import get_model

    order_model = get_model("order", "Order")
    line_model = get_model("order", "Line")
    lines = list(line_model.objects.order_by("?").select_related("order")[: count * 2])
    with transaction.atomic():
        for i in range(count):
            first, second = lines[2 * i], lines[2 * i + 1]
            order = order_model.objects.get(pk=first.order_id)
            order.pk = None
            order.number = f"RB-{os.getpid()}-{i}"
            order.date_placed = timezone.now()
            order.save()
            for line in (first, second):
                line.pk = None
                line.order = order
                line.save()


def measure() -> dict:
    from django.db import connection
    from django.utils import timezone
    from oscar.core.loading import get_model

    from loyalty.models import MemberRecommendation, ProductPair
    from loyalty.services.recommendations import recommendations_refresh

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    result = {
        "order_lines": get_model("order", "Line").objects.count(),
        "orders": get_model("order", "Order").objects.count(),
        "products": get_model("catalogue", "Product").objects.count(),
    }
    for name, kwargs in (
        ("full", {"full": True}),
        ("full_again", {"full": True}),
        ("incremental_nothing_new", {}),
    ):
        started = time.perf_counter()
        run = recommendations_refresh(at=timezone.now(), **kwargs)
        result[name] = {
            "seconds": round(time.perf_counter() - started, 2),
            "products": run.products,
            "members": run.members,
        }
        log(f"{name}: {result[name]}")
    new_orders(100)
    started = time.perf_counter()
    run = recommendations_refresh(at=timezone.now())
    result["incremental_100_orders"] = {
        "seconds": round(time.perf_counter() - started, 2),
        "products": run.products,
        "members": run.members,
    }
    log(f"incremental_100_orders: {result['incremental_100_orders']}")
    result["pairs"] = ProductPair.objects.count()
    result["member_recommendations"] = MemberRecommendation.objects.count()
    result["members_with_recommendations"] = (
        MemberRecommendation.objects.values("member").distinct().count()
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="", help="an existing database to use")
    default_pg = os.environ.get("DATABASE_URL", "")
    if not default_pg.startswith("postgres"):
        default_pg = "postgres://postgres@127.0.0.1:5432/postgres"
    parser.add_argument("--postgres", default=default_pg)
    args = parser.parse_args()

    if args.database:
        database = nullcontext(args.database)
    else:
        database = scratch_postgres(args.postgres, f"solomo_bench_recommendations_{os.getpid()}")
    with database as database_url:
        os.environ["DATABASE_URL"] = database_url
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
        os.environ.pop("REDIS_URL", None)
        import django

        django.setup()
        from django.core.management import call_command
        from oscar.core.loading import get_model

        call_command("migrate", verbosity=0)
        if not get_model("order", "Line").objects.exists():
            log(f"generating {MEMBERS:,} members, {ORDERS:,} orders")
            call_command(
                "population_generate",
                members=MEMBERS,
                orders=ORDERS,
                seed=SEED,
                batch=5000,
                no_stats=True,
            )
        result = {"date": dt.date.today().isoformat(), **measure()}
        from django.db import connections

        connections.close_all()
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results" / f"recommendations-{result['date']}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
