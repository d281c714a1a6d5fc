"""Segment count on PostgreSQL: p50/p95 of `segment_members(...).count()` for N members.

Run from the project root (needs PostgreSQL):

    .venv/bin/python bench/segments.py                 # 100,000 members, 20 runs per segment
    .venv/bin/python bench/segments.py 20000 --runs 10 --postgres URL

It creates a throw-away database `solomo_bench_segments_<pid>` on the PostgreSQL server
(default: DATABASE_URL if it is a PostgreSQL URL, else postgres://postgres@127.0.0.1:5432/
postgres), migrates it with config.settings.test (no Redis), generates N members with 10
orders each on average (`manage.py population_generate --seed 12`: users, tiers, birthdays,
consents, home stores among 20 stores, orders with lines in 9 categories, points, then the
member statistics computed from those orders), runs ANALYZE, then times the count and
the 10-member sample of a few segments (`--runs` each, after one warm-up) and drops the
database. Prints p50/p95 in ms as JSON and writes them to bench/results/. Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    django_on_scratch_postgres,
    log,
    percentile,
    population_generate,
    postgres_server_default,
)


def seed(members: int, orders: int) -> dict:
    """N members with their orders through `population_generate` (which also refreshes the
    member statistics); returns the ids the segments refer to."""
    from oscar.core.loading import get_model

    from stores.models import Store

    population_generate(members=members, orders=orders, seed=12, stats=True)
    category = get_model("catalogue", "Category").objects.filter(name="Coffee").first()
    return {"store": Store.objects.order_by("pk").first().pk, "category": category.pk}


def segments(ids: dict) -> dict[str, dict]:
    return {
        "gold_or_silver": {
            "match": "all",
            "conditions": [{"type": "tier", "op": "in", "value": ["gold", "silver"]}],
        },
        "lapsed_big_spenders_with_email_consent": {
            "match": "all",
            "conditions": [
                {"type": "monetary_score", "op": "gte", "value": 4},
                {"type": "days_since_last_order", "op": "gte", "value": 90},
                {"type": "consent", "op": "in", "value": "email"},
            ],
        },
        "near_a_store_and_bought_a_category_or_birthday": {
            "match": "any",
            "conditions": [
                {
                    "match": "all",
                    "conditions": [
                        {
                            "type": "home_store_distance",
                            "op": "lte",
                            "value": "15",
                            "store": ids["store"],
                        },
                        {
                            "type": "bought_category",
                            "op": "in",
                            "value": ids["category"],
                            "days": 180,
                        },
                    ],
                },
                {"type": "birthday_month", "op": "in", "value": [12]},
            ],
        },
    }


def measure(rules: dict, runs: int) -> dict[str, float]:
    from loyalty.selectors import segment_members, segment_sample

    count_ms, sample_ms = [], []
    segment_members(rules=rules).count()  # warm-up
    for _ in range(runs):
        started = time.perf_counter()
        count = segment_members(rules=rules).count()
        count_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        segment_sample(members=segment_members(rules=rules))
        sample_ms.append((time.perf_counter() - started) * 1000)
    return {
        "members": count,
        "count_p50_ms": round(percentile(count_ms, 0.5), 1),
        "count_p95_ms": round(percentile(count_ms, 0.95), 1),
        "sample_p50_ms": round(percentile(sample_ms, 0.5), 1),
        "sample_p95_ms": round(percentile(sample_ms, 0.95), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("members", type=int, nargs="?", default=100_000)
    parser.add_argument("--orders", type=int, default=None, help="default: 10 per member")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--postgres", default=postgres_server_default())
    args = parser.parse_args()

    name = f"solomo_bench_segments_{os.getpid()}"
    with django_on_scratch_postgres(args.postgres, name):
        from django.db import connection

        orders = args.orders if args.orders is not None else 10 * args.members
        log(f"generating {args.members:,} members and {orders:,} orders")
        ids = seed(args.members, orders)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        results = {}
        for label, rules in segments(ids).items():
            results[label] = measure(rules, args.runs)
            log(f"{label}: {json.dumps(results[label])}")
        summary = {
            "date": dt.date.today().isoformat(),
            "members": args.members,
            "orders": orders,
            "runs": args.runs,
            "cpus": os.cpu_count(),
            "segments": results,
        }
    print(json.dumps(summary, indent=2))
    out = ROOT / "bench" / "results" / f"segments-{summary['date']}.json"
    out.write_text(json.dumps(summary, indent=2) + "\n")
    log(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
