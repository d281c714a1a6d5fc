"""Sending one batch of a campaign: consent, reward, one outbox message per channel
and the CampaignSend rows, in one transaction (R28, R30, R41)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone, translation
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from oscar.core.loading import get_class

from loyalty.campaign_messages import (
    MessageRenderer,
    SendKey,
    message_for_language,
    tokens_used,
)
from loyalty.models import (
    Campaign,
    CampaignMessage,
    CampaignRecipient,
    CampaignRewardKind,
    CampaignSend,
    CampaignSendStatus,
    CampaignStatus,
    CampaignTrigger,
    EntryKind,
    Member,
    MemberStats,
)
from loyalty.recommendations import for_you_by_member, product_titles
from loyalty.services.ledger import points_credit

if TYPE_CHECKING:
    from oscar.apps.voucher.models import Voucher

    from loyalty.models import PointsEntry


_VOUCHER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def _latest_consent(channel: str) -> Subquery:
    consent_model = apps.get_model("communication", "ConsentRecord")
    return Subquery(
        consent_model.objects.filter(
            user=OuterRef("member__user"), purpose="marketing", channel=channel
        )
        .order_by("-recorded_at", "-id")
        .values("action")[:1]
    )


def _hours_text(store, at: datetime) -> str:
    from stores.selectors import store_today_hours

    hours = store_today_hours(store=store, at=at)
    if not hours.periods:
        return str(_("closed today"))
    return ", ".join(
        f"{time_format(opens, 'H:i')}–{time_format(closes, 'H:i')}"
        for opens, closes in hours.periods
    )


def campaign_token_values(
    *, member: Member, store, voucher_code: str, at: datetime, recommended: str = ""
) -> dict[str, str]:
    return {
        "first_name": member.user.first_name or str(_("there")),
        "points": str(member.balance),
        "tier": str(member.get_tier_display()),
        "store": store.name if store is not None else "",
        "store_hours": _hours_text(store, at) if store is not None else "",
        "voucher_code": voucher_code,
        "recommended_products": recommended,
    }


def _voucher_for(campaign: Campaign, member: Member):
    voucher_model = apps.get_model("voucher", "Voucher")
    voucher_set = campaign.voucher_set
    assert voucher_set is not None, "campaign_launch gives a voucher campaign its voucher set"
    voucher = voucher_model.objects.create(
        name=f"{campaign.name} ({member.number})"[:128],
        code="C-" + "".join(secrets.choice(_VOUCHER_ALPHABET) for _ in range(10)),
        usage=voucher_model.SINGLE_USE,
        start_datetime=voucher_set.start_datetime,
        end_datetime=voucher_set.end_datetime,
        voucher_set=voucher_set,
    )
    voucher.offers.add(campaign.reward_offer)
    return voucher


@dataclass
class _Reward:
    entry: PointsEntry | None = None
    voucher: Voucher | None = None


def _reward(campaign: Campaign, recipient: CampaignRecipient, at: datetime) -> _Reward:
    """The member's reward, given once per occurrence whatever the retries (R30)."""
    if campaign.reward_kind == CampaignRewardKind.POINTS:
        key = f"campaign:{campaign.pk}:member:{recipient.member_id}"
        if recipient.occurrence:
            key += f":{recipient.occurrence}"
        entry = points_credit(
            member=recipient.member,
            amount=campaign.reward_points,
            reason=_("Campaign: %(name)s") % {"name": campaign.name},
            idempotency_key=key,
            kind=EntryKind.BONUS,
            at=at,
        )
        return _Reward(entry=entry)
    if campaign.reward_kind == CampaignRewardKind.VOUCHER:
        if recipient.voucher_id is None:
            recipient.voucher = _voucher_for(campaign, recipient.member)
            recipient.save(update_fields=["voucher"])
        return _Reward(voucher=recipient.voucher)
    return _Reward()


def campaign_send_batch(
    *, campaign_id: int, after_member_id: int = 0, size: int | None = None
) -> int | None:
    """Send the campaign to the next `size` recipients (member id > after_member_id) that
    have no send rows yet. Returns the last member id handled, for the next batch, or None
    when nothing is left (a "once" campaign is then finished) or the campaign is not
    sending (paused, cancelled). One transaction, under the campaign's row lock: batches
    of one campaign never overlap, and a killed batch leaves nothing behind (R28).

    A constant number of queries for the batch whatever its size and the audience's, plus
    a few per member rewarded (`_send_to`).
    """
    size = size or settings.LOYALTY_CAMPAIGN_BATCH_SIZE
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        if campaign is None or campaign.status != CampaignStatus.SENDING:
            return None
        now = timezone.now()
        campaign.last_batch_at = now
        campaign.save(update_fields=["last_batch_at"])
        recipients = _next_recipients(campaign, after_member_id, size)
        if not recipients and after_member_id:
            # Members below the cursor may have been left by an overlapping chain.
            recipients = _next_recipients(campaign, 0, size)
        if not recipients:
            if campaign.trigger == CampaignTrigger.ONCE:
                campaign.status = CampaignStatus.FINISHED
                campaign.finished_at = now
                campaign.save(update_fields=["status", "finished_at", "updated_at"])
            return None
        _send_to(campaign, recipients, now)
        return recipients[-1].member_id


def _next_recipients(campaign: Campaign, after_member_id: int, size: int) -> list:
    """The next recipients (control group excluded) without send rows for their
    occurrence, in member order, with each channel's current marketing consent read in the
    same query (R41).

    Two queries: the next ones' ids, then their rows. In one, PostgreSQL merges the members
    and the campaign's sends from the first (all those already handled) for every batch;
    the ids alone, bounded by the cursor on both sides, read only the next ones."""
    handled = CampaignSend.objects.filter(
        campaign=campaign,
        member=OuterRef("member"),
        occurrence=OuterRef("occurrence"),
        member_id__gt=after_member_id,
    )
    ids = list(
        CampaignRecipient.objects.filter(
            campaign=campaign, is_control=False, member_id__gt=after_member_id
        )
        .filter(~Exists(handled))
        .order_by("member_id", "occurrence")
        .values_list("pk", flat=True)[:size]
    )
    if not ids:
        return []
    return list(
        CampaignRecipient.objects.filter(pk__in=ids)
        .select_related("member__user", "voucher")
        .annotate(
            **{f"consent_{channel}": _latest_consent(channel) for channel in campaign.channels}
        )
        .order_by("member_id", "occurrence")
    )


# The tokens that need the member's store (and its hours), or their recommendations.
_STORE_TOKENS = {"store", "store_hours", "recommended_products"}


class _LanguageTexts:
    """What a campaign message says alike to every member getting it (one language)."""

    def __init__(self, message: CampaignMessage):
        self.language = message.language
        self.renderer = MessageRenderer(message)
        with translation.override(message.language):
            self.there = str(_("there"))
            self.tiers = {
                value: str(label) for value, label in Member._meta.get_field("tier").flatchoices
            }


def _send_to(campaign: Campaign, recipients: list[CampaignRecipient], now: datetime) -> None:
    """Record the batch's messages and send rows, set-based: a constant number of queries
    whatever the number of recipients (asserted in tests/loyalty/test_campaigns.py), but for
    the rewards (the ledger's, R30: a few queries per member rewarded). What each member's
    message says is rendered here, from what is worked out once per language
    (MessageRenderer: the footers' words and the links' addresses; the tiers' names; each
    store's hours); the messages go to the outbox in one INSERT and their delivery tasks
    to the broker together after commit (bench/README.md "campaigns.py")."""
    from stores.selectors import home_stores

    messages = list(campaign.messages.all())
    used = tokens_used(
        [
            text
            for message in messages
            for text in (
                message.subject,
                message.body,
                message.sms_text,
                message.push_title,
                message.push_body,
            )
        ]
    )
    stats = {
        member_id: (language, pickup_store_id)
        for member_id, language, pickup_store_id in MemberStats.objects.filter(
            member__in=[r.member_id for r in recipients]
        ).values_list("member_id", "language", "last_pickup_store_id")
    }
    stores, recommended = {}, {}
    if used & _STORE_TOKENS:
        pickup_stores = {
            r.member.user_id: stats[r.member_id][1]
            for r in recipients
            if r.member_id in stats and stats[r.member_id][1] is not None
        }
        stores = home_stores(
            user_ids=[r.member.user_id for r in recipients], fallback_store_ids=pickup_stores
        )
    if "recommended_products" in used:
        recommended = for_you_by_member(
            member_ids=[r.member_id for r in recipients],
            stores={r.member_id: stores.get(r.member.user_id) for r in recipients},
        )
    by_language: dict[str, _LanguageTexts] = {}
    hours: dict[tuple[int, str], str] = {}
    items = []  # (user, channel, content, language) for the Dispatcher
    waiting = []  # the sends of `items`, in the same order
    sends = []
    for recipient in recipients:
        member = recipient.member
        allowed = [
            channel
            for channel in campaign.channels
            if getattr(recipient, f"consent_{channel}") == "granted"
        ]
        reward = _reward(campaign, recipient, now) if allowed else _Reward()
        if allowed:
            language = (stats.get(member.pk) or ("", None))[0] or settings.LANGUAGE_CODE
            if language not in by_language:
                message = message_for_language(messages, language)
                assert message is not None, "a campaign being sent has its messages"
                by_language[language] = _LanguageTexts(message)
            texts = by_language[language]
            store = stores.get(member.user_id)
            store_hours = ""
            if store is not None:
                if (store.pk, texts.language) not in hours:
                    with translation.override(texts.language):
                        hours[store.pk, texts.language] = _hours_text(store, now)
                store_hours = hours[store.pk, texts.language]
            titles = ""
            if recommended.get(member.pk):
                with translation.override(texts.language):
                    titles = product_titles(recommended[member.pk])
            # As campaign_token_values, with the words of the member's language worked out once.
            values = {
                "first_name": member.user.first_name or texts.there,
                "points": str(
                    reward.entry.balance_after if reward.entry is not None else member.balance
                ),
                "tier": texts.tiers.get(member.tier, member.tier),
                "store": store.name if store is not None else "",
                "store_hours": store_hours,
                "voucher_code": reward.voucher.code if reward.voucher is not None else "",
                "recommended_products": titles,
            }
        for channel in campaign.channels:
            send = CampaignSend(
                campaign_id=campaign.pk,
                member_id=member.pk,
                channel=channel,
                occurrence=recipient.occurrence,
                status=CampaignSendStatus.SKIPPED_NO_CONSENT,
                voucher_id=reward.voucher.pk if reward.voucher is not None else None,
                reward_entry_id=reward.entry.pk if reward.entry is not None else None,
                created_at=now,
            )
            if channel in allowed:
                key = SendKey(campaign.pk, member.pk, channel, recipient.occurrence)
                content = texts.renderer.render(channel=channel, key=key, values=values)
                items.append((member.user, channel, content, texts.language))
                waiting.append(send)
            sends.append(send)
    dispatcher = get_class("communication.utils", "Dispatcher")()
    outbox_messages = dispatcher.dispatch_marketing_messages(items=items)
    for send, outbox_message in zip(waiting, outbox_messages, strict=True):
        send.outbox_message_id = outbox_message.pk if outbox_message is not None else None
        send.status = (
            CampaignSendStatus.PENDING
            if outbox_message is not None
            else CampaignSendStatus.SKIPPED_UNREACHABLE
        )
    # A second send for a (campaign, member, channel, occurrence) violates the UNIQUE
    # constraint and rolls the whole batch back: never a duplicate message (R28).
    CampaignSend.objects.bulk_create(sends)
