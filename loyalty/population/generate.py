"""The whole population: batches from where an interrupted run stopped, and progress."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from loyalty.services.earning import earning_rule_ensure
from loyalty.services.tiers import tier_levels_ensure

from .batch import Batch, batch_write
from .plan import (
    MAX_MEMBERS,
    PopulationError,
    PopulationPlan,
    PopulationTotals,
    logger_quiet,
    registry_model,
)
from .references import SlotBook, catalogue_ensure, catalogue_read, stores_ensure


def population_members_done(plan: PopulationPlan) -> int:
    """How many members of the plan's population are already in the database."""
    return get_user_model().objects.filter(username__startswith=f"{plan.prefix}-").count()


def population_generate(
    *,
    plan: PopulationPlan,
    on_batch: Callable[[PopulationTotals, PopulationTotals], None] | None = None,
) -> PopulationTotals:
    """Generate the plan's population, resuming after the batches already written.

    `on_batch(batch_totals, running_totals)` is called after each committed batch.
    Raises PopulationError (nothing written by the failing batch) when the database
    holds a different population under the same seed, or a member number is taken.
    """
    if not 0 < plan.members <= MAX_MEMBERS or plan.orders < 0 or plan.batch <= 0:
        raise PopulationError(
            f"members must be between 1 and {MAX_MEMBERS:,}, orders 0 or more, batch 1 or more"
        )
    done = population_members_done(plan)
    if done > plan.members or (done % plan.batch and done != plan.members):
        raise PopulationError(
            f"the database holds {done:,} members of population {plan.prefix}, which is not a "
            f"run of this plan ({plan.members:,} members in batches of {plan.batch:,}); "
            "use another --seed or the sizes of the first run"
        )
    expected_orders = plan.orders_between(0, done) if done else 0
    found_orders = (
        registry_model("order.Order").objects.filter(number__startswith=f"P{plan.seed}-").count()
    )
    if found_orders != expected_orders:
        raise PopulationError(
            f"population {plan.prefix} has {found_orders:,} orders where this plan would have "
            f"written {expected_orders:,}: it was generated with other sizes; use them or "
            "another --seed"
        )
    totals = PopulationTotals()
    rng = random.Random(f"{plan.seed}:setup")
    # Oscar logs a line per product created (stock alerts): thousands of lines for nothing.
    with transaction.atomic(), logger_quiet("oscar.alerts"):
        catalogue_ensure(rng)
        stores_ensure(plan.stores, rng)
        earning_rule_ensure()
        tier_levels_ensure()
    catalogue = catalogue_read()
    slots = SlotBook(catalogue)
    # One password hash for everybody: unusable, so nobody signs in as a synthetic member.
    password = make_password(None)
    for index, start, stop in plan.batches():
        if stop <= done:
            totals.batches_skipped += 1
            continue
        try:
            with transaction.atomic():
                rows = Batch(plan, catalogue, slots, index).build(start, stop, password)
                batch = batch_write(plan, rows, slots)
        except Exception:
            slots.forget()
            raise
        for name in ("members", "orders", "lines", "pickups", "entries", "consents"):
            setattr(totals, name, getattr(totals, name) + getattr(batch, name))
        if on_batch is not None:
            on_batch(batch, totals)
    return totals


def progress_line(done: int, total: int, started: float, now: float) -> str:
    """`37% 37,000/100,000 members, 1m02s, about 1m45s left`."""
    elapsed = now - started
    left = elapsed * (total - done) / done if done else math.inf
    return f"{100 * done // total:3d}% {done:,}/{total:,} members, {_duration(elapsed)}" + (
        f", about {_duration(left)} left" if done < total and left != math.inf else ""
    )


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
