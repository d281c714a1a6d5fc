"""Time of a campaign's attribution report (README.md "Attribution") for 100,000 sends.

Run from the project root (needs PostgreSQL):

    .venv/bin/python bench/attribution.py                 # 111,111 members: 100,000 sent
    .venv/bin/python bench/attribution.py 11111 --postgres URL

It creates a throw-away database `solomo_bench_attribution_<pid>`, migrates it, generates N
members and N orders over the last year with `population_generate --seed 31` (with their
pickups: the store visits), then writes a finished campaign as the campaign services leave
one: every member a recipient, one in ten in the control group, one e-mail send per other
member 14 days ago, 40 % of them opened and 10 % clicked within two days. Then it times
`campaign_attribution` (every model, the lift, per store) cold and warm, and prints the
figures as JSON, also written to bench/results/. Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import log, population_generate, scratch_postgres  # noqa: E402


def campaign_write(seed: int) -> tuple[object, int, int]:
    """The finished campaign, its recipients and sends (bulk), as described above."""
    from django.utils import timezone

    from loyalty.models import (
        Campaign,
        CampaignRecipient,
        CampaignSend,
        CampaignSendStatus,
        CampaignStatus,
        Member,
    )
    from loyalty.services.segments import segment_save

    rng = random.Random(seed)
    launched = timezone.now() - dt.timedelta(days=14)
    segment = segment_save(name="Everyone", rules={"match": "all", "conditions": []})
    campaign = Campaign.objects.create(
        name="Bench",
        segment=segment,
        channels=["email"],
        control_percent=10,
        utm_campaign="bench",
        status=CampaignStatus.FINISHED,
        launched_at=launched,
        finished_at=launched + dt.timedelta(minutes=30),
    )
    ids = list(Member.objects.order_by("pk").values_list("pk", flat=True))
    control = {pk for index, pk in enumerate(ids) if index % 10 == 9}
    CampaignRecipient.objects.bulk_create(
        (
            CampaignRecipient(campaign=campaign, member_id=pk, is_control=pk in control)
            for pk in ids
        ),
        batch_size=5000,
    )
    sends = []
    for pk in ids:
        if pk in control:
            continue
        draw = rng.random()
        opened = launched + dt.timedelta(hours=rng.uniform(0, 48)) if draw < 0.4 else None
        clicked = opened + dt.timedelta(minutes=2) if opened and draw < 0.1 else None
        sends.append(
            CampaignSend(
                campaign=campaign,
                member_id=pk,
                channel="email",
                status=CampaignSendStatus.SENT,
                created_at=launched,
                opened_at=opened,
                clicked_at=clicked,
            )
        )
    CampaignSend.objects.bulk_create(sends, batch_size=5000)
    return campaign, len(sends), len(control)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("members", type=int, nargs="?", default=111_111)
    parser.add_argument("--orders", type=int, default=None, help="default: 1 per member")
    default_pg = os.environ.get("DATABASE_URL", "")
    if not default_pg.startswith("postgres"):
        default_pg = "postgres://postgres@127.0.0.1:5432/postgres"
    parser.add_argument("--postgres", default=default_pg)
    args = parser.parse_args()

    name = f"solomo_bench_attribution_{os.getpid()}"
    with scratch_postgres(args.postgres, name) as database_url:
        os.environ.update(
            {"DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": database_url}
        )
        try:
            import django

            django.setup()
            from django.core.management import call_command
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            from loyalty.attribution_report import campaign_attribution

            log(f"migrating {name}")
            call_command("migrate", verbosity=0)
            orders = args.orders if args.orders is not None else args.members
            generated_s = population_generate(members=args.members, orders=orders, seed=31)
            log("writing the campaign")
            campaign, sends, control = campaign_write(seed=31)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            timings = []
            for run in ("cold", "warm"):
                started = time.monotonic()
                with CaptureQueriesContext(connection) as queries:
                    report = campaign_attribution(campaign=campaign)
                timings.append(time.monotonic() - started)
                log(f"{run}: {timings[-1]:.1f} s, {len(queries)} queries")
            summary = {
                "date": dt.date.today().isoformat(),
                "members": args.members,
                "orders": orders,
                "generated_s": round(generated_s, 1),
                "sends": sends,
                "control": control,
                "report_cold_s": round(timings[0], 2),
                "report_warm_s": round(timings[1], 2),
                "queries": len(queries),
                "orders_credited": len(report.orders),
                "credited_by_model": {t.model: round(t.orders, 2) for t in report.totals},
                "lift": None
                if report.lift is None
                else {
                    "treated": f"{report.lift.treated_converted}/{report.lift.treated}",
                    "control": f"{report.lift.control_converted}/{report.lift.control}",
                    "difference": round(report.lift.difference, 4),
                    "interval": [round(report.lift.low, 4), round(report.lift.high, 4)],
                },
                "stores": len(report.stores),
                "cpus": os.cpu_count(),
            }
            print(json.dumps(summary, indent=2))
            out = ROOT / "bench" / "results" / f"attribution-{summary['date']}.json"
            out.write_text(json.dumps(summary, indent=2) + "\n")
            log(f"written to {out.relative_to(ROOT)}")
        finally:
            from django.db import connections

            connections.close_all()


if __name__ == "__main__":
    main()
