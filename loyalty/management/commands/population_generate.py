"""`manage.py population_generate`: a large synthetic population for bench/ (README,
"Synthetic population")."""

import sys
import time
from datetime import UTC, date, datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from loyalty.population import (
    PopulationError,
    PopulationPlan,
    PopulationTotals,
    population_generate,
    progress_line,
)


class Command(BaseCommand):
    help = (
        "Generate a synthetic population: members with users, birthdays, languages, marketing "
        "consents and home stores, their past orders with lines (and pickups) in the "
        "catalogue's categories, and their points ledger; then refresh the member statistics "
        "segments read. Reproducible by --seed; run again to resume an interrupted run (a "
        "complete population is left as it is). Progress on stderr. Refused under production "
        "settings unless --allow-production."
    )

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=1000)
        parser.add_argument("--orders", type=int, default=None, help="default: 10 per member")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            help="YYYY-MM-DD the population is generated up to (default: today, UTC)",
        )
        parser.add_argument("--batch", type=int, default=2000, help="members per transaction")
        parser.add_argument(
            "--stores", type=int, default=20, help="stores to create if there is none"
        )
        parser.add_argument(
            "--no-stats",
            action="store_true",
            help="skip refreshing member statistics (RFM, categories bought) at the end",
        )
        parser.add_argument(
            "--with-segments",
            action="store_true",
            help="also save the demo segments (Gold members near Strasbourg, Lapsed 90 days...)",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="run under production settings (it writes thousands of fake customers)",
        )

    def handle(self, *args, **options):
        if getattr(settings, "IS_PRODUCTION", False) and not options["allow_production"]:
            raise CommandError(
                "population_generate writes fake customers, orders and points and is refused "
                "under production settings; pass --allow-production if this database really "
                "is a throw-away copy."
            )
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError(
                "The database has unapplied migrations; run `python manage.py migrate` first."
            )
        members = options["members"]
        orders = options["orders"] if options["orders"] is not None else 10 * members
        plan_fields = {"members": members, "orders": orders, "seed": options["seed"]}
        if options["today"] is not None:
            plan_fields["today"] = options["today"]
        plan = PopulationPlan(batch=options["batch"], stores=options["stores"], **plan_fields)
        verbose = options["verbosity"] >= 1
        started = time.monotonic()
        tty = sys.stderr.isatty()

        def on_batch(_batch: PopulationTotals, totals: PopulationTotals) -> None:
            if not verbose:
                return
            done = min(plan.members, (totals.batches_skipped * plan.batch) + totals.members)
            line = progress_line(done, plan.members, started, time.monotonic())
            self.stderr.write(f"\r{line}" if tty else line, ending="" if tty else "\n")
            self.stderr.flush()

        try:
            totals = population_generate(plan=plan, on_batch=on_batch)
        except PopulationError as exc:
            raise CommandError(str(exc)) from exc
        if verbose and tty:
            self.stderr.write("")
        skipped = totals.batches_skipped
        if totals.members == 0:
            self._say(
                f"Population {plan.prefix} already complete ({plan.members:,} members): "
                "nothing written."
            )
        else:
            self._say(
                f"Population {plan.prefix}: {totals.members:,} members, {totals.orders:,} orders "
                f"({totals.lines:,} lines, {totals.pickups:,} pickups), {totals.entries:,} "
                f"points entries, {totals.consents:,} consent records written in "
                f"{time.monotonic() - started:.1f} s"
                + (f", {totals.batches_skipped} batches were already there" * bool(skipped))
                + "."
            )
        if not options["no_stats"]:
            from loyalty.services.member_stats import member_stats_refresh

            step = time.monotonic()
            refreshed = member_stats_refresh(at=datetime.now(UTC), full=True)
            self._say(
                f"Member statistics refreshed for {refreshed:,} members in "
                f"{time.monotonic() - step:.1f} s."
            )
        if options["with_segments"]:
            from loyalty.population import demo_segments_save

            for name, created in demo_segments_save():
                self._say(f"Segment {name!r}: {'created' if created else 'exists'}")

    def _say(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(message)

    def execute(self, *args, **options):
        self.verbosity = options.get("verbosity", 1)
        return super().execute(*args, **options)
