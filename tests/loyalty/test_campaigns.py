"""Campaigns: audience, sending, consent, rewards, counts, links (README.md "Campaigns")."""

import pytest

from loyalty.models import CampaignRecipient, CampaignSend
from loyalty.services.campaigns import campaign_counts
from shop.communication.models import OutboxMessage
from tests.loyalty.campaign_helpers import campaign_for, consenting_member, fan_out, sending

pytestmark = pytest.mark.django_db


def test_smoke_a_campaign_reaches_consenting_members():
    members = [consenting_member(first_name=f"M{i}") for i in range(3)]
    campaign = sending(campaign_for())
    fan_out(campaign, size=2)
    assert CampaignRecipient.objects.filter(campaign=campaign).count() == 3
    sends = CampaignSend.objects.filter(campaign=campaign)
    assert sorted(sends.values_list("member_id", "status")) == [
        (m.pk, "pending") for m in members
    ]
    message = OutboxMessage.objects.get(pk=sends.first().outbox_message_id)
    print(message.subject, message.body, message.headers, message.html)
    print(campaign_counts(campaign=campaign))
