"""Notification delivery: messages/s by one Celery worker, and commit -> sent latency.

Run from the project root (needs PostgreSQL and the `redis-server` binary):

    .venv/bin/python bench/notifications.py                 # 5 runs, 500 burst, 100 trickle
    .venv/bin/python bench/notifications.py --runs 3 --burst 1000 --postgres URL

It creates a throw-away database `solomo_bench_notify_<pid>` on the PostgreSQL server
(default: DATABASE_URL if it is a PostgreSQL URL, else postgres://postgres@127.0.0.1:5432/
postgres), migrates it, starts its own redis-server on a free port and ONE Celery worker
(solo pool, local-memory email backend: bench/settings_notifications.py), then per run:

- burst: `--burst` email messages recorded in one transaction; after commit their tasks are
  published; throughput = messages / (last sent_at - commit time);
- trickle: `--trickle` messages, each in its own transaction, one every `--gap` seconds;
  latency of each = its sent_at - its commit time (p50, p95).

Prints the median of the runs as JSON and writes it to bench/results/. Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, log, percentile, scratch_postgres  # noqa: E402


def wait_sent(ids: list[int], timeout: float) -> None:
    from shop.communication.models import OutboxMessage

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if OutboxMessage.objects.filter(pk__in=ids, status="sent").count() == len(ids):
            return
        time.sleep(0.05)
    raise SystemExit(f"not all {len(ids)} messages were sent within {timeout} s")


def one_run(burst: int, trickle: int, gap: float) -> dict[str, float]:
    from django.db import transaction
    from django.utils import timezone

    from shop.communication.models import OutboxMessage
    from shop.communication.outbox import Draft, messages_record

    def draft(i: int) -> Draft:
        return Draft(channel="email", recipient=f"b{i}@example.com", subject="Hi", body="Body")

    with transaction.atomic():
        rows = messages_record(drafts=[draft(i) for i in range(burst)], event_code="BENCH")
    committed = timezone.now()
    ids = [row.pk for row in rows]
    wait_sent(ids, timeout=600)
    last = max(OutboxMessage.objects.filter(pk__in=ids).values_list("sent_at", flat=True))
    throughput = burst / (last - committed).total_seconds()

    commits: dict[int, dt.datetime] = {}
    for i in range(trickle):
        with transaction.atomic():
            (row,) = messages_record(drafts=[draft(i)], event_code="BENCH")
        commits[row.pk] = timezone.now()
        time.sleep(gap)
    wait_sent(list(commits), timeout=120)
    latencies = [
        (sent_at - commits[pk]).total_seconds() * 1000
        for pk, sent_at in OutboxMessage.objects.filter(pk__in=list(commits)).values_list(
            "pk", "sent_at"
        )
    ]
    OutboxMessage.objects.filter(event_code="BENCH").delete()
    return {
        "messages_per_s": throughput,
        "latency_p50_ms": percentile(latencies, 0.5),
        "latency_p95_ms": percentile(latencies, 0.95),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--trickle", type=int, default=100)
    parser.add_argument("--gap", type=float, default=0.02)
    default_pg = os.environ.get("DATABASE_URL", "")
    if not default_pg.startswith("postgres"):
        default_pg = "postgres://postgres@127.0.0.1:5432/postgres"
    parser.add_argument("--postgres", default=default_pg)
    args = parser.parse_args()

    name = f"solomo_bench_notify_{os.getpid()}"
    with scratch_postgres(args.postgres, name) as database_url:
        redis_port = free_port()
        redis = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings_notifications",
            "DATABASE_URL": database_url,
            "NOTIFY_BENCH_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
            "REDIS_URL": "",
            # As in production: the worker keeps its database connection between tasks.
            "CONN_MAX_AGE": "60",
        }
        os.environ.update(env)
        worker = None
        try:
            import django

            django.setup()
            from django.core.management import call_command

            log(f"migrating {name}")
            call_command("migrate", verbosity=0)
            worker = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--pool=solo",
                    "--concurrency=1",
                    "--loglevel=ERROR",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
            )
            from config.celery_app import app

            while not app.control.ping(timeout=0.5):
                if worker.poll() is not None:
                    raise SystemExit("the worker exited")
            log("warm-up")
            one_run(50, 10, args.gap)
            runs = []
            for index in range(args.runs):
                result = one_run(args.burst, args.trickle, args.gap)
                log(f"run {index + 1}: {json.dumps({k: round(v, 1) for k, v in result.items()})}")
                runs.append(result)
            summary = {
                "date": dt.date.today().isoformat(),
                "runs": args.runs,
                "burst": args.burst,
                "trickle": args.trickle,
                "gap_s": args.gap,
                "cpus": os.cpu_count(),
                **{key: round(statistics.median(r[key] for r in runs), 1) for key in runs[0]},
            }
            print(json.dumps(summary, indent=2))
            results = ROOT / "bench" / "results" / f"notifications-{summary['date']}.json"
            results.write_text(json.dumps({"summary": summary, "runs": runs}, indent=2) + "\n")
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=30)
            redis.terminate()
            redis.wait(timeout=10)
            from django.db import connections

            connections.close_all()


if __name__ == "__main__":
    main()
