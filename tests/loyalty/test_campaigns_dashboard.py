"""The campaign pages of the loyalty dashboard: the marketer's path, per role, query counts.

Every role's status on every campaign URL is in tests/shop/dashboard/test_roles_matrix.py;
here, what the pages do for the people allowed on them.
"""

import pytest
from django.test import Client
from django.urls import reverse

from loyalty.models import Campaign, CampaignMessage, CampaignSend
from loyalty.services.segments import segment_save
from shop.communication.models import OutboxMessage
from shop.security import roles
from tests.loyalty.campaign_helpers import EVERYONE, campaign_for, consenting_member, fan_out
from tests.roles import role_user
from tests.stores.factories import store

pytestmark = pytest.mark.django_db


def client_as(role: str) -> tuple[Client, object]:
    client = Client()
    user = role_user(role, store_a=store("Centre"), store_b=store("Gare"))
    client.force_login(user)
    return client, user


def url(name: str, **kwargs) -> str:
    return reverse(f"loyalty_dashboard:loyalty-campaign-{name}", kwargs=kwargs)


def form_data(segment, **overrides) -> dict:
    data = {
        "name": "Spring cheese",
        "segment": segment.pk,
        "channels": ["email", "sms"],
        "control_percent": "10",
        "reward_kind": "points",
        "reward_points": "50",
        "reward_offer": "",
        "trigger": "once",
        "trigger_days": "",
        "send_at": "",
        "message-en-subject": "{{ first_name }}, cheese is back",
        "message-en-body": "You have {{ points }} points. {{ link }}",
        "message-en-sms_text": "Cheese is back, {{ first_name }}",
        "message-en-push_title": "",
        "message-en-push_body": "",
        "message-en-link_url": "/catalogue/",
        "message-fr-subject": "{{ first_name }}, le fromage est de retour",
        "message-fr-body": "Vous avez {{ points }} points. {{ link }}",
        "message-fr-sms_text": "Le fromage est de retour, {{ first_name }}",
        "message-fr-push_title": "",
        "message-fr-push_body": "",
        "message-fr-link_url": "/catalogue/",
    }
    data.update(overrides)
    return data


def test_a_marketer_creates_previews_tests_and_launches_a_campaign(
    django_capture_on_commit_callbacks,
):
    client, marketer = client_as("marketer")
    member = consenting_member(first_name="Léa", channels=("email", "sms"), phone="+33655555555")
    segment = segment_save(name="Everyone", rules=EVERYONE)

    # Create the draft with its English and French messages
    response = client.post(url("create"), form_data(segment))
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == url("detail", pk=campaign.pk)
    assert (campaign.status, campaign.channels, campaign.control_percent) == (
        "draft",
        ["email", "sms"],
        10,
    )
    assert campaign.created_by == marketer
    assert sorted(campaign.messages.values_list("language", flat=True)) == ["en", "fr"]

    # Its page has the figures and the actions
    page = client.get(url("detail", pk=campaign.pk))
    assert page.status_code == 200
    assert b'value="launch"' in page.content and b"campaign-problems" not in page.content

    # Preview as a real member
    preview = client.get(url("preview", pk=campaign.pk), {"member": member.number})
    assert preview.status_code == 200
    assert "Léa, cheese is back" in preview.content.decode()
    french = client.get(url("preview", pk=campaign.pk), {"member": member.number, "language": "fr"})
    assert "Léa, le fromage est de retour" in french.content.decode()

    # A test to oneself only
    client.post(url("test-send", pk=campaign.pk))
    (test,) = OutboxMessage.objects.all()
    assert test.recipient == marketer.email

    # Launch: the start task is published once the launch is committed
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url("status", pk=campaign.pk), {"action": "launch"})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == "sending"
    assert len(callbacks) == 1
    # A launched campaign is no longer edited
    assert client.get(url("update", pk=campaign.pk))["Location"] == url("detail", pk=campaign.pk)

    # Pause, resume and cancel are buttons too
    client.post(url("status", pk=campaign.pk), {"action": "pause"})
    campaign.refresh_from_db()
    assert campaign.status == "paused"
    client.post(url("status", pk=campaign.pk), {"action": "cancel"})
    campaign.refresh_from_db()
    assert campaign.status == "cancelled"


def test_unknown_tokens_and_foreign_links_are_refused_with_a_message():
    client, _user = client_as("marketer")
    segment = segment_save(name="Everyone", rules=EVERYONE)

    response = client.post(
        url("create"),
        form_data(
            segment,
            **{
                "message-en-body": "Hi {{ firstname }}",
                "message-fr-link_url": "https://evil.example/",
            },
        ),
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert "Unknown token: firstname." in content
    assert "The link must be a page of this shop" in content
    assert Campaign.objects.count() == 0


def test_a_draft_missing_its_message_shows_why_it_cannot_launch():
    client, _user = client_as("marketer")
    campaign = campaign_for(channels=("push",))
    CampaignMessage.objects.filter(campaign=campaign).update(push_title="")

    page = client.get(url("detail", pk=campaign.pk)).content.decode()
    assert "has nothing to say by push" in page

    client.post(url("status", pk=campaign.pk), {"action": "launch"})
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_the_list_shows_each_campaigns_figures_in_a_constant_number_of_queries(
    django_assert_max_num_queries,
):
    client, _user = client_as("marketer")
    consenting_member()
    sent = campaign_for(name="Sent")
    Campaign.objects.filter(pk=sent.pk).update(status="sending")
    fan_out(sent)
    campaign_for(name="Draft")
    client.get(url("list"))  # the session and permissions, cached

    with django_assert_max_num_queries(12):
        page = client.get(url("list"))

    assert page.status_code == 200
    rows = page.context["campaigns"]
    figures = {c.name: (c.status, c.audience_count, c.messaged_count) for c in rows}
    assert figures == {"Sent": ("finished", 1, 1), "Draft": ("draft", 0, 0)}
    for _ in range(5):
        campaign_for(name="More")
    with django_assert_max_num_queries(12):
        client.get(url("list"))


def test_the_detail_and_preview_take_a_bounded_number_of_queries(django_assert_max_num_queries):
    client, _user = client_as("marketer")
    for _ in range(5):
        consenting_member()
    campaign = campaign_for()
    Campaign.objects.filter(pk=campaign.pk).update(status="sending")
    fan_out(campaign)
    assert CampaignSend.objects.filter(campaign=campaign).count() == 5
    client.get(url("detail", pk=campaign.pk))

    with django_assert_max_num_queries(14):
        assert client.get(url("detail", pk=campaign.pk)).status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get(url("preview", pk=campaign.pk)).status_code == 200


@pytest.mark.parametrize("role", ["support", "catalogue manager", "store A staff", "shopper"])
def test_other_roles_cannot_open_or_launch_campaigns(role):
    client, _user = client_as(role)
    campaign = campaign_for()
    assert client.get(url("list")).status_code == 403
    assert client.post(url("status", pk=campaign.pk), {"action": "launch"}).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_marketers_hold_every_campaign_permission():
    assert {
        "loyalty.view_campaign",
        "loyalty.add_campaign",
        "loyalty.change_campaign",
        "loyalty.delete_campaign",
    } <= set(roles.MARKETER.permissions)
    assert not any("campaign" in p for p in roles.SUPPORT_AGENT.permissions)
