"""R39: changing the sign-in e-mail address needs the current password and a link sent to
the new address; the previous address is told once, with a link that undoes the change."""

import re
import time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.test import Client
from django.urls import resolve, reverse
from django.utils import translation
from oscar.core.loading import get_model

from shop.accounts import views
from shop.accounts.models import EmailChange
from shop.communication.models import OutboxMessage

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "correct horse battery"
PROFILE = "/accounts/profile/edit/"


@pytest.fixture(autouse=True)
def _default_language():
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def user():
    return User.objects.create_user(
        username="lea", email="lea@example.com", password=PASSWORD, first_name="Léa"
    )


@pytest.fixture
def client_in(user):
    client = Client()
    client.force_login(user)
    return client


def edit(client, *, email, password=None, first_name="Léa", last_name="Muller"):
    data = {"first_name": first_name, "last_name": last_name, "email": email}
    if password is not None:
        data["current_password"] = password
    return client.post(PROFILE, data)


def messages_to(address, code):
    return list(OutboxMessage.objects.filter(recipient=address, event_code=code))


def link_in(message, name):
    """The path of the `name` link (accounts:email-confirm / email-undo) in a message."""
    prefix = reverse(name, kwargs={"token": "T"}).removesuffix("T/")
    match = re.search(rf"https?://[^/\s]+({re.escape(prefix)}[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def requested(client):
    response = edit(client, email="new@example.com", password=PASSWORD)
    assert response.status_code == 302
    (message,) = messages_to("new@example.com", "EMAIL_CHANGE_CONFIRM")
    return link_in(message, "accounts:email-confirm")


def confirmed(client, user):
    path = requested(client)
    assert Client().post(path).status_code == 200
    (message,) = messages_to("lea@example.com", "EMAIL_CHANGED")
    return link_in(message, "accounts:email-undo")


def test_oscar_profile_url_names_lead_to_our_views():
    assert reverse("customer:profile-update") == PROFILE
    assert resolve(PROFILE).func.view_class is views.ProfileUpdateView
    assert resolve(reverse("customer:logout")).func.view_class is views.LogoutView


@pytest.mark.parametrize("password", [None, "", "wrong password"])
def test_r39_email_change_without_the_right_password_is_a_form_error(client_in, user, password):
    response = edit(client_in, email="new@example.com", password=password, first_name="Zoé")

    assert response.status_code == 200
    errors = response.context["form"].errors["current_password"]
    expected = (
        "Your current password is not correct."
        if password
        else "Enter your current password to change your e-mail address."
    )
    assert errors == [expected]
    user.refresh_from_db()
    assert (user.email, user.first_name) == ("lea@example.com", "Léa")
    assert EmailChange.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


def test_names_change_at_once_without_a_password(client_in, user):
    response = edit(client_in, email="lea@example.com", first_name="Zoé", last_name="Roux")

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.email) == ("Zoé", "Roux", "lea@example.com")
    assert OutboxMessage.objects.count() == 0


def test_r39_new_address_waits_for_its_link_and_cannot_sign_in(client_in, user):
    response = edit(client_in, email="new@example.com", password=PASSWORD, first_name="Zoé")

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.email, user.first_name) == ("lea@example.com", "Zoé")
    (message,) = messages_to("new@example.com", "EMAIL_CHANGE_CONFIRM")
    assert message.subject == "Confirm your new e-mail address"
    assert "within 24 hours" in message.body
    assert messages_to("lea@example.com", "EMAIL_CHANGED") == []
    assert not Client().login(username="new@example.com", password=PASSWORD)
    assert Client().login(username="lea@example.com", password=PASSWORD)
    page = client_in.get(PROFILE)
    assert "We sent a confirmation link to new@example.com" in page.content.decode()


def test_r39_confirm_link_asks_on_get_and_works_once_on_post(client_in, user):
    path = requested(client_in)
    browser = Client()

    page = browser.get(path)
    assert page.status_code == 200
    assert "Use new@example.com to sign in from now on?" in page.content.decode()
    user.refresh_from_db()
    assert user.email == "lea@example.com"

    done = browser.post(path)
    assert done.status_code == 200
    assert "You now sign in with new@example.com." in done.content.decode()
    user.refresh_from_db()
    assert user.email == "new@example.com"
    assert Client().login(username="new@example.com", password=PASSWORD)

    again = browser.post(path)
    assert again.status_code == 400
    assert "This link has already been used." in again.content.decode()
    assert len(messages_to("lea@example.com", "EMAIL_CHANGED")) == 1


def test_r39_old_address_gets_one_message_with_an_undo_link(client_in, user):
    confirmed(client_in, user)

    (message,) = messages_to("lea@example.com", "EMAIL_CHANGED")
    assert message.subject == "Your e-mail address was changed"
    assert "now signs in with new@example.com instead of lea@example.com" in message.body
    assert "within 7 days" in message.body
    # Oscar's own "email changed" message (a password reset link) is not sent besides.
    assert "password-reset" not in message.body
    assert OutboxMessage.objects.filter(event_code="EMAIL_CHANGED").count() == 1
    assert OutboxMessage.objects.filter(event_code="PASSWORD_RESET").count() == 0


def test_r39_undo_restores_the_address_signs_out_everywhere_and_sends_a_reset(client_in, user):
    undo = confirmed(client_in, user)
    other_device = Client()
    other_device.force_login(User.objects.get(pk=user.pk))
    assert other_device.get(reverse("customer:profile-view")).status_code == 200

    page = Client().get(undo)
    assert page.status_code == 200
    user.refresh_from_db()
    assert user.email == "new@example.com"
    done = Client().post(undo)

    assert done.status_code == 200
    assert "Your account uses lea@example.com again." in done.content.decode()
    user.refresh_from_db()
    assert user.email == "lea@example.com"
    assert not user.check_password(PASSWORD)
    for session in (client_in, other_device):
        response = session.get(reverse("customer:profile-view"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("customer:login"))
    (reset,) = messages_to("lea@example.com", "PASSWORD_RESET")
    assert "/password-reset/confirm/" in reset.body
    assert Client().post(undo).status_code == 400
    assert EmailChange.objects.get().status == EmailChange.Status.UNDONE


def test_r39_expired_confirm_link_is_refused(client_in, user, monkeypatch):
    path = requested(client_in)
    later = time.time() + settings.ACCOUNT_EMAIL_CONFIRM_HOURS * 3600 + 1
    monkeypatch.setattr(signing.time, "time", lambda: later)

    response = Client().post(path)

    assert response.status_code == 400
    assert "This link has expired." in response.content.decode()
    user.refresh_from_db()
    assert user.email == "lea@example.com"


def test_r39_forged_link_is_refused(client_in, user):
    path = requested(client_in)
    change = EmailChange.objects.get()
    forged = signing.dumps({"change": change.pk, "to": "new@example.com"}, key="not-our-key")
    tampered = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]

    for bad in (reverse("accounts:email-confirm", kwargs={"token": forged}), tampered):
        response = Client().post(bad)
        assert response.status_code == 400
        assert "This link is not valid." in response.content.decode()
    user.refresh_from_db()
    assert user.email == "lea@example.com"


def test_an_undo_token_does_not_confirm_and_a_confirm_token_does_not_undo(client_in, user):
    confirm = requested(client_in)
    token = confirm.rstrip("/").rsplit("/", 1)[1]

    response = Client().post(reverse("accounts:email-undo", kwargs={"token": token}))

    assert response.status_code == 400
    user.refresh_from_db()
    assert user.email == "lea@example.com"


def test_r39_a_newer_request_replaces_the_older_link(client_in, user):
    first = requested(client_in)
    edit(client_in, email="other@example.com", password=PASSWORD)

    response = Client().post(first)

    assert response.status_code == 400
    assert "replaced by a newer request" in response.content.decode()
    user.refresh_from_db()
    assert user.email == "lea@example.com"


def test_r39_address_of_another_account_is_refused_without_naming_it(client_in, user):
    User.objects.create_user(username="zoe", email="taken@example.com", password=PASSWORD)

    response = edit(client_in, email="taken@example.com", password=PASSWORD)

    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "A user with this email address already exists"
    ]
    assert "zoe" not in response.content.decode()
    assert OutboxMessage.objects.count() == 0


def test_r39_address_taken_before_confirmation_is_refused(client_in, user):
    path = requested(client_in)
    User.objects.create_user(username="zoe", email="NEW@example.com", password=PASSWORD)

    response = Client().post(path)

    assert response.status_code == 400
    assert "already used by another account" in response.content.decode()
    user.refresh_from_db()
    assert user.email == "lea@example.com"


def test_r37_confirmation_sends_are_rate_limited_per_account(client_in, user):
    for n in range(5):
        assert edit(client_in, email=f"n{n}@example.com", password=PASSWORD).status_code == 302

    refused = edit(client_in, email="n5@example.com", password=PASSWORD)

    assert refused.status_code == 429
    assert "Too many e-mail address changes" in refused.content.decode()
    assert OutboxMessage.objects.filter(event_code="EMAIL_CHANGE_CONFIRM").count() == 5
    assert edit(client_in, email="lea@example.com", first_name="Zoé").status_code == 302


def test_r37_confirmation_sends_to_one_address_are_rate_limited_across_accounts(user):
    for n in range(6):
        other = User.objects.create_user(
            username=f"u{n}", email=f"u{n}@example.com", password=PASSWORD
        )
        client = Client()
        client.force_login(other)
        response = edit(client, email="victim@example.com", password=PASSWORD)
        assert response.status_code == (302 if n < 5 else 429)
    assert len(messages_to("victim@example.com", "EMAIL_CHANGE_CONFIRM")) == 5


def test_both_messages_keep_their_wording_if_their_rows_are_deleted(client_in, user):
    # Staff may delete an event type in the dashboard: Oscar then renders file templates,
    # ours (not Oscar's "email changed" with its password reset link).
    CommunicationEventType = get_model("communication", "CommunicationEventType")
    CommunicationEventType.objects.filter(
        code__in=["EMAIL_CHANGE_CONFIRM", "EMAIL_CHANGED"]
    ).delete()

    confirmed(client_in, user)

    (confirm,) = messages_to("new@example.com", "EMAIL_CHANGE_CONFIRM")
    assert confirm.subject == "Confirm your new e-mail address"
    (changed,) = messages_to("lea@example.com", "EMAIL_CHANGED")
    assert changed.subject == "Your e-mail address was changed"
    assert "/accounts/email/undo/" in changed.body
    assert changed.html.strip() == ""
