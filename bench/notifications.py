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
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    django_on_scratch_postgres,
    log,
    percentile,
    postgres_server_default,
    redis_scratch,
)


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
    parser.add_argument("--postgres", default=postgres_server_default())
    args = parser.parse_args()

    name = f"solomo_bench_notify_{os.getpid()}"
    with redis_scratch() as redis_port:
        environ = {
            "DJANGO_SETTINGS_MODULE": "bench.settings_notifications",
            "NOTIFY_BENCH_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
            # As in production: the worker keeps its database connection between tasks
            # (CONN_MAX_AGE, set by the helper).
        }
        with django_on_scratch_postgres(args.postgres, name, environ):
            run_with_worker(args)


def run_with_worker(args) -> None:
    """Start the worker, measure, write the results."""
    env = dict(os.environ)
    worker = None
    try:
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


if __name__ == "__main__":
    main()
