"""Who a campaign reaches: its segment's members, the control group, and the members
a triggered campaign adds each day."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.apps import apps
from django.db import connection, transaction
from django.db.models import CharField, Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.expressions import Expression
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from loyalty.models import (
    Campaign,
    CampaignRecipient,
    CampaignTrigger,
    MemberStats,
    PointsLot,
)
from loyalty.selectors import segment_members

from .lifecycle import campaign_lock

if TYPE_CHECKING:
    pass

# Points expiring within this many days make a member due for a "points expiring" campaign
# (unless the campaign sets its own number of days).
POINTS_EXPIRING_DAYS = 30
# Multiplicative hashing (Knuth) of (campaign, member) into 0-99, in SQL and in Python
# alike: member ids up to 10^9 stay far below 2^63.
_HASH_MULTIPLIER = 2654435761
_HASH_CAMPAIGN_STEP = 7919
# Recipients added at once after which their table's statistics are refreshed (ANALYZE).
_ANALYZE_AFTER = 5000


def control_bucket(*, campaign_id: int, member_id: int) -> int:
    """0-99: the member is in the control group when below the campaign's control %."""
    return ((member_id + campaign_id * _HASH_CAMPAIGN_STEP) * _HASH_MULTIPLIER) % 4294967296 % 100


def _trigger(campaign: Campaign, at: datetime) -> tuple[Q | None, Expression]:
    """Members the campaign's trigger selects on `at`'s day (None: every member), and the
    SQL expression of each one's occurrence (CampaignRecipient.occurrence): what selected
    them, so that the same occurrence is never sent twice and the next one is sent."""
    today = timezone.localdate(at)
    if campaign.trigger == CampaignTrigger.BIRTHDAY:
        return Q(birthday__month=today.month, birthday__day=today.day), Value(str(today.year))
    if campaign.trigger == CampaignTrigger.DAYS_AFTER_LAST_ORDER:
        day = today - timedelta(days=campaign.trigger_days or 0)
        selected = Exists(
            MemberStats.objects.filter(member=OuterRef("pk"), last_order_at__date=day)
        )
        return Q(selected), Value(day.isoformat())
    if campaign.trigger == CampaignTrigger.POINTS_EXPIRING:
        horizon = at + timedelta(days=campaign.trigger_days or POINTS_EXPIRING_DAYS)
        expiring = PointsLot.objects.filter(
            member=OuterRef("pk"), remaining__gt=0, expires_at__gt=at, expires_at__lte=horizon
        )
        # The first lot to expire: while it waits, the member is not told again.
        first_lot = Subquery(expiring.order_by("expires_at", "pk").values("pk")[:1])
        return Q(Exists(expiring)), Concat(Value("lot-"), Cast(first_lot, CharField()))
    if campaign.trigger == CampaignTrigger.FIRST_PICKUP:
        pickup_model = apps.get_model("stores", "Pickup")
        collected = pickup_model.objects.filter(order__user=OuterRef("user"), status="collected")
        since = at - timedelta(days=campaign.trigger_days or 1)
        first = Q(Exists(collected.filter(collected_at__gte=since))) & ~Q(
            Exists(collected.filter(collected_at__lt=since))
        )
        return first, Value("")
    return None, Value("")


@transaction.atomic
def campaign_audience_resolve(*, campaign: Campaign, at: datetime | None = None) -> int:
    """Copy the segment's members (those its trigger selects, for a triggered campaign)
    into the campaign's recipients, in the database: one INSERT ... SELECT, no loop over
    members. Returns how many were added. A "once" campaign already resolved adds nobody.
    """
    at = at or timezone.now()
    locked = campaign_lock(campaign)
    if (
        locked.trigger == CampaignTrigger.ONCE
        and CampaignRecipient.objects.filter(campaign=locked).exists()
    ):
        return 0
    members = segment_members(segment=locked.segment, at=at)
    trigger, occurrence = _trigger(locked, at)
    if trigger is not None:
        members = members.filter(trigger)
    select_sql, select_params = (
        members.order_by()
        .values(member_key=F("pk"), occurrence_key=occurrence)
        .query.sql_with_params()
    )
    table = CampaignRecipient._meta.db_table
    # The control bucket, as control_bucket() computes it ("%%": a literal % next to params).
    bucket = (
        f"(((m.member_key + %s * {_HASH_CAMPAIGN_STEP}) * {_HASH_MULTIPLIER}) %% 4294967296) %% 100"
    )
    # Only constants and the ORM's own compiled query are interpolated; values are params.
    sql = (
        f"INSERT INTO {table} (campaign_id, member_id, occurrence, is_control, resolved_at) "  # noqa: S608
        f"SELECT %s, m.member_key, m.occurrence_key, {bucket} < %s, %s "
        f"FROM ({select_sql}) AS m WHERE true "
        "ON CONFLICT (campaign_id, member_id, occurrence) DO NOTHING"
    )
    params = [locked.pk, locked.pk, locked.control_percent, at, *select_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        added = max(cursor.rowcount, 0)
        if connection.vendor == "postgresql" and added >= _ANALYZE_AFTER:
            # The batches read these rows at once: with the table's statistics from before,
            # the planner takes the campaign for a few recipients and reads all those left
            # (and all their sends) for each batch, not the next ones in member order.
            cursor.execute(f"ANALYZE {table}")
        return added
