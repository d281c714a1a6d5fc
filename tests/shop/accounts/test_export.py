"""R43: a customer downloads everything the shop holds about them, and a new model with
personal data cannot ship without being exported."""

import datetime as dt
import io
import json
import zipfile

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from loyalty.models import Member
from loyalty.services.ledger import points_credit
from loyalty.services.members import member_enrol
from shop.accounts.export import EXPORTED, NOT_EXPORTED, export_build, export_token_hash
from shop.accounts.models import DataExport
from shop.communication.models import OutboxMessage
from shop.communication.preferences import consent_record

User = get_user_model()
TOKEN = "t0ken-for-the-test"


def test_r43_every_model_pointing_at_a_user_or_member_is_exported_or_says_why_not():
    pointing = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete and field.related_model in (User, Member):
                pointing.add(model._meta.label)
    assert pointing - set(EXPORTED) - set(NOT_EXPORTED) == set()
    # and every name listed is a real model, so a rename cannot leave a stale entry
    for label in {*EXPORTED, *NOT_EXPORTED}:
        apps.get_model(label)


@pytest.fixture
def customer(db):
    user = User.objects.create_user(
        "ines", "ines@example.com", "pw", first_name="Inès", last_name="Roux"
    )
    member = member_enrol(user=user)
    points_credit(member=member, amount=40, reason="Welcome", idempotency_key="t:ines")
    consent_record(user=user, channel="sms", granted=True, source="signup")
    return user


def built(user, *, token: str = TOKEN) -> DataExport:
    export = DataExport.objects.create(
        user=user,
        token_hash=export_token_hash(token),
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    assert export_build(export_id=export.pk, token=token) is True
    export.refresh_from_db()
    return export


@pytest.mark.django_db
def test_r43_the_request_is_post_only_and_queues_the_build(client, customer, settings):
    client.force_login(customer)
    assert client.get(reverse("accounts:export")).status_code == 200
    assert DataExport.objects.count() == 0

    response = client.post(reverse("accounts:export"))

    assert response.status_code == 302
    export = DataExport.objects.get()
    assert export.user == customer
    assert export.expires_at - export.requested_at == dt.timedelta(days=7)


@pytest.mark.django_db
def test_r43_the_zip_holds_json_and_csv_and_the_link_is_a_secret_for_its_owner(
    client, customer, settings
):
    settings.SITE_URL = "https://shop.example"
    export = built(customer)

    # The link goes out by e-mail, marked secret (never shown to staff, erased once sent).
    message = OutboxMessage.objects.get(event_code="DATA_EXPORT_READY")
    assert (message.recipient, message.has_secret) == ("ines@example.com", True)
    url = f"https://shop.example/accounts/export/{TOKEN}/"
    assert url in message.body
    assert TOKEN not in export.token_hash

    client.force_login(customer)
    response = client.get(url.removeprefix("https://shop.example"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    data = json.loads(archive.read("data.json"))
    assert data["profile"][0]["email"] == "ines@example.com"
    assert "password" not in data["profile"][0]
    assert [row["amount"] for row in data["loyalty.PointsEntry"]] == [40]
    assert [row["channel"] for row in data["communication.ConsentRecord"]] == ["sms"]
    assert set(archive.namelist()) == {"data.json"} | {
        f"csv/{label}.csv" for label in ["profile", *EXPORTED]
    }
    assert archive.read("csv/loyalty.Member.csv").decode().startswith("id,user_id,number,")

    # Someone else, a wrong token, or an expired link: nothing.
    other = User.objects.create_user("x", "x@example.com", "pw")
    client.force_login(other)
    assert client.get(f"/accounts/export/{TOKEN}/").status_code == 404
    client.force_login(customer)
    assert client.get("/accounts/export/not-the-token/").status_code == 404
    DataExport.objects.update(expires_at=timezone.now())
    assert client.get(f"/accounts/export/{TOKEN}/").status_code == 404


@pytest.mark.django_db
def test_r43_building_twice_sends_one_link(customer):
    export = built(customer)
    assert export_build(export_id=export.pk, token=TOKEN) is False
    assert OutboxMessage.objects.filter(event_code="DATA_EXPORT_READY").count() == 1
