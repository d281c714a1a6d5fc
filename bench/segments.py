"""Segment count on PostgreSQL: p50/p95 of `segment_members(...).count()` for N members.

Run from the project root (needs PostgreSQL):

    .venv/bin/python bench/segments.py                 # 100,000 members, 20 runs per segment
    .venv/bin/python bench/segments.py 20000 --runs 10 --postgres URL

It creates a throw-away database `solomo_bench_segments_<pid>` on the PostgreSQL server
(default: DATABASE_URL if it is a PostgreSQL URL, else postgres://postgres@127.0.0.1:5432/
postgres), migrates it with config.settings.test (no Redis), seeds N members with bulk_create
(users, members with tiers, balances and birthdays; a MemberStats row for 80 % of them with
RFM scores; 0-3 categories bought each; a home store for 70 %; a marketing e-mail consent
record for half) among 20 stores and 12 categories, runs ANALYZE, then times the count and
the 10-member sample of a few segments (`--runs` each, after one warm-up) and drops the
database. Prints p50/p95 in ms as JSON and writes them to bench/results/. Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import log, percentile, scratch_postgres  # noqa: E402

BATCH = 5000


def seed(members: int) -> dict:
    """N members and what segments filter on; returns ids the segments refer to."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone
    from oscar.core.loading import get_model

    from loyalty.models import Member, MemberCategory, MemberStats, Tier
    from stores.models import Store, StorePreference
    from tests.factories import category
    from tests.stores.factories import store

    rng = random.Random(12)
    unusable = make_password(None)
    now = timezone.now()
    consent_model = get_model("communication", "ConsentRecord")
    user_model = get_user_model()
    stores = [
        store(f"Store {i}", lat=48.5 + rng.uniform(-0.5, 0.5), lng=7.7 + rng.uniform(-0.5, 0.5))
        for i in range(20)
    ]
    categories = [category(f"Category {i}") for i in range(12)]
    tiers = [Tier.BRONZE] * 7 + [Tier.SILVER] * 2 + [Tier.GOLD]
    for start in range(0, members, BATCH):
        stop = min(start + BATCH, members)
        users = user_model.objects.bulk_create(
            [
                user_model(
                    username=f"bench{i}",
                    email=f"bench{i}@example.com",
                    first_name="Bench",
                    last_name=str(i),
                    password=unusable,
                )
                for i in range(start, stop)
            ]
        )
        rows = Member.objects.bulk_create(
            [
                Member(
                    user=user,
                    number=f"{i:010d}",
                    referral_code=f"B{i:011d}",
                    balance=0,
                    tier=rng.choice(tiers),
                    birthday=dt.date(1960 + i % 40, 1 + i % 12, 1 + i % 28),
                    joined_at=now - dt.timedelta(days=rng.randint(0, 1500)),
                )
                for i, user in zip(range(start, stop), users, strict=True)
            ]
        )
        stats, bought, homes, consents = [], [], [], []
        for member in rows:
            if rng.random() < 0.8:
                orders = rng.randint(1, 40)
                last = now - dt.timedelta(days=rng.randint(0, 700))
                stats.append(
                    MemberStats(
                        member=member,
                        orders_count=orders,
                        lifetime_spend=Decimal(orders * rng.randint(10, 120)),
                        first_order_at=last - dt.timedelta(days=rng.randint(0, 900)),
                        last_order_at=last,
                        recency_days=(now - last).days,
                        recency_score=rng.randint(1, 5),
                        frequency_score=rng.randint(1, 5),
                        monetary_score=rng.randint(1, 5),
                        last_pickup_store=rng.choice(stores) if rng.random() < 0.5 else None,
                        language=rng.choice(["en", "fr", "fr"]),
                        computed_at=now,
                    )
                )
                for cat in rng.sample(categories, rng.randint(0, 3)):
                    at = now - dt.timedelta(days=rng.randint(0, 700))
                    bought.append(
                        MemberCategory(
                            member=member, category=cat, first_bought_at=at, last_bought_at=at
                        )
                    )
            if rng.random() < 0.7:
                homes.append(StorePreference(user_id=member.user_id, store=rng.choice(stores)))
            if rng.random() < 0.5:
                consents.append(
                    consent_model(
                        user_id=member.user_id,
                        purpose="marketing",
                        channel="email",
                        action="granted",
                        recorded_at=now,
                        source="bench",
                        policy_version="1",
                    )
                )
        MemberStats.objects.bulk_create(stats)
        MemberCategory.objects.bulk_create(bought)
        StorePreference.objects.bulk_create(homes)
        consent_model.objects.bulk_create(consents)
        log(f"seeded {stop:,} members")
    assert Store.objects.count() == 20
    return {"store": stores[0].pk, "category": categories[0].pk}


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
    parser.add_argument("--runs", type=int, default=20)
    default_pg = os.environ.get("DATABASE_URL", "")
    if not default_pg.startswith("postgres"):
        default_pg = "postgres://postgres@127.0.0.1:5432/postgres"
    parser.add_argument("--postgres", default=default_pg)
    args = parser.parse_args()

    name = f"solomo_bench_segments_{os.getpid()}"
    with scratch_postgres(args.postgres, name) as database_url:
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings.test",
                "DATABASE_URL": database_url,
                "REDIS_URL": "",
                "CONN_MAX_AGE": "60",
                "ALLOWED_HOSTS": "testserver",
            }
        )
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections

        log(f"migrating {name}")
        call_command("migrate", verbosity=0)
        ids = seed(args.members)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        results = {}
        for label, rules in segments(ids).items():
            results[label] = measure(rules, args.runs)
            log(f"{label}: {json.dumps(results[label])}")
        summary = {
            "date": dt.date.today().isoformat(),
            "members": args.members,
            "runs": args.runs,
            "cpus": os.cpu_count(),
            "segments": results,
        }
        connections.close_all()
    print(json.dumps(summary, indent=2))
    out = ROOT / "bench" / "results" / f"segments-{summary['date']}.json"
    out.write_text(json.dumps(summary, indent=2) + "\n")
    log(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
