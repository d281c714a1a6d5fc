"""A campaign's checks, drafts and status changes: save, launch, pause, resume, cancel."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from oscar.core.loading import get_class

from loyalty.campaign_messages import (
    link_is_ours,
    tokens_unknown,
)
from loyalty.models import (
    Campaign,
    CampaignChannel,
    CampaignMessage,
    CampaignRewardKind,
    CampaignSend,
    CampaignSendStatus,
    CampaignStatus,
    CampaignTrigger,
)

from .errors import CampaignError

if TYPE_CHECKING:
    pass


def campaign_problems(*, campaign: Campaign) -> list[str]:
    """Why the campaign cannot go out as it is (empty: it can)."""
    problems = []
    channels = campaign.channels or []
    if not channels or any(channel not in CampaignChannel.values for channel in channels):
        problems.append(_("Choose at least one channel: email, SMS or push."))
    if not 0 <= campaign.control_percent <= 50:
        problems.append(_("The control group is at most half of the audience."))
    if campaign.reward_kind == CampaignRewardKind.POINTS and campaign.reward_points <= 0:
        problems.append(_("Enter the bonus points of the reward."))
    if campaign.reward_kind == CampaignRewardKind.VOUCHER and campaign.reward_offer_id is None:
        problems.append(_("Choose the offer of the voucher reward."))
    if campaign.trigger == CampaignTrigger.DAYS_AFTER_LAST_ORDER and not campaign.trigger_days:
        problems.append(_("Enter the number of days after the last order."))
    messages = list(campaign.messages.all())
    if not messages:
        problems.append(_("Write the message in at least one language."))
    for message in messages:
        texts = {
            "email": [message.subject, message.body],
            "sms": [message.sms_text],
            "push": [message.push_title],
        }
        for channel in channels:
            if not all(text.strip() for text in texts.get(channel, [])):
                problems.append(
                    _("The %(language)s message has nothing to say by %(channel)s.")
                    % {"language": message.get_language_display(), "channel": channel}
                )
        all_text = " ".join(
            [message.subject, message.body, message.sms_text, message.push_title]
            + [message.push_body]
        )
        unknown = tokens_unknown(all_text)
        if unknown:
            problems.append(
                _("Unknown tokens in the %(language)s message: %(tokens)s.")
                % {"language": message.get_language_display(), "tokens": ", ".join(unknown)}
            )
        if not link_is_ours(message.link_url):
            problems.append(_("The link must be a page of this shop, such as /catalogue/."))
    return problems


def utm_slug_for(*, name: str) -> str:
    """A fresh UTM campaign slug for a new campaign named `name`."""
    base = slugify(name)[:40] or "campaign"
    return f"{base}-{secrets.token_hex(3)}"


def campaign_lock(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


def campaign_start_enqueue(campaign_id: int) -> None:
    from loyalty.tasks import start_campaign

    transaction.on_commit(lambda: start_campaign.delay(campaign_id))


@transaction.atomic
def campaign_launch(*, campaign: Campaign, by: User | None = None) -> Campaign:
    """Send a draft: now, or at its send time (scheduled). CampaignError if not ready.

    A voucher reward gets its Oscar VoucherSet here, holding the members' vouchers.
    """
    locked = campaign_lock(campaign)
    if locked.status != CampaignStatus.DRAFT:
        raise CampaignError(_("Only a draft can be launched."))
    problems = campaign_problems(campaign=locked)
    if problems:
        raise CampaignError(" ".join(problems))
    now = timezone.now()
    if locked.reward_kind == CampaignRewardKind.VOUCHER and locked.voucher_set_id is None:
        voucher_set_model = apps.get_model("voucher", "VoucherSet")
        locked.voucher_set = voucher_set_model.objects.create(
            name=f"Campaign {locked.pk}: {locked.name}"[:100],
            count=0,
            code_length=10,
            description=_("Personal vouchers of the campaign %(name)s") % {"name": locked.name},
            start_datetime=now,
            end_datetime=now + timedelta(days=settings.LOYALTY_CAMPAIGN_LINK_DAYS),
        )
    scheduled = locked.trigger == CampaignTrigger.ONCE and locked.send_at and locked.send_at > now
    locked.status = CampaignStatus.SCHEDULED if scheduled else CampaignStatus.SENDING
    locked.launched_at = now
    if by is not None and locked.created_by_id is None and by.is_authenticated:
        locked.created_by = by
    locked.save(update_fields=["status", "launched_at", "voucher_set", "created_by", "updated_at"])
    if not scheduled:
        campaign_start_enqueue(locked.pk)
    return locked


@transaction.atomic
def campaign_pause(*, campaign: Campaign) -> Campaign:
    """Stop taking new batches; messages already recorded are still delivered."""
    locked = campaign_lock(campaign)
    if not locked.can_pause:
        raise CampaignError(_("Only a scheduled or sending campaign can be paused."))
    locked.status = CampaignStatus.PAUSED
    locked.save(update_fields=["status", "updated_at"])
    return locked


@transaction.atomic
def campaign_resume(*, campaign: Campaign) -> Campaign:
    """Go on from where the campaign was paused (or wait for its send time)."""
    locked = campaign_lock(campaign)
    if not locked.can_resume:
        raise CampaignError(_("Only a paused campaign can be resumed."))
    waiting = (
        locked.trigger == CampaignTrigger.ONCE
        and locked.send_at is not None
        and locked.send_at > timezone.now()
    )
    locked.status = CampaignStatus.SCHEDULED if waiting else CampaignStatus.SENDING
    locked.save(update_fields=["status", "updated_at"])
    if not waiting:
        campaign_start_enqueue(locked.pk)
    return locked


@transaction.atomic
def campaign_cancel(*, campaign: Campaign) -> Campaign:
    """Stop for good; messages not yet handed to a provider are cancelled too."""
    locked = campaign_lock(campaign)
    if not locked.can_cancel:
        raise CampaignError(_("Only a scheduled, sending or paused campaign can be cancelled."))
    locked.status = CampaignStatus.CANCELLED
    locked.finished_at = timezone.now()
    locked.save(update_fields=["status", "finished_at", "updated_at"])
    pending = CampaignSend.objects.filter(campaign=locked, status=CampaignSendStatus.PENDING)
    message_ids = list(
        pending.exclude(outbox_message=None).values_list("outbox_message", flat=True)
    )
    dispatcher = get_class("communication.utils", "Dispatcher")()
    cancelled = dispatcher.cancel_pending_messages(message_ids=message_ids)
    pending.filter(outbox_message__in=cancelled).update(status=CampaignSendStatus.CANCELLED)
    return locked


MESSAGE_FIELDS = ("subject", "body", "sms_text", "push_title", "push_body", "link_url")


@transaction.atomic
def campaign_save(
    *,
    campaign: Campaign | None = None,
    fields: dict,
    messages: dict[str, dict[str, str]],
    user: User | None = None,
) -> Campaign:
    """Create or update a draft and its messages ({language: {field: text}}); a language
    whose texts are all empty has no message (the default language's is used)."""
    if campaign is None:
        campaign = Campaign(
            utm_campaign=utm_slug_for(name=fields.get("name", "")),
            created_by=user if user is not None and user.is_authenticated else None,
        )
    elif campaign_lock(campaign).status != CampaignStatus.DRAFT:
        raise CampaignError(_("Only a draft can be changed."))
    for name, value in fields.items():
        setattr(campaign, name, value)
    campaign.save()
    for language, texts in messages.items():
        if any((texts.get(name) or "").strip() for name in MESSAGE_FIELDS):
            CampaignMessage.objects.update_or_create(
                campaign=campaign,
                language=language,
                defaults={name: (texts.get(name) or "").strip() for name in MESSAGE_FIELDS},
            )
        else:
            CampaignMessage.objects.filter(campaign=campaign, language=language).delete()
    return campaign
