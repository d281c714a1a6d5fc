"""E-mail address changes (R39): request, confirm by a link, undo from the old address.

Each function is one transaction that locks the user's row, so a confirmation and an
undo of the same account never interleave. Messages are written to the outbox in that
transaction (shop.communication's Dispatcher) and delivered after commit.

Links carry a token signed with SECRET_KEY (django.core.signing) naming the change; the
signature's timestamp bounds its life (ACCOUNT_EMAIL_CONFIRM_HOURS to confirm,
ACCOUNT_EMAIL_UNDO_DAYS to undo) and the change's status makes it single-use.
"""

import datetime as dt
import secrets
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from oscar.apps.customer.utils import CustomerDispatcher, get_password_reset_url
from oscar.core.loading import get_class

from .models import EmailChange

CONFIRM_EVENT_CODE = "EMAIL_CHANGE_CONFIRM"
CHANGED_EVENT_CODE = "EMAIL_CHANGED"

_CONFIRM_SALT = "shop.accounts.email-change.confirm"
_UNDO_SALT = "shop.accounts.email-change.undo"
_INVALID = _("This link is not valid. Check that you copied all of it.")

# Builds an absolute URL (scheme and host of the request) from a path.
AbsoluteUrl = Callable[[str], str]


class EmailChangeLinkError(Exception):
    """A confirmation or undo link that cannot be used; `str()` says why, for the user."""


def confirm_token(change: EmailChange) -> str:
    return signing.dumps({"change": change.pk, "to": change.new_email}, salt=_CONFIRM_SALT)


def undo_token(change: EmailChange) -> str:
    return signing.dumps({"change": change.pk, "from": change.old_email}, salt=_UNDO_SALT)


def _confirm_max_age() -> dt.timedelta:
    return dt.timedelta(hours=settings.ACCOUNT_EMAIL_CONFIRM_HOURS)


def _undo_max_age() -> dt.timedelta:
    return dt.timedelta(days=settings.ACCOUNT_EMAIL_UNDO_DAYS)


def _email_taken(email: str, *, by_other_than: int) -> bool:
    User = get_user_model()
    return User._default_manager.filter(email__iexact=email).exclude(pk=by_other_than).exists()


def email_change_for_token(*, token: str, undo: bool = False) -> EmailChange:
    """The change a confirmation (or `undo`) link names, if its signature is good and has
    not expired; its status is not checked here.

    Raises EmailChangeLinkError for a forged, damaged or expired link.
    """
    try:
        if undo:
            payload = signing.loads(token, salt=_UNDO_SALT, max_age=_undo_max_age())
        else:
            payload = signing.loads(token, salt=_CONFIRM_SALT, max_age=_confirm_max_age())
    except signing.SignatureExpired as exc:
        if undo:
            raise EmailChangeLinkError(_("This link has expired.")) from exc
        raise EmailChangeLinkError(
            _("This link has expired. Change your e-mail address again to get a new one.")
        ) from exc
    except signing.BadSignature as exc:
        raise EmailChangeLinkError(_INVALID) from exc
    if not isinstance(payload, dict):
        raise EmailChangeLinkError(_INVALID)
    change_pk = payload.get("change")
    change = (
        EmailChange.objects.filter(pk=change_pk).first() if isinstance(change_pk, int) else None
    )
    # The address in the token must be the change's: a token never outlives its change's
    # row being reused, whatever happens to primary keys.
    address = change and (change.old_email if undo else change.new_email)
    if change is None or address != payload.get("from" if undo else "to"):
        raise EmailChangeLinkError(_INVALID)
    return change


def email_change_request(*, user, new_email: str, absolute: AbsoluteUrl) -> EmailChange:
    """Record that `user` wants to sign in with `new_email` and send it a confirmation link.

    The account keeps its current address until the link is followed; an earlier pending
    request is superseded (its link stops working).
    """
    User = get_user_model()
    with transaction.atomic():
        user = User._default_manager.select_for_update().get(pk=user.pk)
        EmailChange.objects.filter(user=user, status=EmailChange.Status.PENDING).update(
            status=EmailChange.Status.SUPERSEDED
        )
        change = EmailChange.objects.create(user=user, old_email=user.email, new_email=new_email)
        url = absolute(reverse("accounts:email-confirm", kwargs={"token": confirm_token(change)}))
        _send(
            CONFIRM_EVENT_CODE,
            to=new_email,
            user=user,
            context={
                "user": user,
                "new_email": new_email,
                "confirm_url": url,
                "hours": settings.ACCOUNT_EMAIL_CONFIRM_HOURS,
            },
        )
    return change


def email_change_confirm(*, token: str, absolute: AbsoluteUrl) -> EmailChange:
    """Follow a confirmation link: the account's address becomes the new one, once.

    The old address is told, with a link that undoes the change. Raises
    EmailChangeLinkError (nothing changed) if the link is bad, expired, used, replaced by
    a newer request, or the address was taken by another account in the meantime.
    """
    User = get_user_model()
    change = email_change_for_token(token=token)
    with transaction.atomic():
        user = User._default_manager.select_for_update().get(pk=change.user_id)
        change = EmailChange.objects.select_for_update().get(pk=change.pk)
        if change.status == EmailChange.Status.CONFIRMED:
            raise EmailChangeLinkError(_("This link has already been used."))
        if change.status != EmailChange.Status.PENDING or user.email != change.old_email:
            raise EmailChangeLinkError(
                _("This link was replaced by a newer request or cancelled. Use the latest one.")
            )
        if _email_taken(change.new_email, by_other_than=user.pk):
            raise EmailChangeLinkError(_("This e-mail address is already used by another account."))
        user.email = change.new_email
        user.save(update_fields=["email"])
        change.status = EmailChange.Status.CONFIRMED
        change.confirmed_at = timezone.now()
        change.save(update_fields=["status", "confirmed_at"])
        url = absolute(reverse("accounts:email-undo", kwargs={"token": undo_token(change)}))
        _send(
            CHANGED_EVENT_CODE,
            to=change.old_email,
            user=user,
            context={
                "user": user,
                "old_email": change.old_email,
                "new_email": change.new_email,
                "undo_url": url,
                "days": settings.ACCOUNT_EMAIL_UNDO_DAYS,
            },
        )
    return change


def email_change_undo(*, token: str) -> EmailChange:
    """Follow an undo link: the old address is back, every session of the account ends
    and a password reset link goes to the old address, once.

    The password is replaced by a random one: Django ties each session to the password
    hash, so this signs the account out everywhere, and whoever made the change cannot
    sign in again. Raises EmailChangeLinkError (nothing changed) if the link is bad,
    expired or used, or the old address now belongs to another account.
    """
    User = get_user_model()
    change = email_change_for_token(token=token, undo=True)
    with transaction.atomic():
        user = User._default_manager.select_for_update().get(pk=change.user_id)
        change = EmailChange.objects.select_for_update().get(pk=change.pk)
        if change.status == EmailChange.Status.UNDONE:
            raise EmailChangeLinkError(_("This link has already been used."))
        if change.status != EmailChange.Status.CONFIRMED:
            raise EmailChangeLinkError(_INVALID)
        if _email_taken(change.old_email, by_other_than=user.pk):
            raise EmailChangeLinkError(
                _(
                    "This address is now used by another account, so it cannot be put back. "
                    "Please contact us."
                )
            )
        user.email = change.old_email
        user.set_password(secrets.token_urlsafe(32))
        user.save(update_fields=["email", "password"])
        EmailChange.objects.filter(user=user, status=EmailChange.Status.PENDING).update(
            status=EmailChange.Status.SUPERSEDED
        )
        change.status = EmailChange.Status.UNDONE
        change.undone_at = timezone.now()
        change.save(update_fields=["status", "undone_at"])
        # Oscar's own password reset message, as its "forgotten password" form sends it;
        # the token is made after the new password hash, which it depends on.
        CustomerDispatcher().send_password_reset_email_for_user(
            user,
            {
                "user": user,
                "site": Site.objects.get_current(),
                "reset_url": get_password_reset_url(user),
                "request": None,
            },
        )
    return change


def _send(event_code: str, *, to: str, user, context: dict) -> None:
    Dispatcher = get_class("communication.utils", "Dispatcher")
    dispatcher = Dispatcher()
    messages = dispatcher.get_messages(
        event_code, {"shop_name": settings.OSCAR_SHOP_NAME, **context}
    )
    dispatcher.send_email_messages(to, messages, user=user)
