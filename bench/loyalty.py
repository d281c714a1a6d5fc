"""Loyalty ledger: postings/s on PostgreSQL, balance read time, the member page's queries.

Run from the project root (needs PostgreSQL):

    .venv/bin/python bench/loyalty.py                      # 5 runs, 8 threads x 100 postings
    .venv/bin/python bench/loyalty.py --runs 3 --threads 4 --postings 200 --postgres URL

It creates a throw-away database `solomo_bench_loyalty_<pid>` on the PostgreSQL server
(default: DATABASE_URL if it is a PostgreSQL URL, else postgres://postgres@127.0.0.1:5432/
postgres), migrates it with config.settings.test (no Redis), and drops it at the end. Per run:

- hot spot: `--threads` threads post `--postings` movements each on ONE member (credit 10,
  then debit 5, alternating; each its own transaction with the member's row lock), so they
  queue on that lock; postings/s = all postings / wall time (fresh members each run, so
  the runs repeat the same work);
- many members: the same, each thread on its own member (no shared lock);
- balance read: `member_summary` (everything the member page shows) for the hot-spot member
  (threads x postings entries), `--reads` calls, median ms per call;
- member page: GET /loyalty/ signed in, median ms over `--reads` requests, and its SQL
  query count (CaptureQueriesContext).

Prints the medians over the runs as JSON and writes them to bench/results/. Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import django_on_scratch_postgres, log, postgres_server_default  # noqa: E402


def postings(member_ids: list[int], threads: int, per_thread: int) -> float:
    """Postings/s with `threads` threads, thread i on member_ids[i % len(member_ids)]."""
    from django.db import connections

    from loyalty.models import Member
    from loyalty.services.ledger import points_credit, points_debit

    barrier = threading.Barrier(threads + 1)
    errors: list[BaseException] = []
    run = uuid.uuid4().hex[:8]

    def worker(index: int) -> None:
        try:
            member = Member.objects.get(pk=member_ids[index % len(member_ids)])
            barrier.wait()
            for n in range(per_thread):
                key = f"bench:{run}:{index}:{n}"
                if n % 2 == 0:
                    points_credit(member=member, amount=10, reason="bench", idempotency_key=key)
                else:
                    points_debit(member=member, amount=5, reason="bench", idempotency_key=key)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return threads * per_thread / elapsed


def timed_ms(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def one_run(args) -> dict[str, float]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from oscar.test.factories import UserFactory

    from loyalty.models import Member
    from loyalty.selectors import member_summary
    from loyalty.services.members import member_enrol

    # Fresh members each run, so the runs repeat the same work.
    hot_id = member_enrol(user=UserFactory()).pk
    many_ids = [member_enrol(user=UserFactory()).pk for _ in range(args.threads)]
    hot = postings([hot_id], args.threads, args.postings)
    many = postings(many_ids, args.threads, args.postings)
    member = Member.objects.select_related("user").get(pk=hot_id)
    read_ms = timed_ms(lambda: member_summary(user=member.user), args.reads)
    client = Client()
    client.force_login(member.user)
    url = reverse("loyalty:member")
    assert client.get(url).status_code == 200
    page_ms = timed_ms(lambda: client.get(url), args.reads)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return {
        "hot_spot_postings_per_s": hot,
        "many_members_postings_per_s": many,
        "member_summary_ms": read_ms,
        "member_page_ms": page_ms,
        "member_page_queries": len(queries),
        "hot_member_entries": member.entries.count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--postings", type=int, default=100, help="per thread and run")
    parser.add_argument("--reads", type=int, default=30)
    parser.add_argument("--postgres", default=postgres_server_default())
    args = parser.parse_args()

    name = f"solomo_bench_loyalty_{os.getpid()}"
    with django_on_scratch_postgres(args.postgres, name):
        from oscar.test.factories import UserFactory

        from loyalty.services.members import member_enrol

        log("warm-up")
        postings([member_enrol(user=UserFactory()).pk], 2, 10)
        runs = []
        for index in range(args.runs):
            result = one_run(args)
            log(f"run {index + 1}: {json.dumps({k: round(v, 1) for k, v in result.items()})}")
            runs.append(result)
        summary = {
            "date": dt.date.today().isoformat(),
            "runs": args.runs,
            "threads": args.threads,
            "postings_per_thread": args.postings,
            "reads": args.reads,
            "cpus": os.cpu_count(),
            **{key: round(statistics.median(r[key] for r in runs), 1) for key in runs[0]},
        }
        print(json.dumps(summary, indent=2))
        results = ROOT / "bench" / "results" / f"loyalty-{summary['date']}.json"
        results.write_text(json.dumps({"summary": summary, "runs": runs}, indent=2) + "\n")


if __name__ == "__main__":
    main()
