"""Attribution models over touchpoints, and the control-group lift (README.md "Attribution").

Pure functions: no database, no clock. A conversion (an order) is credited only to the
touchpoints inside its window (touched at or before the order, at most `window` before it);
under every model the credits of one conversion sum to 1 across those touchpoints, and a
conversion with no touchpoint inside the window is credited to nobody (R32).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

LAST_TOUCH = "last_touch"
FIRST_TOUCH = "first_touch"
LINEAR = "linear"
TIME_DECAY = "time_decay"
POSITION_BASED = "position_based"
MODELS = (LAST_TOUCH, FIRST_TOUCH, LINEAR, TIME_DECAY, POSITION_BASED)
MODEL_LABELS = {
    LAST_TOUCH: _("Last touch"),
    FIRST_TOUCH: _("First touch"),
    LINEAR: _("Linear"),
    TIME_DECAY: _("Time decay"),
    POSITION_BASED: _("Position-based 40/20/40"),
}

# Time decay: a touchpoint's weight halves for every HALF_LIFE between it and the order.
HALF_LIFE = timedelta(days=7)
# Position-based: the first and the last touchpoints get 40 % each, the middle ones share 20 %.
ENDS_SHARE = 0.4

SENT = "sent"
OPENED = "opened"
CLICKED = "clicked"
REFERRAL = "referral"
STORE_VISIT = "store_visit"
UTM_LANDING = "utm_landing"
TOUCH_LABELS = {
    SENT: _("Message sent"),
    OPENED: _("Message opened"),
    CLICKED: _("Link clicked (UTM visit)"),
    REFERRAL: _("Referral link"),
    STORE_VISIT: _("Store visit"),
    UTM_LANDING: _("Landing with the campaign's UTM tags (poster, post, shared link)"),
}


@dataclass(frozen=True)
class Touchpoint:
    """Something that reached the member at `at`: a campaign's message (sent, opened,
    clicked), a landing on the shop with a campaign's UTM tags (`channel`: its utm_medium),
    a referral link, or a visit to a store. `campaign_id` is None outside campaigns."""

    at: datetime
    kind: str
    campaign_id: int | None = None
    channel: str = ""


def touches_in_window(
    touches: Iterable[Touchpoint], *, converted_at: datetime, window: timedelta
) -> list[Touchpoint]:
    """The touchpoints that may be credited for a conversion at `converted_at`, oldest first:
    those at or before it and no more than `window` before it."""
    inside = [t for t in touches if converted_at - window <= t.at <= converted_at]
    return sorted(inside, key=lambda t: (t.at, t.kind, t.campaign_id or 0, t.channel))


def _weights(model: str, touches: Sequence[Touchpoint], converted_at: datetime) -> list[float]:
    count = len(touches)
    if model == LAST_TOUCH:
        return [0.0] * (count - 1) + [1.0]
    if model == FIRST_TOUCH:
        return [1.0] + [0.0] * (count - 1)
    if model == LINEAR:
        return [1.0] * count
    if model == TIME_DECAY:
        half_life = HALF_LIFE.total_seconds()
        return [2 ** (-(converted_at - t.at).total_seconds() / half_life) for t in touches]
    if model == POSITION_BASED:
        if count <= 2:
            return [1.0] * count
        middle = (1 - 2 * ENDS_SHARE) / (count - 2)
        return [ENDS_SHARE] + [middle] * (count - 2) + [ENDS_SHARE]
    raise ValueError(f"unknown attribution model {model!r}")


def credits(
    model: str, touches: Iterable[Touchpoint], *, converted_at: datetime, window: timedelta
) -> list[tuple[Touchpoint, float]]:
    """Each touchpoint inside the window with its share of the conversion under `model`.

    The shares sum to 1 (up to float rounding); no touchpoint inside the window: an empty
    list, the conversion is credited to nobody.
    """
    inside = touches_in_window(touches, converted_at=converted_at, window=window)
    if not inside:
        return []
    weights = _weights(model, inside, converted_at)
    total = math.fsum(weights)
    return [(touch, weight / total) for touch, weight in zip(inside, weights, strict=True)]


def campaign_credit(
    model: str,
    touches: Iterable[Touchpoint],
    *,
    campaign_id: int,
    converted_at: datetime,
    window: timedelta,
) -> float:
    """The part of one conversion credited to the campaign's touchpoints (0 to 1)."""
    shares = credits(model, touches, converted_at=converted_at, window=window)
    return math.fsum(share for touch, share in shares if touch.campaign_id == campaign_id)


# --- Lift against the control group ------------------------------------------------------------

# Two-sided 95 %.
Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Lift:
    """Conversion rates of the sent (treated) and control members over the same window, and
    their difference with its confidence interval (Newcombe's hybrid score interval)."""

    treated: int
    treated_converted: int
    control: int
    control_converted: int
    treated_rate: float
    control_rate: float
    difference: float
    low: float
    high: float

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0

    # In percent and percentage points, for pages and charts.
    @property
    def treated_percent(self) -> float:
        return 100 * self.treated_rate

    @property
    def control_percent(self) -> float:
        return 100 * self.control_rate

    @property
    def difference_points(self) -> float:
        return 100 * self.difference

    @property
    def low_points(self) -> float:
        return 100 * self.low

    @property
    def high_points(self) -> float:
        return 100 * self.high

    def widths(self) -> tuple[int, int]:
        """Bar widths of the two rates, in % of the larger."""
        top = max(self.treated_rate, self.control_rate) or 1
        return int(100 * self.treated_rate / top), int(100 * self.control_rate / top)

    @property
    def extra_conversions(self) -> float:
        """Conversions the campaign brought beyond what the control rate predicts."""
        return self.treated_converted - self.control_rate * self.treated


def wilson_interval(converted: int, total: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson's score interval for the proportion converted / total (total > 0)."""
    p = converted / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def lift_compute(
    *, treated: int, treated_converted: int, control: int, control_converted: int, z: float = Z_95
) -> Lift | None:
    """The difference of the two conversion rates, treated minus control, with Newcombe's
    interval (method 10, from the two Wilson intervals); None without members on one side."""
    if treated <= 0 or control <= 0:
        return None
    p1, p2 = treated_converted / treated, control_converted / control
    l1, u1 = wilson_interval(treated_converted, treated, z)
    l2, u2 = wilson_interval(control_converted, control, z)
    difference = p1 - p2
    return Lift(
        treated=treated,
        treated_converted=treated_converted,
        control=control,
        control_converted=control_converted,
        treated_rate=p1,
        control_rate=p2,
        difference=difference,
        low=difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        high=difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


def money_share(amount: Decimal, share: float) -> Decimal:
    """`share` of `amount`, to the cent."""
    return (amount * Decimal(repr(share))).quantize(Decimal("0.01"))
