"""Writes for campaigns: launch, pause, resume, cancel, audience resolution and sending.

How a campaign goes out (README.md "Campaigns"):

1. `campaign_launch` checks the campaign and moves it to "scheduled" (a send time ahead)
   or "sending". Beat's sweep starts scheduled campaigns when their time comes.
2. `campaign_audience_resolve` copies the segment's members into CampaignRecipient with
   one INSERT ... SELECT (the segment's single query, loyalty.selectors.segment_members),
   choosing the control group by a hash of (campaign, member) in SQL: resolving again
   picks the same members. A "once" campaign is resolved once (a snapshot); a triggered
   one adds, on each run, the members its trigger selects that day, each with the
   occurrence that selected them (the birthday's year, the last order's day, the points
   lot about to expire): a member is reached once per occurrence, so again next year.
3. `campaign_send_batch` takes the next `size` recipients without any send row, in member
   order, under the campaign's row lock; checks each channel's marketing consent at that
   moment (R41); records the member's reward (once per occurrence: R30) and one outbox
   message per channel through the Dispatcher; and writes the CampaignSend rows, UNIQUE
   per (campaign, member, channel, occurrence) (R28). It is one transaction: a worker
   killed half-way leaves nothing of the batch, and the next run (the chain, or beat's
   sweep) does it again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import CharField, Count, Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.expressions import Expression
from django.db.models.functions import Cast, Concat
from django.utils import timezone, translation
from django.utils.formats import time_format
from django.utils.text import slugify
from django.utils.translation import gettext as _
from oscar.core.loading import get_class

from loyalty.campaign_messages import (
    MessageRenderer,
    SendKey,
    link_is_ours,
    link_with_utm,
    message_for_language,
    message_render,
    tokens_unknown,
    tokens_used,
)
from loyalty.models import (
    Campaign,
    CampaignChannel,
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
    PointsLot,
)
from loyalty.recommendations import for_you_by_member, product_titles
from loyalty.selectors import segment_members
from loyalty.services.errors import LoyaltyError
from loyalty.services.ledger import points_credit

if TYPE_CHECKING:
    from oscar.apps.voucher.models import Voucher

    from loyalty.models import PointsEntry

# Points expiring within this many days make a member due for a "points expiring" campaign
# (unless the campaign sets its own number of days).
POINTS_EXPIRING_DAYS = 30
_VOUCHER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
# Multiplicative hashing (Knuth) of (campaign, member) into 0-99, in SQL and in Python
# alike: member ids up to 10^9 stay far below 2^63.
_HASH_MULTIPLIER = 2654435761
_HASH_CAMPAIGN_STEP = 7919
# Recipients added at once after which their table's statistics are refreshed (ANALYZE).
_ANALYZE_AFTER = 5000


class CampaignError(LoyaltyError):
    """A campaign action refused; nothing was changed."""


def control_bucket(*, campaign_id: int, member_id: int) -> int:
    """0-99: the member is in the control group when below the campaign's control %."""
    return ((member_id + campaign_id * _HASH_CAMPAIGN_STEP) * _HASH_MULTIPLIER) % 4294967296 % 100


# --- Checks -------------------------------------------------------------------------------


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


# --- Status changes -----------------------------------------------------------------------


def _locked(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


def _enqueue_start(campaign_id: int) -> None:
    from loyalty.tasks import start_campaign

    transaction.on_commit(lambda: start_campaign.delay(campaign_id))


@transaction.atomic
def campaign_launch(*, campaign: Campaign, by: User | None = None) -> Campaign:
    """Send a draft: now, or at its send time (scheduled). CampaignError if not ready.

    A voucher reward gets its Oscar VoucherSet here, holding the members' vouchers.
    """
    locked = _locked(campaign)
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
        _enqueue_start(locked.pk)
    return locked


@transaction.atomic
def campaign_pause(*, campaign: Campaign) -> Campaign:
    """Stop taking new batches; messages already recorded are still delivered."""
    locked = _locked(campaign)
    if locked.status not in (CampaignStatus.SENDING, CampaignStatus.SCHEDULED):
        raise CampaignError(_("Only a scheduled or sending campaign can be paused."))
    locked.status = CampaignStatus.PAUSED
    locked.save(update_fields=["status", "updated_at"])
    return locked


@transaction.atomic
def campaign_resume(*, campaign: Campaign) -> Campaign:
    """Go on from where the campaign was paused (or wait for its send time)."""
    locked = _locked(campaign)
    if locked.status != CampaignStatus.PAUSED:
        raise CampaignError(_("Only a paused campaign can be resumed."))
    waiting = (
        locked.trigger == CampaignTrigger.ONCE
        and locked.send_at is not None
        and locked.send_at > timezone.now()
    )
    locked.status = CampaignStatus.SCHEDULED if waiting else CampaignStatus.SENDING
    locked.save(update_fields=["status", "updated_at"])
    if not waiting:
        _enqueue_start(locked.pk)
    return locked


@transaction.atomic
def campaign_cancel(*, campaign: Campaign) -> Campaign:
    """Stop for good; messages not yet handed to a provider are cancelled too."""
    locked = _locked(campaign)
    if locked.status not in (
        CampaignStatus.SCHEDULED,
        CampaignStatus.SENDING,
        CampaignStatus.PAUSED,
    ):
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


# --- Audience -----------------------------------------------------------------------------


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
    locked = _locked(campaign)
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


# --- Sending ------------------------------------------------------------------------------


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


def _token_values(
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
            # As _token_values, with the words of the member's language worked out once.
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


# --- Counts -------------------------------------------------------------------------------


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


# --- The recipient's side: unsubscribe, opens, clicks (README.md "Campaigns") -------------


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


# --- Drafts, preview and test send (the marketer's pages) ---------------------------------

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
    elif _locked(campaign).status != CampaignStatus.DRAFT:
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


def _member_store(member: Member):
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
    store = _member_store(member)
    recommended = (
        for_you_by_member(member_ids=[member.pk], stores={member.pk: store}) if member.pk else {}
    )
    preview: dict[str, dict] = {"language": {"code": message.language}}
    with translation.override(message.language):
        values = _token_values(
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
