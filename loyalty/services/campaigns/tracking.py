"""Counts, beat's sweep (due campaigns, stalled fan-outs, delivery outcomes) and the
recipient's side: unsubscribe, opens, clicks (README.md "Campaigns")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from oscar.core.loading import get_class

from loyalty.campaign_messages import (
    SendKey,
    link_is_ours,
    link_with_utm,
    message_for_language,
)
from loyalty.models import (
    Campaign,
    CampaignChannel,
    CampaignRecipient,
    CampaignSend,
    CampaignSendStatus,
    CampaignStatus,
    CampaignTrigger,
    Member,
)

if TYPE_CHECKING:
    pass


def campaign_counts(*, campaign: Campaign) -> dict[str, int]:
    """The campaign's figures, each a count of rows (R31): two queries."""
    recipients = CampaignRecipient.objects.filter(campaign=campaign).aggregate(
        audience=Count("pk"), control=Count("pk", filter=Q(is_control=True))
    )
    by_status = {
        status.value: Count("pk", filter=Q(status=status)) for status in CampaignSendStatus
    }
    sends = CampaignSend.objects.filter(campaign=campaign).aggregate(
        **by_status,
        members_messaged=Count("member", distinct=True, filter=Q(status__in=MESSAGED_STATUSES)),
        opened=Count("pk", filter=Q(opened_at__isnull=False)),
        clicked=Count("pk", filter=Q(clicked_at__isnull=False)),
    )
    return {**recipients, **{str(name): value for name, value in sends.items()}}


MESSAGED_STATUSES = (
    CampaignSendStatus.PENDING,
    CampaignSendStatus.SENT,
    CampaignSendStatus.FAILED,
)


# --- Beat: due campaigns, stalled fan-outs, delivery outcomes ------------------------------


@dataclass(frozen=True)
class SweepResult:
    # Campaigns whose fan-out should (re)start: due scheduled ones and stalled ones.
    to_start: list[int]
    synced: int


def campaigns_sweep(*, at: datetime | None = None) -> SweepResult:
    """Start scheduled campaigns whose time came, find sending campaigns whose fan-out
    stalled (no batch for LOYALTY_CAMPAIGN_STALL_AFTER seconds: a worker was killed), and
    copy the outbox's delivery outcomes onto the sends. Idempotent."""
    at = at or timezone.now()
    with transaction.atomic():
        due = list(
            Campaign.objects.select_for_update(skip_locked=True)
            .filter(status=CampaignStatus.SCHEDULED, send_at__lte=at)
            .values_list("pk", flat=True)
        )
        Campaign.objects.filter(pk__in=due).update(status=CampaignStatus.SENDING, updated_at=at)
    stalled_before = at - timedelta(seconds=settings.LOYALTY_CAMPAIGN_STALL_AFTER)
    # A triggered campaign is always sending: it stalled only if recipients wait.
    unsent = CampaignRecipient.objects.filter(campaign=OuterRef("pk"), is_control=False).filter(
        ~Exists(
            CampaignSend.objects.filter(
                campaign=OuterRef("campaign"),
                member=OuterRef("member"),
                occurrence=OuterRef("occurrence"),
            )
        )
    )
    stalled = list(
        Campaign.objects.filter(status=CampaignStatus.SENDING)
        .filter(Q(trigger=CampaignTrigger.ONCE) | Q(Exists(unsent)))
        .filter(
            Q(last_batch_at__lt=stalled_before)
            | Q(last_batch_at=None, launched_at__lt=stalled_before)
        )
        .values_list("pk", flat=True)
    )
    return SweepResult(to_start=sorted(set(due) | set(stalled)), synced=campaign_sends_sync())


def campaign_sends_sync() -> int:
    """Copy final delivery outcomes (sent, failed, cancelled) from the outbox onto pending
    sends: three UPDATEs, whatever the number of sends. Returns the sends updated."""
    outbox_model = apps.get_model("communication", "OutboxMessage")
    outcomes = {
        "sent": CampaignSendStatus.SENT,
        "failed": CampaignSendStatus.FAILED,
        "cancelled": CampaignSendStatus.CANCELLED,
    }
    updated = 0
    for outbox_status, send_status in outcomes.items():
        updated += CampaignSend.objects.filter(
            status=CampaignSendStatus.PENDING,
            outbox_message__in=outbox_model.objects.filter(status=outbox_status).values("pk"),
        ).update(status=send_status)
    return updated


def campaigns_triggered_due() -> list[int]:
    """The sending triggered campaigns (birthday, days after the last order...)."""
    return list(
        Campaign.objects.filter(status=CampaignStatus.SENDING)
        .exclude(trigger=CampaignTrigger.ONCE)
        .values_list("pk", flat=True)
    )


def campaign_unsubscribe(*, key: SendKey) -> bool:
    """Withdraw the member's marketing consent on the link's channel, at once (R42):
    a ConsentRecord "withdrawn" with source "unsubscribe", unless already withdrawn.
    Returns False when the link names no member."""
    member = Member.objects.select_related("user").filter(pk=key.member_id).first()
    if member is None:
        return False
    consent_record = get_class("communication.preferences", "consent_record")
    consents_current = get_class("communication.preferences", "consents_current")
    with transaction.atomic():
        # The user's row lock makes two clicks on the link record one withdrawal.
        type(member.user).objects.select_for_update().filter(pk=member.user_id).first()
        if consents_current(user=member.user).get(key.channel, False):
            consent_record(
                user=member.user, channel=key.channel, granted=False, source="unsubscribe"
            )
    return True


def campaign_send_opened(*, key: SendKey, at: datetime | None = None) -> bool:
    """Record the first open of an email (the tracking pixel); later opens change nothing."""
    return bool(
        CampaignSend.objects.filter(
            campaign_id=key.campaign_id,
            member_id=key.member_id,
            channel=key.channel,
            occurrence=key.occurrence,
            opened_at=None,
        ).update(opened_at=at or timezone.now())
    )


def campaign_send_clicked(*, key: SendKey, at: datetime | None = None) -> str:
    """Record the first click of a message's link; returns where to send the reader: the
    message's link (a page of ours) with the UTM tags, or the home page."""
    at = at or timezone.now()
    send = (
        CampaignSend.objects.select_related("campaign", "outbox_message")
        .filter(
            campaign_id=key.campaign_id,
            member_id=key.member_id,
            channel=key.channel,
            occurrence=key.occurrence,
        )
        .first()
    )
    if send is None:
        return "/"
    sends = CampaignSend.objects.filter(pk=send.pk)
    sends.filter(clicked_at=None).update(clicked_at=at)
    # A click proves the email was opened, images shown or not.
    sends.filter(opened_at=None, channel=CampaignChannel.EMAIL).update(opened_at=at)
    language = send.outbox_message.language if send.outbox_message else ""
    message = message_for_language(list(send.campaign.messages.all()), language.split("-")[0])
    link = message.link_url if message is not None and link_is_ours(message.link_url) else ""
    return link_with_utm(link=link or "/", channel=key.channel, campaign=send.campaign)
