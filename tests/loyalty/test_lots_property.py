"""R22: random earn/spend/expire/refund sequences keep lots == balance >= 0.

Hypothesis drives the real ledger service against a small reference model of the
lots written from the rules (oldest first, expiry removes the remainder, a reversal
takes from its own lot first and never below zero).
"""

import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty.models import Member
from loyalty.services.errors import InsufficientPoints
from loyalty.services.ledger import points_credit, points_debit, points_expire, points_reverse

pytestmark = pytest.mark.django_db

EXAMPLES = 1000
User = get_user_model()
_serial = itertools.count(1)

operation = st.one_of(
    st.tuples(st.just("earn"), st.integers(1, 500), st.integers(1, 400)),  # points, days valid
    st.tuples(st.just("spend"), st.integers(1, 600)),
    st.tuples(st.just("expire")),
    st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 500)),  # which earn, points
    st.tuples(st.just("wait"), st.integers(1, 200)),  # days
)


@dataclass
class Lot:
    key: str
    earned_at: object
    expires_at: object
    remaining: int
    earned: int
    reversed: int = 0


def _expire(lots: list[Lot], now) -> None:
    for lot in lots:
        if lot.expires_at <= now:
            lot.remaining = 0


def _take(lots: list[Lot], points: int, first: Lot | None = None) -> None:
    ordered = sorted(lots, key=lambda lot: (lot is not first, lot.earned_at))
    for lot in ordered:
        taken = min(lot.remaining, points)
        lot.remaining -= taken
        points -= taken


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(operation, min_size=1, max_size=8))
def test_lots_always_hold_exactly_the_balance(operations):
    # A bare user and member: the factories' extra queries would triple the run time.
    serial = next(_serial)
    member = Member.objects.create(
        user=User.objects.create(username=f"prop{serial}", email=f"prop{serial}@example.com"),
        number=f"{serial:010d}",
        referral_code=f"P{serial}",
    )
    now = timezone.now() - timedelta(days=2000)
    lots: list[Lot] = []
    earns = []
    for step, op in enumerate(operations):
        key = f"{member.pk}:{step}"
        if op[0] == "earn":
            _, points, days = op
            expires_at = now + timedelta(days=days)
            earns.append(
                points_credit(
                    member=member,
                    amount=points,
                    reason="earn",
                    idempotency_key=key,
                    at=now,
                    expires_at=expires_at,
                )
            )
            lots.append(Lot(key, now, expires_at, points, points))
        elif op[0] == "spend":
            # A refused debit also rolls back the expiry it starts with.
            available = sum(lot.remaining for lot in lots if lot.expires_at > now)
            try:
                points_debit(
                    member=member, amount=op[1], reason="spend", idempotency_key=key, at=now
                )
            except InsufficientPoints:
                assert op[1] > available
            else:
                assert op[1] <= available
                _expire(lots, now)
                _take(lots, op[1])
        elif op[0] == "expire":
            points_expire(member=member, at=now)
            _expire(lots, now)
        elif op[0] == "refund" and earns:
            entry = earns[op[1] % len(earns)]
            lot = next(lot for lot in lots if lot.key == entry.idempotency_key)
            points = min(op[2], lot.earned - lot.reversed)
            if points:
                points_reverse(
                    entry=entry, amount=points, reason="refund", idempotency_key=key, at=now
                )
                _expire(lots, now)
                lot.reversed += points
                _take(lots, min(points, sum(lot.remaining for lot in lots)), first=lot)
        elif op[0] == "wait":
            now += timedelta(days=op[1])

    balance = Member.objects.get(pk=member.pk).balance
    in_lots = member.lots.aggregate(total=Sum("remaining"))["total"] or 0
    in_entries = member.entries.aggregate(total=Sum("amount"))["total"] or 0
    assert balance == in_lots == in_entries >= 0
    assert sorted(member.lots.values_list("remaining", flat=True)) == sorted(
        lot.remaining for lot in lots
    )
