"""Opening hours.

Opening hours are wall-clock periods in the store's time zone. A period that
closes at or before it opens ends on the next day (overnight). An exceptional
day replaces the weekly periods that *start* on that date (no periods: closed);
an overnight period started the evening before still runs into it.

Wall-clock times are turned into instants with `zoneinfo` (fold=0): on the
spring-forward day a time in the missing hour maps to the instant one hour
later, and on the fall-back day the repeated hour is taken at its first
occurrence, so a period's real length is whatever the clock change makes it.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.utils import timezone

from ..models import ExceptionalDay, OpeningPeriod, Store


@dataclass(frozen=True)
class Interval:
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class DayHours:
    date: dt.date
    periods: list[tuple[dt.time, dt.time]]
    # Set when the day's hours are exceptional (a closure or special hours).
    reason: str | None
    is_exceptional: bool


def _hours_prefetches() -> list[Prefetch]:
    # Past exceptional days never matter again (two days back covers an
    # overnight period and any time zone), so they are not loaded.
    since = timezone.now().date() - dt.timedelta(days=2)
    return [
        Prefetch("opening_periods", queryset=OpeningPeriod.objects.order_by("weekday", "opens")),
        Prefetch(
            "exceptional_days",
            queryset=ExceptionalDay.objects.filter(date__gte=since)
            .prefetch_related("periods")
            .order_by("date"),
        ),
    ]


def with_hours(queryset: "QuerySet[Store] | None" = None) -> "QuerySet[Store]":
    """Stores with their weekly periods and upcoming exceptional days prefetched."""
    qs = Store.objects.all() if queryset is None else queryset
    return qs.prefetch_related(*_hours_prefetches())


def prefetch_hours(stores: list[Store]) -> None:
    """Load the hours of already fetched stores in three queries."""
    prefetch_related_objects(stores, *_hours_prefetches())


def _weekly(store: Store) -> dict[int, list[tuple[dt.time, dt.time]]]:
    weekly: dict[int, list[tuple[dt.time, dt.time]]] = {day: [] for day in range(7)}
    for period in store.opening_periods.all():
        weekly[period.weekday].append((period.opens, period.closes))
    for periods in weekly.values():
        periods.sort()
    return weekly


def _exceptions(store: Store) -> dict[dt.date, ExceptionalDay]:
    return {day.date: day for day in store.exceptional_days.all()}


def store_day_hours(*, store: Store, day: dt.date) -> DayHours:
    """The periods starting on `day` (store-local date), exceptional ones if any."""
    exception = _exceptions(store).get(day)
    if exception is not None:
        periods = sorted((p.opens, p.closes) for p in exception.periods.all())
        return DayHours(day, periods, exception.reason, True)
    return DayHours(day, _weekly(store)[day.weekday()], None, False)


def store_week(*, store: Store, start: dt.date, days: int = 7) -> list[DayHours]:
    """Hours for `days` consecutive dates from `start`, exceptions applied."""
    weekly, exceptions = _weekly(store), _exceptions(store)
    result = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        exception = exceptions.get(day)
        if exception is not None:
            periods = sorted((p.opens, p.closes) for p in exception.periods.all())
            result.append(DayHours(day, periods, exception.reason, True))
        else:
            result.append(DayHours(day, weekly[day.weekday()], None, False))
    return result


def _to_instant(day: dt.date, time: dt.time, tz: dt.tzinfo) -> dt.datetime:
    local = dt.datetime.combine(day, time, tzinfo=tz)
    # Round-trip through UTC so a wall time inside the spring-forward gap
    # becomes a real instant (02:30 -> 03:30 CEST on 2026-03-29 in Paris).
    return local.astimezone(dt.UTC)


def store_intervals(*, store: Store, start: dt.date, days: int) -> list[Interval]:
    """Open intervals (UTC) of the periods starting on `days` local dates from `start`, merged.

    Adjacent or overlapping intervals (23:00-00:00 then 00:00-02:00) are merged
    so that "closes at" is the real closing time.
    """
    tz = store.tz
    raw: list[Interval] = []
    for hours in store_week(store=store, start=start, days=days):
        for opens, closes in hours.periods:
            end_day = hours.date if closes > opens else hours.date + dt.timedelta(days=1)
            begin = _to_instant(hours.date, opens, tz)
            end = _to_instant(end_day, closes, tz)
            if end > begin:
                raw.append(Interval(begin, end))
    raw.sort(key=lambda interval: interval.start)
    merged: list[Interval] = []
    for interval in raw:
        if merged and interval.start <= merged[-1].end:
            last = merged.pop()
            merged.append(Interval(last.start, max(last.end, interval.end)))
        else:
            merged.append(interval)
    return merged


def store_local_date(store: Store, at: dt.datetime) -> dt.date:
    """The store's local date at the aware instant `at`."""
    if at.tzinfo is None:
        raise ValueError("`at` must be an aware datetime")
    return at.astimezone(store.tz).date()


def store_is_open(*, store: Store, at: dt.datetime) -> bool:
    """Whether the store is open at the aware instant `at`."""
    # Start a day early: an overnight period from the evening before may cover `at`.
    start = store_local_date(store, at) - dt.timedelta(days=1)
    return any(i.start <= at < i.end for i in store_intervals(store=store, start=start, days=2))


@dataclass(frozen=True)
class OpeningState:
    is_open: bool
    # When it closes (if open) or opens (if closed); None if not within the horizon.
    next_change: dt.datetime | None


def store_next_change(*, store: Store, at: dt.datetime, horizon_days: int = 14) -> OpeningState:
    """Open or closed at `at`, and the next instant that changes, looking `horizon_days` ahead."""
    start = store_local_date(store, at) - dt.timedelta(days=1)
    intervals = store_intervals(store=store, start=start, days=horizon_days + 2)
    for interval in intervals:
        if interval.start <= at < interval.end:
            return OpeningState(True, interval.end)
        if interval.start > at:
            return OpeningState(False, interval.start)
    return OpeningState(False, None)


def store_today_hours(*, store: Store, at: dt.datetime) -> DayHours:
    """The store's hours on its local date at `at`."""
    return store_day_hours(store=store, day=store_local_date(store, at))
