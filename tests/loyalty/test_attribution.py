"""R32 and the attribution models (loyalty/attribution.py): pure functions, no database."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.attribution import (
    CLICKED,
    FIRST_TOUCH,
    LAST_TOUCH,
    LINEAR,
    MODELS,
    OPENED,
    POSITION_BASED,
    REFERRAL,
    SENT,
    STORE_VISIT,
    TIME_DECAY,
    Touchpoint,
    campaign_credit,
    credits,
    lift_compute,
    wilson_interval,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)

touchpoint = st.builds(
    Touchpoint,
    at=st.integers(0, 60 * 24 * 30).map(lambda minutes: T0 + timedelta(minutes=minutes)),
    kind=st.sampled_from([SENT, OPENED, CLICKED, REFERRAL, STORE_VISIT]),
    campaign_id=st.one_of(st.none(), st.integers(1, 3)),
    channel=st.sampled_from(["", "email", "sms"]),
)


@settings(max_examples=1000, deadline=None)
@given(
    touches=st.lists(touchpoint, max_size=12),
    converted_minutes=st.integers(0, 60 * 24 * 40),
    window_days=st.integers(1, 30),
)
def test_r32_credits_sum_to_one_per_conversion_and_nothing_outside_the_window(
    touches, converted_minutes, window_days
):
    # Given touchpoints over a month and a conversion anywhere around them
    converted_at = T0 + timedelta(minutes=converted_minutes)
    window = timedelta(days=window_days)
    inside = [t for t in touches if converted_at - window <= t.at <= converted_at]
    for model in MODELS:
        # When the conversion is credited under the model
        shares = credits(model, touches, converted_at=converted_at, window=window)
        # Then only touchpoints inside the window get credit, each one of them is listed once,
        # and the credits sum to 1 — or, with none inside, nobody is credited at all.
        assert sorted(map(id, (t for t, _s in shares))) == sorted(map(id, inside)), model
        assert all(share >= 0 for _t, share in shares), model
        if inside:
            assert math.isclose(math.fsum(s for _t, s in shares), 1.0, abs_tol=1e-9), model
        else:
            assert shares == [], model
            for campaign_id in (1, 2, 3):
                assert (
                    campaign_credit(
                        model,
                        touches,
                        campaign_id=campaign_id,
                        converted_at=converted_at,
                        window=window,
                    )
                    == 0
                )


def _touches() -> list[Touchpoint]:
    # A referral ten days before, our email sent 6 days before, opened 4, clicked 2, and a
    # store visit 1 day before the order (at T0 + 10 days).
    return [
        Touchpoint(T0, REFERRAL),
        Touchpoint(T0 + 4 * DAY, SENT, 7, "email"),
        Touchpoint(T0 + 6 * DAY, OPENED, 7, "email"),
        Touchpoint(T0 + 8 * DAY, CLICKED, 7, "email"),
        Touchpoint(T0 + 9 * DAY, STORE_VISIT),
    ]


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (LAST_TOUCH, [0, 0, 0, 0, 1]),
        (FIRST_TOUCH, [1, 0, 0, 0, 0]),
        (LINEAR, [0.2, 0.2, 0.2, 0.2, 0.2]),
        (POSITION_BASED, [0.4, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.4]),
    ],
)
def test_each_model_shares_an_order_as_documented(model, expected):
    shares = credits(model, _touches(), converted_at=T0 + 10 * DAY, window=30 * DAY)
    assert [round(s, 9) for _t, s in shares] == [round(e, 9) for e in expected]


def test_time_decay_halves_the_weight_every_seven_days():
    # Weights 2^-(10/7), 2^-(6/7), 2^-(4/7), 2^-(2/7), 2^-(1/7), normalised.
    weights = [2 ** (-days / 7) for days in (10, 6, 4, 2, 1)]
    shares = credits(TIME_DECAY, _touches(), converted_at=T0 + 10 * DAY, window=30 * DAY)
    assert [round(s, 9) for _t, s in shares] == [round(w / sum(weights), 9) for w in weights]


def test_a_short_window_leaves_out_the_older_touchpoints():
    # A 3-day window keeps the click (2 days) and the store visit (1 day) only.
    shares = credits(FIRST_TOUCH, _touches(), converted_at=T0 + 10 * DAY, window=3 * DAY)
    assert [(t.kind, s) for t, s in shares] == [(CLICKED, 1.0), (STORE_VISIT, 0.0)]
    assert (
        campaign_credit(
            LINEAR, _touches(), campaign_id=7, converted_at=T0 + 10 * DAY, window=3 * DAY
        )
        == 0.5
    )


def test_a_touchpoint_after_the_order_is_not_credited():
    shares = credits(LAST_TOUCH, _touches(), converted_at=T0 + 5 * DAY, window=30 * DAY)
    assert [(t.kind, s) for t, s in shares] == [(REFERRAL, 0.0), (SENT, 1.0)]


def test_lift_interval_is_newcombes_hybrid_score_interval():
    # Newcombe (1998), Statistics in Medicine 17, table II, example (a): 56/70 against 48/80,
    # method 10 gives 0.0524 to 0.3339 around a difference of 0.2.
    lift = lift_compute(treated=70, treated_converted=56, control=80, control_converted=48)
    assert (round(lift.difference, 4), round(lift.low, 4), round(lift.high, 4)) == (
        0.2,
        0.0524,
        0.3339,
    )
    assert lift.significant is True


def test_wilson_interval_and_no_lift_without_a_control_group():
    assert tuple(round(x, 4) for x in wilson_interval(0, 10)) == (0.0, 0.2775)
    assert lift_compute(treated=10, treated_converted=1, control=0, control_converted=0) is None
