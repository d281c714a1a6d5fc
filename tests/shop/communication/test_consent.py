"""R41: consent records are append-only in the database, and the member sees their
history and withdraws per channel in one tap."""

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from shop.communication.models import ConsentRecord
from shop.communication.preferences import consent_record, marketing_consent_granted

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def user():
    return User.objects.create_user("cora", "cora@example.com", "pw")


# The PostgreSQL trigger; the SQLite one is proven in tests/shop/test_audit.py.
@pytest.mark.postgres
def test_r41_the_database_refuses_update_and_delete_of_a_consent_record(user):
    record = consent_record(user=user, channel="email", granted=True, source="test")

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE communication_consentrecord SET action = 'withdrawn' WHERE id = %s",
            [record.pk],
        )
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM communication_consentrecord WHERE id = %s", [record.pk])

    assert list(ConsentRecord.objects.values_list("action", flat=True)) == ["granted"]


def test_r41_a_user_with_consent_history_cannot_be_deleted(user):
    from django.db.models import ProtectedError

    consent_record(user=user, channel="email", granted=True, source="test")
    with pytest.raises(ProtectedError):
        user.delete()


def test_r41_the_member_sees_their_history_and_withdraws_one_channel_in_one_tap(client, user):
    consent_record(user=user, channel="email", granted=True, source="signup")
    consent_record(user=user, channel="sms", granted=True, source="signup")
    client.force_login(user)

    page = client.get(reverse("communication:settings"))
    assert page.status_code == 200
    assert page.content.decode().count('action="/accounts/notification-settings/withdraw/') == 2

    response = client.post(reverse("communication:consent-withdraw", args=["sms"]))

    assert response.status_code == 302
    assert marketing_consent_granted(user=user, channel="sms") is False
    assert marketing_consent_granted(user=user, channel="email") is True
    assert list(
        ConsentRecord.objects.order_by("pk").values_list("channel", "action", "source")
    ) == [
        ("email", "granted", "signup"),
        ("sms", "granted", "signup"),
        ("sms", "withdrawn", "account-consent-withdraw"),
    ]
    history = client.get(reverse("communication:settings")).content.decode()
    assert history.count("<li>") >= 3


def test_withdrawing_is_post_only_and_needs_a_known_channel(client, user):
    client.force_login(user)
    assert client.get("/accounts/notification-settings/withdraw/email/").status_code == 405
    assert client.post("/accounts/notification-settings/withdraw/fax/").status_code == 404
    assert ConsentRecord.objects.count() == 0
