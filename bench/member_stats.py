"""Member statistics refresh on PostgreSQL: the set-based SQL against the Python computation.

Run from the project root (needs PostgreSQL):

    .venv/bin/python bench/member_stats.py               # 2,400 members, 10 orders each, 3 runs
    .venv/bin/python bench/member_stats.py 20000 --runs 3 --postgres URL

It creates a throw-away database `solomo_bench_member_stats_<pid>` (bench/common.py), generates
N members and their orders (`population_generate --seed 31 --no-stats`), runs ANALYZE, then
times `member_stats_refresh(full=True)` (the set-based statements PostgreSQL runs) and the
Python computation SQLite runs (`stats_refresh_in_python`, what PostgreSQL ran before), each on
the rows the other left (the hourly job's steady state, after a first run on empty tables),
and an incremental run. Prints the medians in s and the query counts as JSON and writes them
to bench/results/. Not a test.
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

from bench.common import (  # noqa: E402
    django_on_scratch_postgres,
    log,
    population_generate,
    postgres_server_default,
)


def timed(call) -> tuple[float, int]:
    """Seconds and queries of `call()`."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        call()
        seconds = time.perf_counter() - started
    return seconds, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("members", type=int, nargs="?", default=2_400)
    parser.add_argument("--orders", type=int, default=None, help="default: 10 per member")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", default=postgres_server_default())
    args = parser.parse_args()

    name = f"solomo_bench_member_stats_{os.getpid()}"
    with django_on_scratch_postgres(args.postgres, name):
        from django.db import connection
        from django.utils import timezone

        from loyalty.models import MemberCategory, MemberStats
        from loyalty.services.member_stats import member_stats_refresh, stats_refresh_in_python

        orders = args.orders if args.orders is not None else 10 * args.members
        population_generate(members=args.members, orders=orders, seed=31)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        log("first run on empty statistics (set-based)")
        first_s, _ = timed(lambda: member_stats_refresh(at=timezone.now(), full=True))
        runs = []
        for index in range(args.runs):
            sql_s, sql_queries = timed(lambda: member_stats_refresh(at=timezone.now(), full=True))
            python_s, python_queries = timed(
                lambda: stats_refresh_in_python(since=None, at=timezone.now())
            )
            incremental_s, incremental_queries = timed(
                lambda: member_stats_refresh(at=timezone.now())
            )
            run = {
                "sql_full_s": sql_s,
                "python_full_s": python_s,
                "sql_incremental_s": incremental_s,
                "sql_full_queries": sql_queries,
                "python_full_queries": python_queries,
                "sql_incremental_queries": incremental_queries,
            }
            log(f"run {index + 1}: {json.dumps({k: round(v, 2) for k, v in run.items()})}")
            runs.append(run)
        summary = {
            "date": dt.date.today().isoformat(),
            "members": args.members,
            "orders": orders,
            "with_stats": MemberStats.objects.count(),
            "categories_bought": MemberCategory.objects.count(),
            "runs": args.runs,
            "cpus": os.cpu_count(),
            "sql_first_run_s": round(first_s, 2),
            **{key: round(statistics.median(r[key] for r in runs), 2) for key in runs[0]},
        }
        print(json.dumps(summary, indent=2))
        out = ROOT / "bench" / "results" / f"member-stats-{summary['date']}.json"
        out.write_text(json.dumps(summary, indent=2) + "\n")
        log(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
