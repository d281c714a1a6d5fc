"""Loyalty fixtures, and R19 checked after every test that touches the database."""

import pytest
from django.db.models import Sum

from loyalty.models import Member, PendingEarn, PendingStatus
from tests.loyalty.factories import member_factory


def assert_ledger_balanced() -> None:
    """R19: for every member, balance == sum of entries == sum of lot remainders >= 0."""
    for member in Member.objects.all():
        entries = member.entries.aggregate(total=Sum("amount"))["total"] or 0
        lots = member.lots.aggregate(total=Sum("remaining"))["total"] or 0
        pending = (
            PendingEarn.objects.filter(member=member, status=PendingStatus.PENDING).aggregate(
                total=Sum("remaining")
            )["total"]
            or 0
        )
        assert (member.balance, lots, member.pending) == (entries, entries, pending), member
        assert member.balance >= 0


@pytest.fixture(autouse=True)
def _ledger_balanced_after_test(request):
    uses_db = request.node.get_closest_marker("django_db") or "db" in request.fixturenames
    if uses_db:
        # Set the database up first, so this check runs before its rollback or flush.
        request.getfixturevalue("_django_db_helper")
    yield
    if uses_db:
        assert_ledger_balanced()


@pytest.fixture
def member(db):
    return member_factory()
