"""Reads for the staff view of the outbox."""

from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from .models import OutboxMessage


def outbox_messages(
    *, status: str = "", channel: str = "", event_code: str = "", customer: str = ""
) -> QuerySet[OutboxMessage]:
    """Messages newest first, filtered; `customer` matches the recipient or the user's email."""
    messages = OutboxMessage.objects.select_related("user").order_by("-created_at", "-id")
    if status:
        messages = messages.filter(status=status)
    if channel:
        messages = messages.filter(channel=channel)
    if event_code:
        messages = messages.filter(event_code=event_code)
    if customer:
        messages = messages.filter(
            Q(recipient__icontains=customer) | Q(user__email__icontains=customer)
        )
    return messages


def outbox_counts_last_day() -> dict[str, int]:
    """Pending, failed and delivery-unknown messages created in the last 24 hours."""
    since = timezone.now() - timedelta(hours=24)
    return OutboxMessage.objects.filter(created_at__gte=since).aggregate(
        pending=Count("id", filter=Q(status__in=["pending", "sending"])),
        failed=Count("id", filter=Q(status="failed")),
        unknown=Count("id", filter=Q(status="unknown")),
    )


def outbox_event_codes() -> list[str]:
    return list(
        OutboxMessage.objects.exclude(event_code="")
        .order_by("event_code")
        .values_list("event_code", flat=True)
        .distinct()
    )


def store_messages_visible_to(user) -> QuerySet[OutboxMessage]:
    """Messages about click & collect orders: every store's for holders of
    `communication.view_outboxmessage` (superusers included), their own stores' for a
    partner's users with `partner.dashboard_access`, none for anybody else."""
    from stores.models import Pickup

    messages = OutboxMessage.objects.exclude(order_number="").order_by("-created_at", "-id")
    if user.has_perm("communication.view_outboxmessage"):
        pickups = Pickup.objects.all()
    elif user.has_perm("partner.dashboard_access"):
        pickups = Pickup.objects.filter(store__partner__users=user)
    else:
        return messages.none()
    return messages.filter(order_number__in=pickups.values("order__number"))
