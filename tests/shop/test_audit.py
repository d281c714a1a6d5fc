"""The staff audit log (README: "Member counter and audit log"): every state-changing
request by staff under /dashboard/ and /admin/, append-only, for superusers' eyes only."""

import importlib
import sqlite3
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from oscar.test.factories import UserFactory, create_order

from loyalty.models import AdjustmentCategory, PointsAdjustment
from shop.audit.models import AuditEvent
from tests.loyalty.counter_helpers import logged_in, store_partner, store_staff, support
from tests.loyalty.factories import member_factory

pytestmark = pytest.mark.django_db

AUDIT = reverse("audit:log")


@pytest.fixture
def superuser():
    return UserFactory(is_staff=True, is_superuser=True, email="root@solomo.example")


def _values(event: AuditEvent) -> str:
    return repr(
        [
            event.method,
            event.path,
            event.view_name,
            event.object_ids,
            event.field_names,
            event.ip_address,
        ]
    )


def test_an_order_status_change_is_audited(superuser):
    order = create_order(status="Pending")
    client = logged_in(superuser)

    response = client.post(
        reverse("dashboard:order-detail", kwargs={"number": order.number}),
        {"order_action": "change_order_status", "new_status": "Being processed"},
    )

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "Being processed"
    event = AuditEvent.objects.get()
    assert (
        event.actor,
        event.method,
        event.path,
        event.view_name,
        event.object_ids,
        event.field_names,
        event.status_code,
        event.ip_address,
    ) == (
        superuser,
        "POST",
        f"/dashboard/orders/{order.number}/",
        "dashboard:order-detail",
        {"number": order.number},
        ["new_status", "order_action"],
        302,
        "127.0.0.1",
    )


def test_a_counter_adjustment_is_audited_and_shown_to_a_superuser(superuser):
    centre = store_partner("Centre")
    staff = store_staff(centre)
    member = member_factory()

    logged_in(staff).post(
        reverse("loyalty_dashboard:loyalty-counter-adjust"),
        {
            "number": member.number,
            "direction": "award",
            "points": 40,
            "category": AdjustmentCategory.MISSED_EARN,
            "reason": "Receipt 4411 not scanned",
            "store": centre.pk,
            "key": "k1",
        },
    )

    event = AuditEvent.objects.get()
    assert (event.actor, event.view_name, event.status_code, event.field_names) == (
        staff,
        "loyalty_dashboard:loyalty-counter-adjust",
        302,
        ["category", "direction", "key", "number", "points", "reason", "store"],
    )
    # Names only: no value sent is kept.
    assert "Receipt 4411" not in _values(event)
    assert member.number not in _values(event)
    adjustment = PointsAdjustment.objects.get()

    client = logged_in(superuser)
    requests_page = client.get(AUDIT)
    adjustments_page = client.get(AUDIT, {"show": "adjustments"})

    assert list(requests_page.context["page"]) == [event]
    assert list(adjustments_page.context["page"]) == [adjustment]
    assert "Receipt 4411 not scanned" in adjustments_page.content.decode()
    assert "Posted at once" in adjustments_page.content.decode()


def test_password_fields_are_never_recorded_not_even_by_name():
    staff = UserFactory(is_staff=True, email="ops@solomo.example")
    staff.set_password("old-Secret-42")
    staff.save()
    client = logged_in(staff)

    client.post(
        "/admin/password_change/",
        {
            "old_password": "old-Secret-42",
            "new_password1": "new-Secret-43!x",
            "new_password2": "new-Secret-43!x",
        },
    )

    event = AuditEvent.objects.get()
    assert (event.view_name, event.field_names) == ("admin:password_change", [])
    assert "Secret" not in _values(event)


@pytest.mark.urls("tests.shop.audit_urls")
def test_a_request_whose_view_raises_is_audited():
    staff = UserFactory(is_staff=True)
    client = Client(raise_request_exception=False)
    client.force_login(staff)

    response = client.post("/dashboard/failing/7/", {"quantity": "3"})

    assert response.status_code == 500
    event = AuditEvent.objects.get()
    assert (event.actor, event.view_name, event.object_ids, event.field_names) == (
        staff,
        "failing",
        {"pk": "7"},
        ["quantity"],
    )
    assert event.status_code == 500


def test_store_staff_requests_are_audited_in_french_urls_too():
    centre = store_partner("Centre")
    staff = store_staff(centre)

    logged_in(staff).post("/fr/dashboard/loyalty/counter/adjust/", {"number": "nope"})

    event = AuditEvent.objects.get()
    assert (event.actor, event.path, event.status_code) == (
        staff,
        "/fr/dashboard/loyalty/counter/adjust/",
        404,
    )


def test_reads_shoppers_and_anonymous_posts_are_not_audited(superuser):
    shopper = logged_in(UserFactory(is_staff=False))
    shopper.post(reverse("loyalty_dashboard:loyalty-counter-adjust"), {"points": "1"})
    Client().post("/admin/login/", {"username": "x", "password": "y"})
    logged_in(superuser).get(AUDIT)
    logged_in(superuser).post("/basket/add/1/", {"quantity": "1"})  # not under /dashboard/

    assert AuditEvent.objects.count() == 0


def test_the_audit_page_is_for_superusers_only(superuser):
    centre = store_partner("Centre")

    assert logged_in(support()).get(AUDIT).status_code == 403
    assert logged_in(store_staff(centre)).get(AUDIT).status_code == 403
    assert logged_in(UserFactory(is_staff=True)).get(AUDIT).status_code == 403
    anonymous = Client().get(AUDIT)
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]
    page = logged_in(superuser).get(AUDIT)
    assert page.status_code == 200
    assert (
        f'href="{AUDIT}"' in logged_in(superuser).get(reverse("dashboard:index")).content.decode()
    )


def test_the_audit_page_filters(superuser):
    one, two = (
        UserFactory(is_staff=True, email="one@solomo.example"),
        UserFactory(is_staff=True, email="two@solomo.example"),
    )
    logged_in(one).post("/dashboard/orders/", {"action": "x"})
    logged_in(two).post("/admin/logout/")

    client = logged_in(superuser)
    by_actor = client.get(AUDIT, {"actor": "two@"})
    by_path = client.get(AUDIT, {"path": "/dashboard/orders/"})
    by_status = client.get(AUDIT, {"status": 999})  # invalid: the form ignores filters

    assert [e.actor for e in by_actor.context["page"]] == [two]
    assert [e.actor for e in by_path.context["page"]] == [one]
    assert len(by_status.context["page"]) == 2


# --- Append-only in the database ----------------------------------------------------------


def test_update_and_delete_of_an_audit_row_fail_in_the_database():
    staff = UserFactory(is_staff=True)
    logged_in(staff).post("/dashboard/orders/", {"action": "x"})
    event = AuditEvent.objects.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(status_code=200)
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET path = '/' WHERE id = %s", [event.pk])
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])

    event.refresh_from_db()
    assert (event.path, event.status_code) == ("/dashboard/orders/", event.status_code)


@pytest.mark.parametrize(
    ("migration", "tables"),
    [
        ("shop.audit.migrations.0002_audit_event_append_only", ["audit_auditevent"]),
        (
            "loyalty.migrations.0005_adjustments_append_only",
            ["loyalty_pointsadjustment", "loyalty_pointsadjustmentdecision"],
        ),
        ("loyalty.migrations.0002_points_entry_append_only", ["loyalty_pointsentry"]),
        ("shop.communication.migrations.0009_consent_append_only", ["communication_consentrecord"]),
    ],
)
def test_the_sqlite_triggers_refuse_update_and_delete(migration, tables):
    # Whatever database the suite runs on, the SQLite branch of the migration is run
    # on a scratch SQLite database, so both vendors' triggers are proven.
    scratch = sqlite3.connect(":memory:")
    editor = SimpleNamespace(
        connection=SimpleNamespace(vendor="sqlite"),
        execute=lambda sql, params=None: scratch.execute(sql),
    )
    for table in tables:
        scratch.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, note TEXT)")
        scratch.execute(f"INSERT INTO {table} (id, note) VALUES (1, 'kept')")

    # The migration's last operation is loyalty.append_only's RunPython.
    importlib.import_module(migration).Migration.operations[-1].code(None, editor)

    for table in tables:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            scratch.execute(f"UPDATE {table} SET note = 'changed' WHERE id = 1")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            scratch.execute(f"DELETE FROM {table} WHERE id = 1")
        assert scratch.execute(f"SELECT note FROM {table}").fetchall() == [("kept",)]


def test_an_approval_is_audited_and_the_audit_page_shows_who_decided(superuser):
    centre = store_partner("Centre")
    staff, approver = store_staff(centre), support()
    member = member_factory()
    logged_in(staff).post(
        reverse("loyalty_dashboard:loyalty-counter-adjust"),
        {
            "number": member.number,
            "direction": "award",
            "points": 250,
            "category": AdjustmentCategory.GOODWILL,
            "reason": "Broken jar",
            "store": centre.pk,
            "key": "k1",
        },
    )
    adjustment = PointsAdjustment.objects.get()
    decide = reverse("loyalty_dashboard:loyalty-adjustment-decide", kwargs={"pk": adjustment.pk})

    logged_in(approver).post(decide, {"action": "approve", "note": "ok"})

    event = AuditEvent.objects.get(actor=approver)
    assert (event.view_name, event.object_ids, event.field_names, event.status_code) == (
        "loyalty_dashboard:loyalty-adjustment-decide",
        {"pk": str(adjustment.pk)},
        ["action", "note"],
        302,
    )
    page = logged_in(superuser).get(
        AUDIT, {"show": "adjustments", "actor": approver.email, "member": member.number}
    )
    assert list(page.context["page"]) == [adjustment]
    html = page.content.decode()
    assert "Approved" in html
    assert approver.email in html
    assert staff.email in html
