"""Opening hours: weekly periods, lunch breaks, overnight, closures, time zones and DST days."""

import datetime as dt
import zoneinfo

import pytest

from stores.models import Weekday
from stores.selectors import store_intervals, store_is_open, store_next_change, store_week
from tests.stores.factories import every_day, exceptional_day, store

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
UTC = dt.UTC
MONDAY = dt.date(2026, 11, 30)


def paris(y, mo, d, h, mi=0, fold=0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=PARIS, fold=fold)


def utc(y, mo, d, h, mi=0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=UTC)


def test_open_between_opening_and_closing_time_only():
    shop = store(hours={Weekday.MONDAY: [("09:00", "19:00")]})

    assert not store_is_open(store=shop, at=paris(2026, 11, 30, 8, 59))
    assert store_is_open(store=shop, at=paris(2026, 11, 30, 9, 0))
    assert store_is_open(store=shop, at=paris(2026, 11, 30, 18, 59))
    assert not store_is_open(store=shop, at=paris(2026, 11, 30, 19, 0))


def test_next_change_is_closing_time_when_open_and_next_opening_when_closed():
    shop = store(
        hours={Weekday.MONDAY: [("09:00", "19:00")], Weekday.WEDNESDAY: [("10:00", "12:00")]}
    )

    assert store_next_change(store=shop, at=paris(2026, 11, 30, 10)).next_change == paris(
        2026, 11, 30, 19
    )
    closed = store_next_change(store=shop, at=paris(2026, 11, 30, 20))
    assert closed.is_open is False
    assert closed.next_change == paris(2026, 12, 2, 10)


def test_lunch_break_closes_the_store_between_periods():
    shop = store(hours={Weekday.MONDAY: [("14:00", "19:00"), ("09:00", "12:00")]})

    state = store_next_change(store=shop, at=paris(2026, 11, 30, 12, 30))

    assert state.is_open is False
    assert state.next_change == paris(2026, 11, 30, 14)
    assert store_next_change(store=shop, at=paris(2026, 11, 30, 11)).next_change == paris(
        2026, 11, 30, 12
    )


def test_overnight_period_runs_into_the_next_day():
    shop = store(hours={Weekday.FRIDAY: [("22:00", "02:00")]})

    assert store_is_open(store=shop, at=paris(2026, 12, 4, 23))
    assert store_is_open(store=shop, at=paris(2026, 12, 5, 1, 59))
    assert not store_is_open(store=shop, at=paris(2026, 12, 5, 2))
    assert store_next_change(store=shop, at=paris(2026, 12, 5, 1)).next_change == paris(
        2026, 12, 5, 2
    )


def test_back_to_back_periods_across_midnight_are_one_opening():
    shop = store(
        hours={Weekday.FRIDAY: [("20:00", "00:00")], Weekday.SATURDAY: [("00:00", "03:00")]}
    )

    state = store_next_change(store=shop, at=paris(2026, 12, 4, 21))

    assert state.is_open is True
    assert state.next_change == paris(2026, 12, 5, 3)


def test_closure_day_closes_the_store_and_next_opening_skips_it():
    shop = store(hours=every_day("09:00", "19:00"))
    exceptional_day(shop, dt.date(2026, 12, 25), reason="Christmas")

    state = store_next_change(store=shop, at=paris(2026, 12, 25, 10))

    assert state.is_open is False
    assert state.next_change == paris(2026, 12, 26, 9)
    assert store_next_change(store=shop, at=paris(2026, 12, 24, 10)).next_change == paris(
        2026, 12, 24, 19
    )


def test_special_hours_replace_the_weekly_ones_that_day():
    shop = store(hours=every_day("09:00", "19:00"))
    exceptional_day(shop, dt.date(2026, 12, 24), [("09:00", "16:00")], reason="Christmas Eve")

    assert not store_is_open(store=shop, at=paris(2026, 12, 24, 17))
    week = store_week(store=shop, start=dt.date(2026, 12, 23), days=3)
    assert [
        (d.date.day, d.reason, [f"{o:%H:%M}-{c:%H:%M}" for o, c in d.periods]) for d in week
    ] == [
        (23, None, ["09:00-19:00"]),
        (24, "Christmas Eve", ["09:00-16:00"]),
        (25, None, ["09:00-19:00"]),
    ]


def test_closure_does_not_cut_the_overnight_period_begun_the_evening_before():
    shop = store(
        hours={Weekday.FRIDAY: [("22:00", "02:00")], Weekday.SATURDAY: [("10:00", "18:00")]}
    )
    exceptional_day(shop, dt.date(2026, 12, 5), reason="Inventory")

    assert store_is_open(store=shop, at=paris(2026, 12, 5, 1))
    assert not store_is_open(store=shop, at=paris(2026, 12, 5, 11))


def test_same_instant_answers_in_each_store_own_time_zone():
    in_paris = store(hours=every_day("09:00", "18:00"))
    in_new_york = store(hours=every_day("09:00", "18:00"), timezone="America/New_York")
    instant = utc(2026, 11, 30, 8, 30)  # 09:30 in Paris, 03:30 in New York

    assert store_is_open(store=in_paris, at=instant)
    state = store_next_change(store=in_new_york, at=instant)
    assert state.is_open is False
    assert state.next_change == utc(2026, 11, 30, 14)  # 09:00 EST


def test_naive_datetimes_are_refused():
    shop = store(hours=every_day())

    with pytest.raises(ValueError, match="aware"):
        store_is_open(store=shop, at=dt.datetime(2026, 11, 30, 10))


class TestSpringForward:
    """Europe/Paris 2026-03-29: 02:00 CET jumps to 03:00 CEST (a Sunday)."""

    def test_period_spanning_the_gap_lasts_one_hour_less(self):
        shop = store(hours={Weekday.SUNDAY: [("01:00", "04:00")]})

        (interval,) = store_intervals(store=shop, start=dt.date(2026, 3, 29), days=1)

        assert interval.start == utc(2026, 3, 29, 0)
        assert interval.end == utc(2026, 3, 29, 2)
        assert interval.end - interval.start == dt.timedelta(hours=2)

    def test_opening_inside_the_missing_hour_opens_when_the_clock_shows_it(self):
        shop = store(hours={Weekday.SUNDAY: [("02:30", "05:00")]})

        state = store_next_change(store=shop, at=paris(2026, 3, 29, 3, 15))

        assert state.is_open is False
        assert state.next_change == paris(2026, 3, 29, 3, 30)

    def test_overnight_period_across_the_change(self):
        shop = store(hours={Weekday.SATURDAY: [("22:00", "03:00")]})

        assert store_is_open(store=shop, at=paris(2026, 3, 29, 1, 59))
        assert store_is_open(store=shop, at=utc(2026, 3, 29, 0, 59))  # 01:59 CET
        assert not store_is_open(store=shop, at=paris(2026, 3, 29, 3, 0))
        assert store_next_change(store=shop, at=paris(2026, 3, 28, 23)).next_change == utc(
            2026, 3, 29, 1
        )

    def test_daytime_hours_are_unchanged_in_local_time(self):
        shop = store(hours=every_day("09:00", "19:00"))

        state = store_next_change(store=shop, at=paris(2026, 3, 29, 8))

        assert state.next_change == paris(2026, 3, 29, 9)
        assert state.next_change == utc(2026, 3, 29, 7)


class TestFallBack:
    """Europe/Paris 2026-10-25: 03:00 CEST goes back to 02:00 CET (a Sunday)."""

    def test_period_spanning_the_repeated_hour_lasts_one_hour_more(self):
        shop = store(hours={Weekday.SUNDAY: [("01:00", "04:00")]})

        (interval,) = store_intervals(store=shop, start=dt.date(2026, 10, 25), days=1)

        assert interval.start == utc(2026, 10, 24, 23)
        assert interval.end == utc(2026, 10, 25, 3)

    def test_open_during_both_occurrences_of_the_repeated_hour(self):
        shop = store(hours={Weekday.SUNDAY: [("01:00", "04:00")]})

        assert store_is_open(store=shop, at=paris(2026, 10, 25, 2, 30, fold=0))
        assert store_is_open(store=shop, at=paris(2026, 10, 25, 2, 30, fold=1))
        assert not store_is_open(store=shop, at=utc(2026, 10, 25, 3))

    def test_closing_inside_the_repeated_hour_closes_at_its_first_occurrence(self):
        shop = store(hours={Weekday.SATURDAY: [("20:00", "02:30")]})

        state = store_next_change(store=shop, at=paris(2026, 10, 24, 23))

        assert state.next_change == utc(2026, 10, 25, 0, 30)  # 02:30 CEST
        assert not store_is_open(store=shop, at=paris(2026, 10, 25, 2, 45, fold=1))
