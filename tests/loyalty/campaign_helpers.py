"""Campaign test data: members with consent, a segment, a campaign with EN and FR messages."""

from __future__ import annotations

from django.utils import timezone
from oscar.test.factories import UserFactory

from loyalty.models import Campaign, CampaignMessage, CampaignStatus, Member
from loyalty.services.campaigns import campaign_audience_resolve, campaign_send_batch, utm_slug_for
from loyalty.services.members import member_enrol
from loyalty.services.segments import segment_save
from shop.communication.preferences import consent_record, preference_update

EVERYONE = {"match": "all", "conditions": []}


def consenting_member(
    *, channels: tuple[str, ...] = ("email",), phone: str = "", **user_fields
) -> Member:
    """A member who granted marketing consent on `channels` (SMS with a phone number)."""
    user = UserFactory(**user_fields)
    if phone:
        preference_update(user=user, email=True, sms=True, push=False, phone_number=phone)
    for channel in channels:
        consent_record(user=user, channel=channel, granted=True, source="test")
    return member_enrol(user=user)


def campaign_for(
    *,
    rules: dict | None = None,
    channels: tuple[str, ...] = ("email",),
    control_percent: int = 0,
    **fields,
) -> Campaign:
    segment = segment_save(name="Audience", rules=rules or EVERYONE)
    name = fields.pop("name", "Spring")
    campaign = Campaign.objects.create(
        name=name,
        segment=segment,
        channels=list(channels),
        control_percent=control_percent,
        utm_campaign=utm_slug_for(name=name),
        **fields,
    )
    for language, hello in (("en", "Hello"), ("fr", "Bonjour")):
        CampaignMessage.objects.create(
            campaign=campaign,
            language=language,
            subject=f"{hello} {{{{ first_name }}}}",
            body=f"{hello}, {{{{ points }}}} points. {{{{ link }}}} Code: {{{{ voucher_code }}}}",
            sms_text=f"{hello} {{{{ first_name }}}}, {{{{ points }}}} pts",
            push_title=f"{hello} {{{{ first_name }}}}",
            push_body="{{ points }} points",
            link_url="/catalogue/?sort=new",
        )
    return campaign


def sending(campaign: Campaign) -> Campaign:
    """The campaign marked sending, as campaign_launch does (without publishing tasks)."""
    Campaign.objects.filter(pk=campaign.pk).update(
        status=CampaignStatus.SENDING, launched_at=timezone.now()
    )
    campaign.refresh_from_db()
    return campaign


def fan_out(campaign: Campaign, *, size: int = 50) -> int:
    """Resolve and send every batch in this process, as the tasks do; returns the batches."""
    campaign_audience_resolve(campaign=campaign)
    batches, last = 0, 0
    while True:
        last = campaign_send_batch(campaign_id=campaign.pk, after_member_id=last, size=size)
        if last is None:
            return batches
        batches += 1
