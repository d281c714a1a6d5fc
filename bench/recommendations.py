"""The recommendation job (README.md "Recommendations") over about 1,000,000 order lines
on PostgreSQL.

Run from the project root (needs PostgreSQL):

    .venv/bin/python bench/recommendations.py                # 150,000 members, 381,000 orders
    .venv/bin/python bench/recommendations.py --database postgres://.../solomo_recs_1m --runs 5
    .venv/bin/python bench/recommendations.py --database postgres://.../solomo_recs_1m --explain

Without --database it creates a throw-away database `solomo_bench_recommendations_<pid>`
(same default server as bench/segments.py), migrates it, generates the population with
`population_generate --seed 31 --no-stats` (150,000 members and 381,000 orders make about
a million order lines, 2.6 a order), and drops it at the end; with --database it uses (and
migrates) that database, generating the population only if it is missing, and keeps it.
Then ANALYZE, and `--runs` times over: a full `recommendations_refresh` (each step timed:
products, then the members in chunks of `--chunk`) and an incremental run right after it
(it reads the orders of the last hour: none on a fresh population, the 100 orders of an
earlier bench run within the hour otherwise); then once an incremental run after 100 new
orders (which the database keeps).
Prints medians per step and the load average (the machine is shared) as JSON and writes
them to bench/results/. `--compare 1000,5000,0` instead makes a full run per chunk size
(0: every member in one statement) and checks they leave the same rows (an md5 of all
the pairs, popularity and recommendations). `--explain` instead prints EXPLAIN (ANALYZE,
BUFFERS) of the member step's statement for the first chunk (of every member with
`--chunk 0`) and rolls back. Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import log, population_generate, scratch_postgres  # noqa: E402

MEMBERS, ORDERS, SEED = 150_000, 381_000, 31
RECOMMENDATION_TABLE = '"loyalty_memberrecommendation"'


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


def timed_run(chunk: int, **kwargs) -> dict:
    """One `recommendations_refresh`, with the seconds of each step and the load average."""
    from django.utils import timezone

    from loyalty.services.recommendations import recommendations_refresh

    marks: dict[str, float] = {}

    def progress(step) -> None:
        marks[step.step] = step.seconds

    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    run = recommendations_refresh(
        at=timezone.now(), members_per_chunk=chunk, progress=progress, **kwargs
    )
    seconds = time.perf_counter() - started
    products = marks.get("products", 0.0)
    return {
        "seconds": round(seconds, 2),
        "products_step": round(products, 2),
        "members_step": round(marks.get("members", products) - products, 2),
        "products": run.products,
        "members": run.members,
        "load_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def median_of(runs: list[dict], key: str) -> float:
    return round(statistics.median(run[key] for run in runs), 2)


def measure(runs: int, chunk: int) -> dict:
    from django.db import connection
    from oscar.core.loading import get_model

    from loyalty.models import Member, MemberRecommendation, ProductPair

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    result = {
        "order_lines": get_model("order", "Line").objects.count(),
        "orders": get_model("order", "Order").objects.count(),
        "members": Member.objects.count(),
        "products": get_model("catalogue", "Product").objects.count(),
        "members_per_chunk": chunk,
        "full": [],
        "incremental_right_after": [],
    }
    for index in range(runs):
        for name, kwargs in (("full", {"full": True}), ("incremental_right_after", {})):
            figures = timed_run(chunk, **kwargs)
            result[name].append(figures)
            log(f"{name} {index + 1}/{runs}: {figures}")
    new_orders(100)
    result["incremental_100_orders"] = timed_run(chunk)
    log(f"incremental_100_orders: {result['incremental_100_orders']}")
    result["medians"] = {
        name: {
            key: median_of(result[name], key)
            for key in ("seconds", "products_step", "members_step")
        }
        for name in ("full", "incremental_right_after")
    }
    loads = [
        load
        for name in ("full", "incremental_right_after")
        for run in result[name]
        for load in run["load_1min"]
    ]
    result["load_1min_range"] = [min(loads), max(loads)]
    result["pairs"] = ProductPair.objects.count()
    result["member_recommendations"] = MemberRecommendation.objects.count()
    result["members_with_recommendations"] = (
        MemberRecommendation.objects.values("member").distinct().count()
    )
    return result


def rows_digest() -> tuple[int, str]:
    """(rows, md5) of every row the job writes (pairs, popularity, member
    recommendations), to compare two runs."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT
                (SELECT COUNT(*) FROM {RECOMMENDATION_TABLE}),
                md5(concat(
                  (SELECT string_agg(concat_ws(',', product_id, other_id, times), ';'
                     ORDER BY product_id, other_id) FROM "loyalty_productpair"),
                  '|',
                  (SELECT string_agg(concat_ws(',', product_id, orders), ';'
                     ORDER BY product_id) FROM "loyalty_productorders"),
                  '|',
                  (SELECT string_agg(concat_ws(',', member_id, product_id, position, reason,
                     score, via_product_id, via_category_id, times), ';'
                     ORDER BY member_id, position) FROM {RECOMMENDATION_TABLE})
                ))"""  # noqa: S608
        )
        return cursor.fetchone()


def compare(chunks: list[int]) -> list[dict]:
    """A full run per chunk size (0: all members in one statement), timed, with a digest of
    the rows it leaves: the same digest for every size, or the run fails."""
    result = []
    for chunk in chunks:
        figures = {"members_per_chunk": chunk, **timed_run(chunk or 10**9, full=True)}
        figures["rows"], figures["md5"] = rows_digest()
        result.append(figures)
        log(f"chunk {chunk}: {figures}")
    digests = {figures["md5"] for figures in result}
    assert len(digests) == 1, f"different rows for different chunk sizes: {result}"
    return result


def explain(chunk: int) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the member step's INSERT for the first chunk (every
    member with `chunk` 0), after a products step; all rolled back."""
    from django.db import connection, transaction
    from django.utils import timezone

    from loyalty.services.recommendations import recommendations_refresh

    plans: list[str] = []

    class Explained(Exception):
        pass

    def wrapper(execute, sql, params, many, context):
        if sql.lstrip().startswith(f"INSERT INTO {RECOMMENDATION_TABLE}") and not plans:
            started = time.perf_counter()
            execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params, many, context)
            rows = context["cursor"].fetchall()
            plans.append("\n".join(row[0] for row in rows))
            log(f"explained the member statement in {time.perf_counter() - started:.1f} s")
            raise Explained
        return execute(sql, params, many, context)

    try:
        with transaction.atomic(), connection.execute_wrapper(wrapper):
            recommendations_refresh(at=timezone.now(), full=True, members_per_chunk=chunk or 10**9)
    except Explained:
        pass
    return plans[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="", help="an existing database to use")
    default_pg = os.environ.get("DATABASE_URL", "")
    if not default_pg.startswith("postgres"):
        default_pg = "postgres://postgres@127.0.0.1:5432/postgres"
    parser.add_argument("--postgres", default=default_pg)
    parser.add_argument("--runs", type=int, default=3, help="full and incremental runs timed")
    parser.add_argument("--chunk", type=int, default=None, help="members per chunk")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE, then stop")
    parser.add_argument("--label", default="", help="added to the results file's name")
    parser.add_argument(
        "--compare",
        default="",
        help="comma-separated chunk sizes (0: one statement): a full run each, same rows?",
    )
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

        from loyalty.services.recommendations import MEMBERS_PER_CHUNK

        chunk = MEMBERS_PER_CHUNK if args.chunk is None else args.chunk
        call_command("migrate", verbosity=0)
        if not get_model("order", "Line").objects.exists():
            population_generate(members=MEMBERS, orders=ORDERS, seed=SEED)
        if args.explain:
            print(explain(chunk))
            return
        result = {"date": dt.date.today().isoformat(), "cpus": os.cpu_count()}
        if args.compare:
            result["compare"] = compare([int(size) for size in args.compare.split(",")])
        else:
            result.update(measure(args.runs, chunk))
        from django.db import connections

        connections.close_all()
    print(json.dumps(result, indent=2))
    suffix = f"-{args.label}" if args.label else ""
    out = ROOT / "bench" / "results" / f"recommendations-{result['date']}{suffix}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
