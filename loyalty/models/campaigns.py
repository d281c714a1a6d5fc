"""Campaigns (README.md "Campaigns"): messages, recipients, sends and UTM landings."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .points import Member, PointsEntry
from .segments import Segment


class CampaignChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    PUSH = "push", _("Push notification")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    PAUSED = "paused", _("Paused")
    CANCELLED = "cancelled", _("Cancelled")
    FINISHED = "finished", _("Finished")


# The statuses a campaign may be paused or cancelled from (loyalty.services.campaigns).
PAUSABLE = (CampaignStatus.SENDING, CampaignStatus.SCHEDULED)
CANCELLABLE = (CampaignStatus.SCHEDULED, CampaignStatus.SENDING, CampaignStatus.PAUSED)


class CampaignRewardKind(models.TextChoices):
    NONE = "", _("No reward")
    POINTS = "points", _("Bonus points")
    VOUCHER = "voucher", _("A personal voucher")


class CampaignTrigger(models.TextChoices):
    ONCE = "once", _("Once, at the chosen time")
    BIRTHDAY = "birthday", _("On the member's birthday")
    DAYS_AFTER_LAST_ORDER = "days_after_last_order", _("N days after the last order")
    POINTS_EXPIRING = "points_expiring", _("When points are about to expire")
    FIRST_PICKUP = "first_pickup", _("After the first click & collect pickup")


class Campaign(models.Model):
    """A message to a segment's members on their channels, with an optional reward.

    Only loyalty.services.campaigns changes a campaign once it left the draft status.
    """

    name = models.CharField(_("name"), max_length=100)
    segment = models.ForeignKey(
        Segment, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("segment")
    )
    # A list of CampaignChannel values, e.g. ["email", "sms"].
    channels = models.JSONField(_("channels"), default=list)
    control_percent = models.PositiveSmallIntegerField(
        _("control group (%)"),
        default=0,
        validators=[MaxValueValidator(50)],
        help_text=_("Members kept out of the sending to measure its effect (0 to 50 %)."),
    )
    reward_kind = models.CharField(
        _("reward"),
        max_length=10,
        choices=CampaignRewardKind.choices,
        default=CampaignRewardKind.NONE,
        blank=True,
    )
    reward_points = models.PositiveIntegerField(_("bonus points"), default=0)
    reward_offer = models.ForeignKey(
        "offer.ConditionalOffer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="loyalty_campaigns",
        verbose_name=_("voucher offer"),
    )
    # The Oscar VoucherSet holding the members' personal vouchers (made at launch).
    voucher_set = models.OneToOneField(
        "voucher.VoucherSet",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="loyalty_campaign",
    )
    trigger = models.CharField(
        _("when"), max_length=25, choices=CampaignTrigger.choices, default=CampaignTrigger.ONCE
    )
    trigger_days = models.PositiveIntegerField(_("days"), null=True, blank=True)
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    utm_campaign = models.SlugField(_("UTM campaign"), max_length=60, unique=True)
    # README.md "Attribution": an order is credited to touchpoints at most this long before it.
    attribution_window_days = models.PositiveSmallIntegerField(
        _("conversion window (days)"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_(
            "An order counts for the campaign if placed within this many days of a message."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    launched_at = models.DateTimeField(_("launched"), null=True, blank=True)
    # When the last send batch ran: the sweeper restarts a chain that stopped (worker killed).
    last_batch_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "send_at"], name="loyalty_campaign_due")]
        constraints = [
            models.CheckConstraint(
                condition=Q(control_percent__gte=0) & Q(control_percent__lte=50),
                name="loyalty_campaign_control_0_50",
            ),
            models.CheckConstraint(
                condition=~Q(reward_kind="points") | Q(reward_points__gt=0),
                name="loyalty_campaign_points_reward",
            ),
            models.CheckConstraint(
                condition=~Q(reward_kind="voucher") | Q(reward_offer__isnull=False),
                name="loyalty_campaign_voucher_reward",
            ),
            models.CheckConstraint(
                condition=~Q(trigger="days_after_last_order") | Q(trigger_days__gte=1),
                name="loyalty_campaign_trigger_days",
            ),
            models.CheckConstraint(
                condition=Q(attribution_window_days__gte=1) & Q(attribution_window_days__lte=90),
                name="loyalty_campaign_window_1_90",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_triggered(self) -> bool:
        return self.trigger != CampaignTrigger.ONCE

    @property
    def is_draft(self) -> bool:
        return self.status == CampaignStatus.DRAFT

    @property
    def can_pause(self) -> bool:
        return self.status in PAUSABLE

    @property
    def can_resume(self) -> bool:
        return self.status == CampaignStatus.PAUSED

    @property
    def can_cancel(self) -> bool:
        return self.status in CANCELLABLE


class CampaignMessage(models.Model):
    """What a campaign says in one language; tokens such as {{ first_name }} are filled in
    per member (loyalty.campaign_messages.TOKENS)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="messages")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    subject = models.CharField(_("email subject"), max_length=200, blank=True)
    body = models.TextField(_("email text"), blank=True)
    sms_text = models.CharField(_("SMS text"), max_length=300, blank=True)
    push_title = models.CharField(_("push title"), max_length=100, blank=True)
    push_body = models.CharField(_("push text"), max_length=250, blank=True)
    link_url = models.CharField(
        _("link"),
        max_length=300,
        blank=True,
        help_text=_("A page of this shop, such as /catalogue/ (tracked, with UTM tags)."),
    )

    class Meta:
        verbose_name = _("campaign message")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "language"], name="loyalty_campaign_message_language"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign} ({self.language})"


class CampaignRecipient(models.Model):
    """A member of the campaign's audience, as resolved from its segment (a snapshot).

    The control group is picked by a hash of (campaign, member): resolving again picks the
    same members. `voucher` is the member's personal voucher, made once per occurrence.

    `occurrence` names what made a triggered campaign select the member ("" for a "once"
    campaign): the year of a birthday, the day of the last order, the points lot about to
    expire. A member is a recipient once per occurrence (README.md "Campaigns").
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="recipients")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    occurrence = models.CharField(max_length=40, blank=True, default="")
    is_control = models.BooleanField(_("control group"), default=False)
    resolved_at = models.DateTimeField(default=timezone.now)
    voucher = models.OneToOneField(
        "voucher.Voucher",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="loyalty_campaign_recipient",
    )

    class Meta:
        verbose_name = _("campaign recipient")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "member", "occurrence"], name="loyalty_recipient_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.member_id}{' (control)' if self.is_control else ''}"


class CampaignSendStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for delivery")
    SENT = "sent", _("Sent")
    SKIPPED_NO_CONSENT = "skipped_no_consent", _("Not sent: no consent")
    SKIPPED_UNREACHABLE = "skipped_unreachable", _("Not sent: no address")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class CampaignSend(models.Model):
    """The campaign's message to one member on one channel: at most one per occurrence
    (CampaignRecipient.occurrence; a "once" campaign has the one occurrence "") (R28)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="sends")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10, choices=CampaignChannel.choices)
    occurrence = models.CharField(max_length=40, blank=True, default="")
    status = models.CharField(max_length=20, choices=CampaignSendStatus.choices)
    outbox_message = models.ForeignKey(
        "communication.OutboxMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    voucher = models.ForeignKey(
        "voucher.Voucher", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reward_entry = models.ForeignKey(
        PointsEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("campaign send")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "member", "channel", "occurrence"],
                name="loyalty_campaign_send_unique",
            )
        ]
        indexes = [models.Index(fields=["campaign", "status"], name="loyalty_send_status")]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.member_id}/{self.channel}: {self.status}"


class UtmLanding(models.Model):
    """A shopper arrived on a page of the shop from an address carrying a campaign's UTM
    tags (a poster's QR code, a social post, a forwarded link): a touchpoint of the
    campaign for attribution (README.md "Attribution"). One row per customer, campaign and
    day, the first landing of that day; a landing before signing in is kept in the session
    and written at sign-in. No address, user agent or query string is kept."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="utm_landings"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="landings")
    day = models.DateField()
    landed_at = models.DateTimeField()
    source = models.CharField(max_length=60, blank=True)
    medium = models.CharField(max_length=60, blank=True)
    path = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("UTM landing")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "campaign", "day"], name="loyalty_utm_landing_daily"
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "landed_at"], name="loyalty_utm_landing_campaign")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.user_id}: {self.day}"


# Registered with the models so that its (table-less) proxy has a migration.
