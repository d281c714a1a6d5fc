"""Campaign fan-out to N members through real Celery workers and the outbox, and the
latency of order confirmations meanwhile.

Run from the project root (needs PostgreSQL and the `redis-server` binary):

    .venv/bin/python bench/campaigns.py                    # 100,000 members
    .venv/bin/python bench/campaigns.py 20000 --rate 20 --postgres URL
    .venv/bin/python bench/campaigns.py 100000 --reuse-db solomo_bench_campaigns_pop100k

It creates a throw-away database `solomo_bench_campaigns_<pid>` (same default server as
bench/segments.py), migrates it, generates N members with `population_generate --seed 21`
(about 60 % of them with an e-mail marketing consent), starts its own redis-server (the
broker, and REDIS_URL for the provider rate limit shared by the workers, R29) and three
Celery workers as docker-compose.yml runs them: one on the default queue (order and
pickup messages), one on CAMPAIGN_QUEUE (the fan-out's batches) and one on
MARKETING_QUEUE (the deliveries; `--marketing-concurrency`, prefork), with
Django's local-memory e-mail backend (bench/settings_notifications.py).

With `--reuse-db NAME` the generated population is kept in the database NAME (left in
place at the end) and later runs with the same option start from a copy of it instead of
generating it again (PostgreSQL's CREATE DATABASE ... TEMPLATE, seconds rather than the
ten minutes 100,000 members take); every run still works on its own throw-away copy.

Then:

1. idle: `--trickle` order confirmations (service e-mails recorded in the outbox, as a
   placed order records them), one every `--gap` s; latency = sent_at - commit;
2. a campaign to every member (e-mail, 10 % control group) is launched through
   `campaign_launch`; the campaigns worker resolves the audience and sends the batches;
   "enqueued" is the time from the launch's commit until the campaign is finished (every
   recipient has its CampaignSend row and every message is in the outbox, its delivery
   task published); the same order confirmations are timed while it sends;
3. after `--deliver-for` s, the marketing messages delivered so far give the delivery
   rate, which the provider rate limit (`--rate`, MARKETING_SEND_RATE) bounds.

Prints the figures as JSON and writes them to bench/results/ (`--out` names the file).
Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    database_copy,
    database_exists,
    django_on_scratch_postgres,
    log,
    percentile,
    population_generate,
    postgres_server_default,
    redis_scratch,
)

EVERYONE = {"match": "all", "conditions": []}


def confirmations(count: int, gap: float, while_sending: int | None = None) -> list[float]:
    """Latencies (ms) of `count` order confirmations committed one by one; with
    `while_sending` (a campaign id), only those committed while it was sending count."""
    from django.db import transaction
    from django.utils import timezone

    from loyalty.models import Campaign, CampaignStatus
    from shop.communication.models import OutboxMessage
    from shop.communication.outbox import Draft, messages_record

    commits = {}
    for i in range(count):
        if while_sending is not None:
            status = Campaign.objects.values_list("status", flat=True).get(pk=while_sending)
            if status != CampaignStatus.SENDING:
                break
        with transaction.atomic():
            (row,) = messages_record(
                drafts=[
                    Draft(
                        channel="email",
                        recipient=f"buyer{i}@example.com",
                        subject="Order confirmed",
                        body="Thank you for your order.",
                    )
                ],
                event_code="ORDER_PLACED",
            )
        commits[row.pk] = timezone.now()
        time.sleep(gap)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        sent = dict(
            OutboxMessage.objects.filter(pk__in=list(commits), status="sent").values_list(
                "pk", "sent_at"
            )
        )
        if len(sent) == len(commits):
            return [(sent[pk] - at).total_seconds() * 1000 for pk, at in commits.items()]
        time.sleep(0.1)
    raise SystemExit("order confirmations were not all sent within 2 minutes")


def summary_of(latencies: list[float]) -> dict[str, float]:
    if not latencies:
        return {"count": 0}
    return {
        "count": len(latencies),
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "max_ms": round(max(latencies), 1),
    }


def fan_out(args) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from loyalty.models import CampaignSend, CampaignStatus
    from loyalty.services.campaigns import campaign_counts, campaign_launch, campaign_save
    from loyalty.services.segments import segment_save
    from shop.communication.models import OutboxMessage

    idle = confirmations(args.trickle, args.gap)
    log(f"idle order confirmations: {summary_of(idle)}")
    segment = segment_save(name="Everyone", rules=EVERYONE)
    text = {"subject": "Hello {{ first_name }}", "body": "{{ points }} points. {{ link }}"}
    campaign = campaign_save(
        fields={
            "name": "Bench",
            "segment": segment,
            "channels": ["email"],
            "control_percent": 10,
        },
        messages={"en": {**text, "link_url": "/catalogue/"}, "fr": text},
    )
    with transaction.atomic():
        campaign_launch(campaign=campaign)
    launched = timezone.now()
    log("campaign launched")
    during = confirmations(args.trickle_max, args.gap, while_sending=campaign.pk)
    log(f"order confirmations while sending: {summary_of(during)}")
    deadline = time.monotonic() + args.timeout
    enqueued_s = None
    while True:
        campaign.refresh_from_db()
        sends = CampaignSend.objects.filter(campaign=campaign).count()
        if campaign.status == CampaignStatus.FINISHED:
            enqueued_s = (campaign.finished_at - launched).total_seconds()
            break
        if time.monotonic() > deadline:
            # Not finished: what was recorded so far gives the fan-out's pace.
            log(f"not finished within {args.timeout} s: {sends:,} sends recorded")
            break
        log(f"  {sends:,} sends recorded")
        time.sleep(5)
    elapsed_s = (timezone.now() - launched).total_seconds()
    counts = campaign_counts(campaign=campaign)
    log(f"enqueued: {enqueued_s} s, {json.dumps(counts)}")
    if enqueued_s is not None:
        waited = (timezone.now() - campaign.finished_at).total_seconds()
        time.sleep(max(0.0, args.deliver_for - waited))
    marketing = OutboxMessage.objects.filter(purpose="marketing")
    delivered = marketing.filter(status="sent")
    first_sent = delivered.order_by("sent_at").values_list("sent_at", flat=True).first()
    last_sent = delivered.order_by("-sent_at").values_list("sent_at", flat=True).first()
    span = (last_sent - first_sent).total_seconds() if first_sent and last_sent else 0
    return {
        "enqueued_s": round(enqueued_s, 1) if enqueued_s is not None else None,
        "sends_recorded": sends,
        "sends_per_s": round(sends / (enqueued_s or elapsed_s), 1),
        "audience": counts["audience"],
        "control": counts["control"],
        "messages_recorded": marketing.count(),
        "skipped_no_consent": counts["skipped_no_consent"],
        "delivered_after_s": round((timezone.now() - launched).total_seconds(), 1),
        "delivered": delivered.count(),
        "delivery_rate_per_s": round(delivered.count() / span, 1) if span else None,
        "order_confirmation_idle": summary_of(idle),
        "order_confirmation_while_sending": summary_of(during),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("members", type=int, nargs="?", default=100_000)
    parser.add_argument("--orders", type=int, default=None, help="default: 2 per member")
    parser.add_argument("--rate", type=float, default=20.0, help="MARKETING_SEND_RATE")
    parser.add_argument("--batch-size", type=int, default=500, help="LOYALTY_CAMPAIGN_BATCH_SIZE")
    parser.add_argument("--marketing-concurrency", type=int, default=2)
    parser.add_argument("--trickle", type=int, default=50, help="idle order confirmations")
    parser.add_argument("--trickle-max", type=int, default=200, help="at most, while sending")
    parser.add_argument("--gap", type=float, default=0.2)
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--deliver-for", type=float, default=60)
    parser.add_argument("--postgres", default=postgres_server_default())
    parser.add_argument(
        "--reuse-db",
        metavar="NAME",
        help="keep the generated population in the database NAME; start from a copy of it "
        "when it exists (same members and seed)",
    )
    parser.add_argument("--out", help="results file name in bench/results/")
    args = parser.parse_args()

    name = f"solomo_bench_campaigns_{os.getpid()}"
    args.scratch = name
    args.copied = bool(args.reuse_db) and database_exists(args.postgres, args.reuse_db)
    template = args.reuse_db if args.copied else None
    with redis_scratch() as redis_port:
        environ = {
            "DJANGO_SETTINGS_MODULE": "bench.settings_notifications",
            "NOTIFY_BENCH_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
            # The provider rate limit's bucket (R29) lives in REDIS_URL.
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/1",
            "MARKETING_SEND_RATE": str(args.rate),
            "LOYALTY_CAMPAIGN_BATCH_SIZE": str(args.batch_size),
        }
        with django_on_scratch_postgres(args.postgres, name, environ, template=template):
            run_with_workers(args)


def run_with_workers(args) -> None:
    """Generate the population, start the three workers, measure, write the results."""
    from django.conf import settings
    from django.db import connections

    from loyalty.models import Member

    env = dict(os.environ)
    workers: list[subprocess.Popen] = []
    try:
        orders = args.orders if args.orders is not None else 2 * args.members
        generated_s = None
        if args.copied:
            found = Member.objects.count()
            log(f"population copied from {args.reuse_db}: {found:,} members")
            if found != args.members:
                raise SystemExit(f"{args.reuse_db} holds {found:,} members, not {args.members:,}")
        else:
            generated_s = round(
                population_generate(members=args.members, orders=orders, seed=21), 1
            )
            if args.reuse_db:
                # A template database must have no open connection.
                connections.close_all()
                database_copy(args.postgres, args.scratch, args.reuse_db)
                log(f"population kept in {args.reuse_db}")
        celery = [sys.executable, "-m", "celery", "-A", "config", "worker"]
        quiet = ["--loglevel=ERROR", "--without-gossip", "--without-mingle"]
        for queue, extra in (
            ("celery", ["--pool=solo", "-n", "orders@%h"]),
            # As docker-compose.yml's worker-campaigns (the fan-out's batches) and
            # worker-marketing (the marketing deliveries).
            (settings.CAMPAIGN_QUEUE, ["--concurrency", "1", "-n", "campaigns@%h"]),
            (
                settings.MARKETING_QUEUE,
                ["--concurrency", str(args.marketing_concurrency), "-n", "marketing@%h"],
            ),
        ):
            workers.append(
                subprocess.Popen(
                    [*celery, "-Q", queue, *extra, *quiet],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                )
            )
        from config.celery_app import app

        while len(app.control.ping(timeout=0.5)) < len(workers):
            if any(worker.poll() is not None for worker in workers):
                raise SystemExit("a worker exited")
        log("warm-up")
        confirmations(10, args.gap)
        load_before = os.getloadavg()
        figures = fan_out(args)
        summary = {
            "date": dt.date.today().isoformat(),
            "members": args.members,
            "orders": orders,
            "generated_s": generated_s,
            "population_copied_from": args.reuse_db if args.copied else None,
            "load_average_before": [round(load, 2) for load in load_before],
            "load_average_after": [round(load, 2) for load in os.getloadavg()],
            "rate_per_s": args.rate,
            "batch_size": args.batch_size,
            "marketing_concurrency": args.marketing_concurrency,
            "cpus": os.cpu_count(),
            **figures,
        }
        print(json.dumps(summary, indent=2))
        out = ROOT / "bench" / "results" / (args.out or f"campaigns-{summary['date']}.json")
        out.write_text(json.dumps(summary, indent=2) + "\n")
        log(f"written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)


if __name__ == "__main__":
    main()
