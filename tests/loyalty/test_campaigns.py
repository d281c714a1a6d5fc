"""Campaigns: audience, sending, consent, rewards, counts, links (README.md "Campaigns").

The fan-out runs here in this process, batch after batch, as the Celery tasks run it
(tests/loyalty/test_campaigns_worker.py runs it through a real worker that gets killed).
"""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oscar.core.loading import get_model

from loyalty.campaign_messages import SendKey, link_is_ours, send_token
from loyalty.models import (
    Campaign,
    CampaignRecipient,
    CampaignSend,
    CampaignStatus,
    MemberStats,
    PointsEntry,
)
from loyalty.services.campaigns import (
    CampaignError,
    campaign_audience_resolve,
    campaign_cancel,
    campaign_counts,
    campaign_launch,
    campaign_pause,
    campaign_preview,
    campaign_resume,
    campaign_send_batch,
    campaign_sends_sync,
    campaign_test_send,
    campaigns_sweep,
    control_bucket,
)
from shop.communication.models import ConsentRecord, OutboxMessage
from shop.communication.outbox import message_deliver
from shop.communication.preferences import consent_record, marketing_consent_granted
from tests.loyalty.campaign_helpers import campaign_for, consenting_member, fan_out, sending

pytestmark = pytest.mark.django_db

Voucher = get_model("voucher", "Voucher")


def campaign_outbox(campaign: Campaign):
    return OutboxMessage.objects.filter(
        pk__in=CampaignSend.objects.filter(campaign=campaign).values("outbox_message")
    )


# --- R31: audience honesty ----------------------------------------------------------------


def test_r31_the_control_group_is_the_hash_of_campaign_and_member_and_never_receives():
    # Given 40 consenting members and a campaign keeping 25 % as a control group
    members = [consenting_member() for _ in range(40)]
    campaign = sending(campaign_for(control_percent=25))

    # When it is resolved (twice: a "once" campaign is a snapshot) and sent
    assert campaign_audience_resolve(campaign=campaign) == 40
    assert campaign_audience_resolve(campaign=campaign) == 0
    fan_out(campaign, size=7)

    # Then the control group is exactly the members whose bucket is below 25
    expected_control = {
        m.pk for m in members if control_bucket(campaign_id=campaign.pk, member_id=m.pk) < 25
    }
    control = set(
        CampaignRecipient.objects.filter(campaign=campaign, is_control=True).values_list(
            "member_id", flat=True
        )
    )
    assert control == expected_control
    assert 0 < len(control) < 40
    # and none of them has a send row or a message; everybody else has exactly one
    sent_to = list(
        CampaignSend.objects.filter(campaign=campaign).values_list("member_id", flat=True)
    )
    assert sorted(sent_to) == sorted(m.pk for m in members if m.pk not in control)
    users_messaged = list(campaign_outbox(campaign).values_list("user_id", flat=True))
    assert sorted(users_messaged) == sorted(m.user_id for m in members if m.pk not in control)
    # and the figures shown are the rows
    assert campaign_counts(campaign=campaign) == {
        "audience": 40,
        "control": len(control),
        "pending": 40 - len(control),
        "sent": 0,
        "skipped_no_consent": 0,
        "skipped_unreachable": 0,
        "failed": 0,
        "cancelled": 0,
        "members_messaged": 40 - len(control),
        "opened": 0,
        "clicked": 0,
    }
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FINISHED


def test_r31_counts_follow_the_outbox_outcomes():
    for _ in range(3):
        consenting_member()
    campaign = sending(campaign_for())
    fan_out(campaign)
    first, second, third = campaign_outbox(campaign).order_by("pk")

    # When the worker sent one, gave up on one and one is still waiting
    OutboxMessage.objects.filter(pk=first.pk).update(status="sent", sent_at=timezone.now())
    OutboxMessage.objects.filter(pk=second.pk).update(status="failed")
    assert campaign_sends_sync() == 2
    assert campaign_sends_sync() == 0

    counts = campaign_counts(campaign=campaign)
    assert (counts["sent"], counts["failed"], counts["pending"]) == (1, 1, 1)
    assert CampaignSend.objects.get(outbox_message=third).status == "pending"


def test_r31_a_segment_filter_decides_the_audience():
    gold = consenting_member()
    gold.tier = "gold"
    gold.save(update_fields=["tier"])
    consenting_member()  # bronze
    rules = {"match": "all", "conditions": [{"type": "tier", "op": "in", "value": ["gold"]}]}
    campaign = sending(campaign_for(rules=rules))
    fan_out(campaign)
    assert list(
        CampaignSend.objects.filter(campaign=campaign).values_list("member", flat=True)
    ) == [gold.pk]


# --- R41: consent at send time ------------------------------------------------------------


def test_r41_consent_withdrawn_between_resolve_and_send_is_not_sent():
    # Given three members who agreed to emails and SMS, resolved into the audience
    stays = consenting_member(channels=("email", "sms"), phone="+33611111111")
    leaves = consenting_member(channels=("email", "sms"), phone="+33622222222")
    sms_only_off = consenting_member(channels=("email",), phone="+33633333333")
    campaign = sending(campaign_for(channels=("email", "sms")))
    campaign_audience_resolve(campaign=campaign)

    # When one withdraws their email consent before the batch runs
    consent_record(user=leaves.user, channel="email", granted=False, source="test")
    campaign_send_batch(campaign_id=campaign.pk, after_member_id=0, size=10)

    # Then each channel follows the consent current at send time
    rows = {
        (member, channel): status
        for member, channel, status in CampaignSend.objects.filter(campaign=campaign).values_list(
            "member", "channel", "status"
        )
    }
    assert rows == {
        (stays.pk, "email"): "pending",
        (stays.pk, "sms"): "pending",
        (leaves.pk, "email"): "skipped_no_consent",
        (leaves.pk, "sms"): "pending",
        (sms_only_off.pk, "email"): "pending",
        (sms_only_off.pk, "sms"): "skipped_no_consent",
    }
    assert sorted(campaign_outbox(campaign).values_list("user_id", "channel")) == sorted(
        [
            (stays.user_id, "email"),
            (stays.user_id, "sms"),
            (leaves.user_id, "sms"),
            (sms_only_off.user_id, "email"),
        ]
    )


def test_r41_consent_withdrawn_after_recording_cancels_the_delivery():
    member = consenting_member()
    campaign = sending(campaign_for())
    fan_out(campaign)
    (message,) = campaign_outbox(campaign)
    consent_record(user=member.user, channel="email", granted=False, source="test")

    assert message_deliver(message_id=message.pk) == "cancelled"
    assert mail.outbox == []
    campaign_sends_sync()
    assert campaign_counts(campaign=campaign)["cancelled"] == 1


def test_a_member_without_an_address_is_counted_unreachable():
    member = consenting_member(channels=("sms",))  # no phone number
    campaign = sending(campaign_for(channels=("sms",)))
    fan_out(campaign)
    assert CampaignSend.objects.get(campaign=campaign, member=member).status == (
        "skipped_unreachable"
    )
    assert campaign_outbox(campaign).count() == 0


# --- R30: rewards once --------------------------------------------------------------------


def test_r30_bonus_points_reach_each_member_once_whatever_the_retries():
    members = [consenting_member() for _ in range(3)]
    no_consent = consenting_member(channels=())
    campaign = sending(campaign_for(reward_kind="points", reward_points=50))
    fan_out(campaign)

    # When the batch runs again, even with its send rows lost (a redelivered task)
    CampaignSend.objects.filter(campaign=campaign).delete()
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
    fan_out(campaign)

    # Then each messaged member got the points once, under the campaign's key
    for member in members:
        member.refresh_from_db()
        assert member.balance == 50
        (entry,) = PointsEntry.objects.filter(member=member)
        assert (entry.idempotency_key, entry.kind, entry.amount) == (
            f"campaign:{campaign.pk}:member:{member.pk}",
            "bonus",
            50,
        )
    # and their message shows the balance with the bonus
    assert {m.body.split(". ")[0] for m in campaign_outbox(campaign)} == {"Hello, 50 points"}
    # A member without consent is not rewarded
    assert PointsEntry.objects.filter(member=no_consent).count() == 0
    assert {
        send.reward_entry.member_id
        for send in CampaignSend.objects.filter(campaign=campaign, status="pending")
    } == {m.pk for m in members}


def test_r30_a_voucher_is_made_once_per_member_and_is_in_the_message(voucher_offer):
    member = consenting_member()
    campaign = campaign_for(reward_kind="voucher", reward_offer=voucher_offer)
    # (launched: its start task would be published after commit, which a test never does)
    campaign = campaign_launch(campaign=campaign)
    fan_out(campaign)
    recipient = CampaignRecipient.objects.get(campaign=campaign, member=member)
    voucher = recipient.voucher
    assert voucher.voucher_set_id == campaign.voucher_set_id
    assert list(voucher.offers.all()) == [voucher_offer]
    assert voucher.usage == Voucher.SINGLE_USE
    (message,) = campaign_outbox(campaign)
    assert f"Code: {voucher.code}" in message.body

    CampaignSend.objects.filter(campaign=campaign).delete()
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
    fan_out(campaign)
    assert Voucher.objects.filter(voucher_set=campaign.voucher_set).count() == 1
    assert CampaignSend.objects.get(campaign=campaign).voucher == voucher


@pytest.fixture
def voucher_offer():
    range_model = get_model("offer", "Range")
    offer_model = get_model("offer", "ConditionalOffer")
    everything = range_model.objects.create(name="All", includes_all_products=True)
    return offer_model.objects.create(
        name="Five off",
        offer_type=offer_model.VOUCHER,
        condition=get_model("offer", "Condition").objects.create(
            range=everything, type="Count", value=1
        ),
        benefit=get_model("offer", "Benefit").objects.create(
            range=everything, type="Absolute", value=5
        ),
    )


# --- R42: one-click unsubscribe -----------------------------------------------------------


def test_r42_the_email_carries_the_one_click_headers_and_post_unsubscribes_at_once():
    member = consenting_member(first_name="Léa")
    campaign = sending(campaign_for())
    fan_out(campaign)
    (message,) = campaign_outbox(campaign)

    # The delivered email has both RFC 8058 headers
    assert message_deliver(message_id=message.pk) == "sent"
    (email,) = mail.outbox
    headers = email.message()
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = headers["List-Unsubscribe"].strip("<>")
    assert url.startswith("http://localhost:8000/loyalty/u/")
    assert email.subject == "Hello Léa"

    # A GET only shows the button
    path = urlsplit(url).path
    client = Client(enforce_csrf_checks=True)
    page = client.get(path)
    assert page.status_code == 200
    assert b"Unsubscribe" in page.content
    assert marketing_consent_granted(user=member.user, channel="email") is True

    # The mailbox's one-click POST (no cookie, no CSRF token) withdraws at once
    response = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert marketing_consent_granted(user=member.user, channel="email") is False
    latest = ConsentRecord.objects.filter(user=member.user, channel="email").first()
    assert (latest.action, latest.source) == ("withdrawn", "unsubscribe")

    # A second POST records nothing more
    client.post(path, {"List-Unsubscribe": "One-Click"})
    assert ConsentRecord.objects.filter(user=member.user, source="unsubscribe").count() == 1


def test_r42_the_sms_ends_with_a_short_unsubscribe_link():
    member = consenting_member(channels=("email", "sms"), phone="+33644444444", first_name="Tom")
    campaign = sending(campaign_for(channels=("sms",)))
    fan_out(campaign)
    (message,) = campaign_outbox(campaign)
    text, link = message.body.rsplit(" ", 1)
    assert text == "Hello Tom, 0 pts STOP:"
    assert link.startswith("http://localhost:8000/loyalty/u/") and len(link) < 100

    Client().post(urlsplit(link).path)
    assert marketing_consent_granted(user=member.user, channel="sms") is False
    assert marketing_consent_granted(user=member.user, channel="email") is True


def test_a_tampered_unsubscribe_link_is_refused():
    member = consenting_member()
    token = send_token(SendKey(1, member.pk, "email"))
    forged = token.replace(f".{member.pk}.", f".{member.pk + 1}.")
    assert Client().post(f"/loyalty/u/{forged}/").status_code == 404
    assert Client().get(f"/loyalty/u/{forged}/").status_code == 404


# --- Opens and clicks ---------------------------------------------------------------------


def test_the_open_pixel_records_the_first_open_only():
    consenting_member()
    campaign = sending(campaign_for())
    fan_out(campaign)
    send = CampaignSend.objects.get(campaign=campaign)
    path = f"/loyalty/o/{send_token(SendKey(campaign.pk, send.member_id, 'email'))}.gif"

    response = Client().get(path)
    assert (response.status_code, response["Content-Type"]) == (200, "image/gif")
    send.refresh_from_db()
    first = send.opened_at
    assert first is not None
    Client().get(path)
    send.refresh_from_db()
    assert send.opened_at == first
    assert campaign_counts(campaign=campaign)["opened"] == 1
    # A forged token gets the pixel and records nothing
    assert Client().get("/loyalty/o/1.1.e~x~y.gif").status_code == 200


def test_a_click_is_recorded_and_redirected_to_our_page_with_utm_tags():
    consenting_member()
    campaign = sending(campaign_for())
    fan_out(campaign)
    send = CampaignSend.objects.get(campaign=campaign)
    token = send_token(SendKey(campaign.pk, send.member_id, "email"))

    response = Client().get(f"/loyalty/c/{token}/")

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert (target.netloc, target.path) == ("localhost:8000", "/catalogue/")
    assert parse_qs(target.query) == {
        "sort": ["new"],
        "utm_source": ["solomo"],
        "utm_medium": ["email"],
        "utm_campaign": [campaign.utm_campaign],
    }
    send.refresh_from_db()
    assert send.clicked_at is not None and send.opened_at is not None
    # A forged token goes home, recording nothing
    assert Client().get("/loyalty/c/nonsense/")["Location"] == "/"


@pytest.mark.parametrize(
    ("link", "ours"),
    [
        ("/catalogue/", True),
        ("http://localhost:8000/offers/", True),
        ("", True),
        ("//evil.example/", False),
        ("https://evil.example/", False),
        ("/\\evil.example", False),
        ("javascript:alert(1)", False),
    ],
)
def test_campaign_links_may_only_point_at_this_shop(link, ours):
    assert link_is_ours(link) is ours


# --- Launch, pause, resume, cancel, schedule ------------------------------------------------


def test_a_campaign_without_channels_or_message_cannot_be_launched():
    campaign = campaign_for(channels=())
    campaign.messages.all().delete()
    with pytest.raises(CampaignError) as error:
        campaign_launch(campaign=campaign)
    assert "Choose at least one channel" in error.value.message
    assert "Write the message" in error.value.message
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_pause_stops_the_batches_resume_goes_on_cancel_cancels_what_waits(
    django_capture_on_commit_callbacks,
):
    for _ in range(4):
        consenting_member()
    campaign = sending(campaign_for())
    campaign_audience_resolve(campaign=campaign)
    last = campaign_send_batch(campaign_id=campaign.pk, after_member_id=0, size=2)

    campaign_pause(campaign=campaign)
    assert campaign_send_batch(campaign_id=campaign.pk, after_member_id=last, size=2) is None
    assert CampaignSend.objects.filter(campaign=campaign).count() == 2

    with django_capture_on_commit_callbacks() as callbacks:
        campaign_resume(campaign=campaign)
    assert len(callbacks) == 1  # the start task, published after commit
    campaign_send_batch(campaign_id=campaign.pk, after_member_id=last, size=2)
    assert CampaignSend.objects.filter(campaign=campaign).count() == 4

    # One was delivered already; cancelling cancels the three still waiting
    first = campaign_outbox(campaign).order_by("pk").first()
    assert message_deliver(message_id=first.pk) == "sent"
    campaign_cancel(campaign=campaign)
    assert sorted(campaign_outbox(campaign).values_list("status", flat=True)) == [
        "cancelled",
        "cancelled",
        "cancelled",
        "sent",
    ]
    assert campaign_counts(campaign=campaign)["cancelled"] == 3
    with pytest.raises(CampaignError):
        campaign_resume(campaign=campaign)


def test_a_scheduled_campaign_starts_when_its_time_comes(django_capture_on_commit_callbacks):
    consenting_member()
    campaign = campaign_for(send_at=timezone.now() + timedelta(hours=2))
    with django_capture_on_commit_callbacks() as callbacks:
        campaign = campaign_launch(campaign=campaign)
    assert (campaign.status, callbacks) == ("scheduled", [])

    assert campaigns_sweep(at=timezone.now()).to_start == []
    result = campaigns_sweep(at=timezone.now() + timedelta(hours=3))
    assert result.to_start == [campaign.pk]
    campaign.refresh_from_db()
    assert campaign.status == "sending"


def test_a_birthday_campaign_adds_the_members_whose_birthday_it_is():
    today = timezone.localdate()
    born_today = consenting_member()
    born_today.birthday = today.replace(year=1990)
    born_today.save(update_fields=["birthday"])
    other = consenting_member()
    other.birthday = (today + timedelta(days=3)).replace(year=1990)
    other.save(update_fields=["birthday"])
    campaign = sending(campaign_for(trigger="birthday"))

    assert campaign_audience_resolve(campaign=campaign) == 1
    fan_out(campaign)
    assert list(
        CampaignSend.objects.filter(campaign=campaign).values_list("member", flat=True)
    ) == [born_today.pk]
    # A triggered campaign keeps going for the next days' members
    campaign.refresh_from_db()
    assert campaign.status == "sending"


# --- Preview and test send ----------------------------------------------------------------


def test_the_preview_shows_a_real_members_data_in_their_language_and_writes_nothing():
    member = consenting_member(first_name="Zoé")
    MemberStats.objects.create(member=member, language="fr")
    campaign = campaign_for(channels=("email", "sms"))

    preview = campaign_preview(campaign=campaign, member=member)

    assert preview["language"] == {"code": "fr"}
    assert preview["email"]["subject"] == "Bonjour Zoé"
    assert preview["sms"]["body"].startswith("Bonjour Zoé, 0 pts STOP: http://localhost:8000/")
    assert (
        campaign_preview(campaign=campaign, member=member, language="en")["email"]["subject"]
        == "Hello Zoé"
    )
    assert CampaignSend.objects.count() == 0 and OutboxMessage.objects.count() == 0


def test_the_test_send_goes_to_the_marketer_only():
    consenting_member()
    marketer = consenting_member(channels=(), email="marketer@example.com").user
    campaign = campaign_for()

    message = campaign_test_send(campaign=campaign, user=marketer)

    assert (message.recipient, message.purpose) == ("marketer@example.com", "service")
    assert message.subject.startswith("[Test] Hello")
    assert OutboxMessage.objects.count() == 1
    assert CampaignSend.objects.count() == 0


# --- Queries do not grow with the audience -------------------------------------------------


def _queries(callable_) -> int:
    with CaptureQueriesContext(connection) as queries:
        callable_()
    return len(queries)


def test_resolve_and_a_batch_take_the_same_queries_for_a_small_and_a_large_audience():
    small = [consenting_member() for _ in range(6)]
    small_campaign = sending(campaign_for(name="Small"))
    resolve_small = _queries(lambda: campaign_audience_resolve(campaign=small_campaign))
    batch_small = _queries(
        lambda: campaign_send_batch(campaign_id=small_campaign.pk, after_member_id=0, size=5)
    )
    more = [consenting_member() for _ in range(24)]
    large_campaign = sending(campaign_for(name="Large"))
    resolve_large = _queries(lambda: campaign_audience_resolve(campaign=large_campaign))
    batch_large = _queries(
        lambda: campaign_send_batch(campaign_id=large_campaign.pk, after_member_id=0, size=5)
    )

    assert resolve_small == resolve_large
    assert batch_small == batch_large
    assert CampaignRecipient.objects.filter(campaign=large_campaign).count() == len(small + more)


def _reachable_everywhere(count: int, store, products, bakery) -> list:
    """Members with consent, an address, a number and a device, a store of their own, a
    language (every other one French) and two recommended products: every lookup the
    batch makes has something to find for each of them."""
    from loyalty.models import MemberRecommendation
    from shop.communication.models import PushSubscription
    from stores.models import StorePreference

    members = []
    for _ in range(count):
        member = consenting_member(channels=("email", "sms", "push"), phone="+33612345678")
        PushSubscription.objects.create(
            user=member.user,
            endpoint=f"https://fcm.googleapis.com/fcm/send/{member.pk}",
            p256dh="key",
            auth="auth",
        )
        StorePreference.objects.create(user=member.user, store=store)
        MemberStats.objects.update_or_create(
            member=member,
            defaults={"language": "fr" if member.pk % 2 else "en", "last_pickup_store": store},
        )
        for position, item in enumerate(products):
            MemberRecommendation.objects.create(
                member=member,
                product=item,
                position=position,
                reason="category",
                score=1,
                times=1,
                via_category=bakery,
            )
        members.append(member)
    return members


@pytest.mark.postgres
def test_a_batch_takes_the_same_queries_for_3_members_as_for_12_none_per_member():
    # Given 17 members reachable on every channel, with a store, a language and
    # recommendations, and a campaign by email, SMS and push naming every token but the
    # voucher (no reward: the ledger's queries per member rewarded are R30's)
    from stores.selectors import store_today_hours
    from tests.factories import category, product
    from tests.stores.factories import every_day, store

    shop = store("Kléber", hours=every_day())
    products = [product("Bretzel"), product("Kougelhopf")]
    members = _reachable_everywhere(17, shop, products, category("Bakery"))
    campaign = sending(campaign_for(channels=("email", "sms", "push")))
    campaign.messages.update(
        body="{{ first_name }}, {{ points }} pts, {{ tier }}, {{ store }} {{ store_hours }}: "
        "{{ recommended_products }} {{ link }}"
    )
    campaign_audience_resolve(campaign=campaign)
    # (a first batch of 2 loads what a worker process loads once: content types, ...)
    last = campaign_send_batch(campaign_id=campaign.pk, after_member_id=0, size=2)

    # When the next batches take 3, then 12 members
    with CaptureQueriesContext(connection) as small:
        last = campaign_send_batch(campaign_id=campaign.pk, after_member_id=last, size=3)
    with CaptureQueriesContext(connection) as large:
        last = campaign_send_batch(campaign_id=campaign.pk, after_member_id=last, size=12)

    # Then both ran the same queries, a constant number whatever the batch's size: one
    # INSERT for the outbox messages and one for the send rows, each covering the batch
    assert last == max(m.pk for m in members)
    assert len(small) == len(large)
    inserts = [q["sql"] for q in large if q["sql"].startswith("INSERT")]
    assert [sql.split('"')[1] for sql in inserts] == [
        "communication_outboxmessage",
        "loyalty_campaignsend",
    ]
    # and every member of the three batches got their message on each channel, in their
    # language, with their own data filled in
    sends = CampaignSend.objects.filter(campaign=campaign)
    assert sends.count() == 17 * 3
    assert set(sends.values_list("status", flat=True)) == {"pending"}
    outbox = campaign_outbox(campaign)
    assert sorted(outbox.values_list("channel", flat=True)) == sorted(["email", "sms", "push"] * 17)
    hours = store_today_hours(store=shop, at=timezone.now())
    assert hours.periods
    for member in members:
        email = outbox.get(user=member.user, channel="email")
        language = "fr" if member.pk % 2 else "en"
        assert email.language == language
        assert email.body.startswith(
            f"{member.user.first_name}, 0 pts, Bronze, Kléber 09:00–19:00: Bretzel, Kougelhopf http"
        )
        assert ("Se désinscrire" if language == "fr" else "Unsubscribe") in email.body
        assert outbox.get(user=member.user, channel="sms").recipient == "+33612345678"
        assert outbox.get(user=member.user, channel="push").recipient.endswith(f"/{member.pk}")


def test_the_other_triggers_select_the_days_members():
    from loyalty.services.ledger import points_credit
    from tests.stores.factories import pickup_order, store

    now = timezone.now()
    # N days after the last order: last order exactly 7 days ago
    week_ago = consenting_member()
    MemberStats.objects.create(member=week_ago, orders_count=1, last_order_at=now - timedelta(7))
    yesterday = consenting_member()
    MemberStats.objects.create(member=yesterday, orders_count=1, last_order_at=now - timedelta(1))
    after_order = sending(campaign_for(trigger="days_after_last_order", trigger_days=7))
    assert campaign_audience_resolve(campaign=after_order) == 1
    assert CampaignRecipient.objects.get(campaign=after_order).member == week_ago

    # Points expiring within 10 days
    expiring = consenting_member()
    points_credit(
        member=expiring,
        amount=30,
        reason="test",
        idempotency_key="expiring",
        expires_at=now + timedelta(days=5),
    )
    later = consenting_member()
    points_credit(member=later, amount=30, reason="test", idempotency_key="later", expires_at=None)
    points = sending(campaign_for(trigger="points_expiring", trigger_days=10))
    assert campaign_audience_resolve(campaign=points) == 1
    assert CampaignRecipient.objects.get(campaign=points).member == expiring

    # First click & collect pickup collected in the last day
    first_pickup = consenting_member()
    pickup = pickup_order(store("Centre"), user=first_pickup.user)
    pickup.status, pickup.collected_at = "collected", now - timedelta(hours=2)
    pickup.save(update_fields=["status", "collected_at"])
    pickups = sending(campaign_for(trigger="first_pickup"))
    assert campaign_audience_resolve(campaign=pickups) == 1
    assert CampaignRecipient.objects.get(campaign=pickups).member == first_pickup
    # Resolving again the same day adds nobody twice
    assert campaign_audience_resolve(campaign=pickups) == 0


# --- Triggered campaigns: once per occurrence (R28, R30) ----------------------------------


def _send_all(campaign: Campaign) -> None:
    last = 0
    while last is not None:
        last = campaign_send_batch(campaign_id=campaign.pk, after_member_id=last, size=2)


def test_r28_a_birthday_campaign_reaches_a_member_once_each_year():
    from datetime import UTC, datetime

    # Given a member born on 15 June and a birthday campaign with 25 bonus points
    member = consenting_member()
    member.birthday = datetime(1990, 6, 15).date()
    member.save(update_fields=["birthday"])
    campaign = sending(campaign_for(trigger="birthday", reward_kind="points", reward_points=25))
    birthday_2026 = datetime(2026, 6, 15, 10, tzinfo=UTC)

    # When beat resolves and sends on the birthday, and again later that day (a retry)
    assert campaign_audience_resolve(campaign=campaign, at=birthday_2026) == 1
    _send_all(campaign)
    assert campaign_audience_resolve(campaign=campaign, at=birthday_2026 + timedelta(hours=5)) == 0
    _send_all(campaign)
    # and the next year on the same day
    birthday_2027 = birthday_2026.replace(year=2027)
    assert campaign_audience_resolve(campaign=campaign, at=birthday_2027) == 1
    _send_all(campaign)
    assert campaign_audience_resolve(campaign=campaign, at=birthday_2027) == 0
    _send_all(campaign)

    # Then one send, one message and one bonus a year
    sends = CampaignSend.objects.filter(campaign=campaign).order_by("occurrence")
    assert list(sends.values_list("member", "channel", "occurrence", "status")) == [
        (member.pk, "email", "2026", "pending"),
        (member.pk, "email", "2027", "pending"),
    ]
    assert campaign_outbox(campaign).count() == 2
    member.refresh_from_db()
    assert member.balance == 50
    assert sorted(
        PointsEntry.objects.filter(member=member).values_list("idempotency_key", flat=True)
    ) == [
        f"campaign:{campaign.pk}:member:{member.pk}:2026",
        f"campaign:{campaign.pk}:member:{member.pk}:2027",
    ]
    # and each year's links name that year's send only
    Client().get(f"/loyalty/o/{send_token(SendKey(campaign.pk, member.pk, 'email', '2026'))}.gif")
    assert [send.opened_at is not None for send in sends] == [True, False]
    assert campaign_counts(campaign=campaign)["members_messaged"] == 1


def test_r28_the_other_triggers_send_again_for_a_new_occurrence_only():
    from loyalty.services.ledger import points_credit

    now = timezone.now()
    # N days after the last order: once per last order's day
    buyer = consenting_member()
    stats = MemberStats.objects.create(
        member=buyer, orders_count=1, last_order_at=now - timedelta(days=7)
    )
    after_order = sending(campaign_for(trigger="days_after_last_order", trigger_days=7))
    assert campaign_audience_resolve(campaign=after_order, at=now) == 1
    assert campaign_audience_resolve(campaign=after_order, at=now) == 0
    stats.last_order_at = now + timedelta(days=3)
    stats.save(update_fields=["last_order_at"])
    assert campaign_audience_resolve(campaign=after_order, at=now + timedelta(days=10)) == 1
    assert sorted(
        CampaignRecipient.objects.filter(campaign=after_order).values_list("occurrence", flat=True)
    ) == [
        timezone.localdate(now - timedelta(days=7)).isoformat(),
        timezone.localdate(now + timedelta(days=3)).isoformat(),
    ]

    # Points expiring within 10 days: once per lot about to expire
    holder = consenting_member()
    first = points_credit(
        member=holder, amount=30, reason="t", idempotency_key="a", expires_at=now + timedelta(5)
    )
    second = points_credit(
        member=holder, amount=30, reason="t", idempotency_key="b", expires_at=now + timedelta(12)
    )
    expiring = sending(campaign_for(trigger="points_expiring", trigger_days=10))
    assert campaign_audience_resolve(campaign=expiring, at=now) == 1
    assert campaign_audience_resolve(campaign=expiring, at=now + timedelta(days=1)) == 0
    assert campaign_audience_resolve(campaign=expiring, at=now + timedelta(days=6)) == 1
    lots = list(
        CampaignRecipient.objects.filter(campaign=expiring)
        .order_by("resolved_at")
        .values_list("occurrence", flat=True)
    )
    assert lots == [f"lot-{first.lot.pk}", f"lot-{second.lot.pk}"]
