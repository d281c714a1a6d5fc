"""What a member would get (the marketer's preview) and the test send to the marketer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from oscar.core.loading import get_class

from loyalty.campaign_messages import (
    SendKey,
    message_for_language,
    message_render,
)
from loyalty.models import (
    Campaign,
    CampaignChannel,
    CampaignRecipient,
    CampaignRewardKind,
    Member,
    MemberStats,
)
from loyalty.recommendations import for_you_by_member, product_titles

from .errors import CampaignError
from .sending import campaign_token_values

if TYPE_CHECKING:
    pass


def member_store(member: Member):
    from stores.selectors import home_stores

    pickup = (
        MemberStats.objects.filter(member_id=member.pk, last_pickup_store__isnull=False)
        .values_list("last_pickup_store_id", flat=True)
        .first()
    )
    fallback = {member.user_id: pickup} if pickup else None
    return home_stores(user_ids=[member.user_id], fallback_store_ids=fallback).get(member.user_id)


def campaign_preview(
    *,
    campaign: Campaign,
    member: Member,
    language: str | None = None,
    channels: list[str] | None = None,
) -> dict[str, dict]:
    """What `member` would get on each of the campaign's channels, with their real data
    (points, tier, store and its hours, voucher once made). Writes nothing.

    {"language": "fr", "email": {...}, "sms": {...}, "push": {...}}; CampaignError when
    the campaign has no message yet.
    """
    now = timezone.now()
    stats_language = (
        MemberStats.objects.filter(member_id=member.pk).values_list("language", flat=True).first()
    )
    message = message_for_language(
        list(campaign.messages.all()), language or stats_language or settings.LANGUAGE_CODE
    )
    if message is None:
        raise CampaignError(_("Write the message first."))
    recipient = (
        CampaignRecipient.objects.filter(campaign=campaign, member_id=member.pk)
        .select_related("voucher")
        .order_by("-resolved_at", "-pk")
        .first()
    )
    if recipient is not None and recipient.voucher is not None:
        voucher_code = recipient.voucher.code
    elif campaign.reward_kind == CampaignRewardKind.VOUCHER:
        voucher_code = "C-XXXXXXXXXX"
    else:
        voucher_code = ""
    store = member_store(member)
    recommended = (
        for_you_by_member(member_ids=[member.pk], stores={member.pk: store}) if member.pk else {}
    )
    preview: dict[str, dict] = {"language": {"code": message.language}}
    with translation.override(message.language):
        values = campaign_token_values(
            member=member,
            store=store,
            voucher_code=voucher_code,
            at=now,
            recommended=product_titles(recommended.get(member.pk, [])),
        )
        for channel in channels or campaign.channels or CampaignChannel.values:
            preview[channel] = message_render(
                message=message,
                channel=channel,
                key=SendKey(campaign.pk, member.pk, channel),
                values=values,
            )
    return preview


def campaign_test_send(*, campaign: Campaign, user: User):
    """Email the campaign, as their own member record would get it, to the marketer only
    (a service message to their own address: no customer is written to). Returns the
    outbox message; CampaignError without an email address or a message."""
    if not user.email:
        raise CampaignError(_("Your account has no email address to send the test to."))
    member = Member.objects.filter(user=user).first() or Member(user=user, number="0" * 10)
    email = campaign_preview(campaign=campaign, member=member, channels=["email"])["email"]
    dispatcher = get_class("communication.utils", "Dispatcher")()
    return dispatcher.send_email_messages(
        user.email,
        {
            "subject": f"[{_('Test')}] {email['subject']}",
            "body": email["body"],
            "html": email["html"],
            "event_code": "CAMPAIGN_TEST",
        },
    )
