"""Retention (README "Retention"): delivery attempts, guest orders' contact data and
expired exports are pruned daily; the privacy page says so from the same settings."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.translation import override
from oscar.core.loading import get_model
from oscar.test.factories import create_order

from shop.accounts.models import DataExport
from shop.accounts.retention import privacy_prune
from shop.accounts.tasks import prune_personal_data
from shop.communication.models import DeliveryAttempt, OutboxMessage
from tests.factories import shipping_country

Order = get_model("order", "Order")
ShippingAddress = get_model("order", "ShippingAddress")


def attempt(*, age_days: int) -> DeliveryAttempt:
    now = timezone.now()
    message = OutboxMessage.objects.create(
        channel="email", recipient="a@example.com", max_attempts=3, next_attempt_at=now
    )
    started = now - dt.timedelta(days=age_days)
    return DeliveryAttempt.objects.create(
        message=message, number=1, claim_token="00000000-0000-0000-0000-000000000002",
        started_at=started, finished_at=started, outcome="permanent", error="550 a@example.com",
    )  # fmt: skip


def guest_order(*, age_days: int):
    address = ShippingAddress.objects.create(
        first_name="Noé", last_name="Guest", line1="4 rue Haute", line4="Metz",
        postcode="57000", country=shipping_country(),
    )  # fmt: skip
    order = create_order(shipping_address=address, guest_email="noe@example.com")
    Order.objects.filter(pk=order.pk).update(
        date_placed=timezone.now() - dt.timedelta(days=age_days)
    )
    return order


@pytest.mark.django_db
def test_retention_prunes_what_is_past_its_time_and_keeps_the_rest(settings):
    settings.PRIVACY_DELIVERY_ATTEMPT_DAYS = 90
    settings.PRIVACY_GUEST_ORDER_YEARS = 3
    old_attempt, recent_attempt = attempt(age_days=91), attempt(age_days=89)
    old_order, recent_order = guest_order(age_days=3 * 365 + 1), guest_order(age_days=3 * 365 - 1)
    total = old_order.total_incl_tax

    assert prune_personal_data() == {
        "delivery_attempts": 1,
        "guest_orders": 1,
        "guest_addresses": 1,
        "exports": 0,
    }

    assert list(DeliveryAttempt.objects.values_list("pk", flat=True)) == [recent_attempt.pk]
    assert not DeliveryAttempt.objects.filter(pk=old_attempt.pk).exists()
    old_order.refresh_from_db()
    recent_order.refresh_from_db()
    assert (old_order.guest_email, old_order.total_incl_tax) == ("", total)
    assert (old_order.shipping_address.first_name, old_order.shipping_address.line1) == ("", "")
    assert recent_order.guest_email == "noe@example.com"
    assert recent_order.shipping_address.line1 == "4 rue Haute"
    # Again: nothing left to do.
    assert privacy_prune() == {
        "delivery_attempts": 0,
        "guest_orders": 0,
        "guest_addresses": 0,
        "exports": 0,
    }


@pytest.mark.django_db
def test_expired_exports_are_deleted(django_user_model):
    user = django_user_model.objects.create_user("e", "e@example.com", "pw")
    now = timezone.now()
    DataExport.objects.create(user=user, token_hash="a" * 64, expires_at=now)
    kept = DataExport.objects.create(
        user=user, token_hash="b" * 64, expires_at=now + dt.timedelta(days=1)
    )
    assert privacy_prune(now=now)["exports"] == 1
    assert list(DataExport.objects.values_list("pk", flat=True)) == [kept.pk]


def test_the_retention_job_is_scheduled_daily_with_documented_defaults():
    entry = settings.CELERY_BEAT_SCHEDULE["privacy-prune-personal-data"]
    assert (entry["task"], entry["schedule"]) == (prune_personal_data.name, 86400.0)
    assert (settings.PRIVACY_DELIVERY_ATTEMPT_DAYS, settings.PRIVACY_GUEST_ORDER_YEARS) == (90, 3)
    assert settings.PRIVACY_EXPORT_DAYS == 7


@pytest.mark.django_db
@pytest.mark.parametrize(("prefix", "heading"), [("", "Privacy"), ("/fr", "Confidentialité")])
def test_the_privacy_page_is_generated_from_the_settings_in_english_and_french(
    client, settings, prefix, heading
):
    settings.PRIVACY_GUEST_ORDER_YEARS = 4
    settings.NOTIFY_BODY_RETENTION_DAYS = 21
    with override(None):
        page = client.get(f"{prefix}/privacy/").content.decode()
    assert f"<h1>{heading}</h1>" in page
    assert " 4 " in page and " 21 " in page
    home = client.get(f"{prefix}/").content.decode()
    assert f'href="{prefix}/privacy/"' in home


@pytest.mark.django_db
def test_the_locator_says_how_the_position_is_used(client):
    page = client.get("/stores/").content.decode()
    assert "never stored on our servers" in page
    assert "If you choose a store, we save that store, not your location." in page
    assert 'href="/privacy/"' in page
