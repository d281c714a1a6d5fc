"""R44: deleting an account anonymises it. Orders, payments and the points ledger stay for
the books; nothing in any text column of any table still says who the customer was."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.utils import timezone
from oscar.apps.partner.strategy import Default
from oscar.core.loading import get_model
from oscar.test.factories import create_order, create_product

from loyalty.models import EntryKind, Member, PointsEntry
from loyalty.services.ledger import points_credit
from loyalty.services.members import member_enrol
from shop.accounts.erasure import account_erase
from shop.communication.models import (
    ConsentRecord,
    DeliveryAttempt,
    NotificationPreference,
    OutboxMessage,
    PushSubscription,
)
from shop.communication.preferences import consent_record, marketing_consent_granted
from stores.models import Pickup, PickupSlot, PickupStatus
from tests.factories import shipping_country
from tests.loyalty.conftest import assert_ledger_balanced
from tests.stores import factories as stores

pytestmark = pytest.mark.django_db

User = get_user_model()
Basket = get_model("basket", "Basket")
ShippingAddress = get_model("order", "ShippingAddress")
UserAddress = get_model("address", "UserAddress")
ProductReview = get_model("reviews", "ProductReview")

PASSWORD = "correct horse battery"
EMAIL = "zebulon.quartz@example.org"
PHONE = "+33612345678"
SMS_PHONE = "+33699887766"
STREET = "17 Impasse des Hiboux"
ENDPOINT = "https://push.example.net/send/zq-endpoint-123"
IP = "203.0.113.77"
# Every value that says who the customer was; none may survive anywhere.
TRACES = ("zebulon", "quartzwright", EMAIL, PHONE, SMS_PHONE, STREET, ENDPOINT, IP, "ZebBrowser")


def traces_left() -> list[tuple[str, str, str]]:
    """(table, column, value) for every text-like column of every table holding a trace."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT table_name, column_name FROM information_schema.columns
            WHERE table_schema = current_schema()
              AND data_type IN ('character varying', 'text', 'json', 'jsonb', 'inet')
            ORDER BY table_name, column_name
            """
        )
        columns = cursor.fetchall()
        found = []
        for table, column in columns:
            cursor.execute(
                f"""SELECT v FROM unnest(%s::text[]) AS v WHERE EXISTS (
                    SELECT 1 FROM "{table}" WHERE "{column}"::text ILIKE '%%' || v || '%%')""",
                [list(TRACES)],
            )
            found += [(table, column, value) for (value,) in cursor.fetchall()]
    return found


@pytest.fixture
def customer():
    """A customer who has left personal data in every corner of the shop."""
    user = User.objects.create_user(
        username="zq",
        email=EMAIL,
        password=PASSWORD,
        first_name="Zebulon",
        last_name="Quartzwright",
    )
    member = member_enrol(user=user)
    points_credit(member=member, amount=120, reason="Welcome", idempotency_key="t:welcome")
    country = shipping_country()
    UserAddress.objects.create(
        user=user, first_name="Zebulon", last_name="Quartzwright", line1=STREET,
        line4="Lyon", postcode="69001", country=country, phone_number=PHONE,
    )  # fmt: skip
    # A delivered order with a shipping address and a note, and a pickup still to collect.
    item = create_product(title="Kettle", price="30.00", num_in_stock=5)
    basket = Basket.objects.create(owner=user)
    basket.strategy = Default()
    basket.add_product(item, 1)
    address = ShippingAddress.objects.create(
        first_name="Zebulon", last_name="Quartzwright", line1=STREET, line4="Lyon",
        postcode="69001", country=country, phone_number=PHONE, notes="Ring twice for Zebulon",
    )  # fmt: skip
    delivered = create_order(basket=basket, user=user, shipping_address=address)
    store = stores.store(hours=stores.ALWAYS_OPEN)
    pickup = stores.pickup_order(store, user=user, quantity=2, in_stock=5)
    NotificationPreference.objects.create(user=user, sms=True, phone_number=SMS_PHONE)
    PushSubscription.objects.create(
        user=user, endpoint=ENDPOINT, p256dh="k", auth="a", user_agent="ZebBrowser/1.0"
    )
    consent_record(user=user, channel="email", granted=True, source="test")
    now = timezone.now()
    message = OutboxMessage.objects.create(
        channel="email", user=user, recipient=EMAIL, subject="Hello Zebulon",
        body="Dear Zebulon Quartzwright", max_attempts=3, next_attempt_at=now,
        status=OutboxMessage.Status.SENT, sent_at=now, attempts=1,
    )  # fmt: skip
    DeliveryAttempt.objects.create(
        message=message, number=1, claim_token="00000000-0000-0000-0000-000000000001",
        started_at=now, finished_at=now, outcome="sent", error=f"250 ok for {EMAIL}",
    )  # fmt: skip
    OutboxMessage.objects.create(
        channel="sms", recipient=SMS_PHONE, body="Your order, Zebulon", max_attempts=3,
        next_attempt_at=now + dt.timedelta(hours=1),
    )  # fmt: skip
    ProductReview.objects.create(
        product=item, user=user, score=4, title="Zebulon likes it", body="Great kettle"
    )
    AccessAttempt.objects.create(
        username=EMAIL, ip_address=IP, user_agent="ZebBrowser/1.0", attempt_time=now,
        get_data="", post_data="", http_accept="*/*", path_info="/accounts/login/",
        failures_since_start=1,
    )  # fmt: skip
    return user, delivered, pickup


@pytest.mark.postgres  # the scan reads PostgreSQL's information_schema
def test_r44_deleting_the_profile_anonymises_and_leaves_no_trace(client, customer):
    user, delivered, pickup = customer
    record = pickup.order.lines.get().stockrecord
    assert (record.num_in_stock, record.num_allocated) == (5, 2)
    booked = PickupSlot.objects.get(pk=pickup.slot_id).booked
    totals = {delivered.pk: delivered.total_incl_tax, pickup.order_id: pickup.order.total_incl_tax}
    assert traces_left() != []  # the scan finds what is there

    client.force_login(user)
    response = client.post("/accounts/profile/delete/", {"password": PASSWORD})

    assert response.status_code == 302
    assert traces_left() == []
    # The login is gone.
    user.refresh_from_db()
    assert (user.is_active, user.has_usable_password()) == (False, False)
    assert Client().login(username=EMAIL, password=PASSWORD) is False
    # The books: both orders, same totals; the ledger balances with the points forfeited.
    Order = get_model("order", "Order")
    assert {o.pk: o.total_incl_tax for o in Order.objects.filter(pk__in=totals)} == totals
    member = Member.objects.get(user=user)
    assert (member.balance, member.pending) == (0, 0)
    forfeit = PointsEntry.objects.get(member=member, kind=EntryKind.FORFEIT)
    assert forfeit.amount == -120
    assert member.entries.aggregate(total=Sum("amount"))["total"] == 0
    assert_ledger_balanced()
    # The pickup is cancelled, its stock and slot place released.
    pickup.refresh_from_db()
    record.refresh_from_db()
    assert pickup.status == PickupStatus.CANCELLED
    assert (record.num_in_stock, record.num_allocated) == (5, 0)
    assert PickupSlot.objects.get(pk=pickup.slot_id).booked == booked - 1
    # The pending SMS is not sent; marketing consent is withdrawn by a new record.
    assert not OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).exists()
    assert marketing_consent_granted(user=user, channel="email") is False
    assert ConsentRecord.objects.filter(user=user).count() == 2


def test_erasure_twice_changes_nothing_more(customer):
    user, _delivered, _pickup = customer
    account_erase(user=user)
    entries = PointsEntry.objects.count()
    account_erase(user=user)
    assert PointsEntry.objects.count() == entries
    assert Pickup.objects.filter(status=PickupStatus.CANCELLED).count() == 1


def test_staff_accounts_are_not_erased_by_the_customer_flow(customer):
    user, _delivered, _pickup = customer
    User.objects.filter(pk=user.pk).update(is_staff=True)
    with pytest.raises(ValueError):
        account_erase(user=user)
