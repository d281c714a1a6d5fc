"""A buyer's pickup shared with a friend: a second, revocable pass (docs/guarantees.md R47).

The pass has its own link and its own six-digit code, both keyed hashes (SECRET_KEY) of the
row's id and random nonce: nothing stored reads as either, so the admin, the dashboard and
a copy of the database show neither. Only the buyer, signed in, creates or revokes a pass;
whoever holds the link sees the pass page, which shows this pickup and nothing else of the
buyer's account.

Creating, revoking and handing over all lock the pickup row first, so a revocation and a
hand-over with the friend's code never overlap: the one that commits first wins, and from
the moment a revocation commits the code is refused at the counter.
"""

import datetime as dt
import re
from typing import TYPE_CHECKING

from django.db import transaction
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _

from .messages import COLLECTED_BY_FRIEND_EVENT_CODE, pickup_event_type
from .models import Pickup, SharedPickupPass
from .services import (
    ACTIVE,
    QR_PREFIX,
    PickupCodeInvalid,
    pickup_hand_over,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

FRIEND_NAME_MAX = 60
_TOKEN = re.compile(r"^(\d{1,18})-([0-9a-f]{32})$")


class SharingRefused(Exception):
    """The pass cannot be created or revoked as asked; the message is for the buyer."""


def _mac(purpose: str, shared: SharedPickupPass) -> str:
    return salted_hmac(
        f"stores.shared-pass.{purpose}", f"{shared.pk}:{shared.nonce}", algorithm="sha256"
    ).hexdigest()


def shared_pass_token(*, shared: SharedPickupPass) -> str:
    """The pass's link token: its id and 128 bits of keyed hash (unguessable)."""
    return f"{shared.pk}-{_mac('link', shared)[:32]}"


def shared_pass_url(*, shared: SharedPickupPass) -> str:
    return reverse("stores:friend-pass", kwargs={"token": shared_pass_token(shared=shared)})


def shared_pass_code(*, shared: SharedPickupPass) -> str:
    """The friend's six-digit code, shown only on the pass page."""
    return f"{int(_mac('code', shared), 16) % 1_000_000:06d}"


def shared_pass_qr_payload(*, shared: SharedPickupPass) -> str:
    # The buyer's QR format (stores.services.pickup_qr_payload): staff scan it the same way.
    return f"{QR_PREFIX}:{shared.pickup.order.number}:{shared_pass_code(shared=shared)}"


def shared_pass_from_token(*, token: str) -> SharedPickupPass | None:
    """The pass `token` was made for (revoked or not), or None if it was not made by us."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    shared = (
        SharedPickupPass.objects.select_related("pickup__order", "pickup__store", "pickup__slot")
        .filter(pk=int(match.group(1)))
        .first()
    )
    if shared is None or not constant_time_compare(match.group(2), _mac("link", shared)[:32]):
        return None
    return shared


def shared_pass_active(*, pickup: Pickup) -> SharedPickupPass | None:
    """The pickup's pass that is not revoked (at most one), or None."""
    return SharedPickupPass.objects.filter(pickup=pickup, revoked_at__isnull=True).first()


def _lock_buyers_open_pickup(pickup: Pickup, user: "User | AnonymousUser") -> Pickup:
    locked = Pickup.objects.select_for_update().select_related("order").get(pk=pickup.pk)
    if not user.is_authenticated or locked.order.user_id != user.pk:
        # Views answer 404 before this; a caller that skipped the check is refused too.
        raise SharingRefused(_("Only the customer who placed the order can share its pickup."))
    if locked.status not in ACTIVE:
        raise SharingRefused(
            _("This order is %(status)s: its pickup can no longer be shared.")
            % {"status": locked.get_status_display()}
        )
    return locked


@transaction.atomic
def shared_pass_create(
    *,
    pickup: Pickup,
    user: "User | AnonymousUser",
    friend_name: str,
    language: str,
    now: dt.datetime,
) -> SharedPickupPass:
    """A new pass for an open pickup of `user`'s, revoking the one before (if any).

    Refused (SharingRefused) for anyone but the buyer and for a collected or cancelled
    pickup. The pickup row is locked first (see the module docstring). The new code is
    never the buyer's own, so the counter always knows who collected.
    """
    locked = _lock_buyers_open_pickup(pickup, user)
    name = " ".join(friend_name.split())
    if len(name) > FRIEND_NAME_MAX:
        raise SharingRefused(
            _("The friend's name can have at most %(max)d characters.") % {"max": FRIEND_NAME_MAX}
        )
    SharedPickupPass.objects.filter(pickup=locked, revoked_at__isnull=True).update(revoked_at=now)
    shared = SharedPickupPass.objects.create(
        pickup=locked, friend_name=name, language=language, created_at=now
    )
    while shared_pass_code(shared=shared) == locked.code:
        shared.nonce = SharedPickupPass._meta.get_field("nonce").get_default()
        shared.save(update_fields=["nonce"])
    return shared


@transaction.atomic
def shared_pass_revoke(*, pickup: Pickup, user: "User | AnonymousUser", now: dt.datetime) -> int:
    """Revoke the pickup's pass: its code is refused at the counter once this commits.

    Returns how many passes were revoked (0 when none was active). Refused
    (SharingRefused) for anyone but the buyer and once the pickup is closed.
    """
    locked = _lock_buyers_open_pickup(pickup, user)
    return SharedPickupPass.objects.filter(pickup=locked, revoked_at__isnull=True).update(
        revoked_at=now
    )


def _code_matches(shared: SharedPickupPass, given: str) -> bool:
    given = given.strip()
    if given.startswith(f"{QR_PREFIX}:"):
        expected = shared_pass_qr_payload(shared=shared)
    else:
        expected = shared_pass_code(shared=shared)
    return constant_time_compare(given, expected)


@transaction.atomic
def pickup_hand_over_by_code(
    *, pickup: Pickup, code: str, now: dt.datetime
) -> SharedPickupPass | None:
    """Hand the pickup over to whoever shows its buyer's code or its shared pass's code.

    Returns the shared pass when the friend's code collected it (the buyer is then told
    once this commits), else None. A code of a revoked pass is refused with a message
    saying so (PickupCodeInvalid); any other wrong code as stores.services.pickup_hand_over
    refuses it. The pickup row is locked before the passes are read (module docstring).
    """
    Pickup.objects.select_for_update().filter(pk=pickup.pk).first()
    shared = next(
        (
            candidate
            for candidate in SharedPickupPass.objects.filter(pickup=pickup).select_related(
                "pickup__order"
            )
            if _code_matches(candidate, code)
        ),
        None,
    )
    if shared is None:
        pickup_hand_over(pickup=pickup, code=code, now=now)
        return None
    if shared.revoked_at is not None:
        raise PickupCodeInvalid(
            _(
                "This code is from a shared pass the customer has revoked: it no longer "
                "collects the order. Ask for the customer's own code."
            )
        )
    # The friend's code was checked above; the hand-over itself is the buyer's.
    pickup_hand_over(pickup=pickup, code=pickup.code, now=now)
    SharedPickupPass.objects.filter(pk=shared.pk).update(collected_at=now)
    shared.collected_at = now
    transaction.on_commit(lambda: _notify_buyer(shared.pk))
    return shared


def _notify_buyer(shared_id: int) -> None:
    """Tell the buyer their friend collected the order, in the language they shared in."""
    from oscar.core.loading import get_class

    OrderDispatcher = get_class("order.utils", "OrderDispatcher")
    shared = SharedPickupPass.objects.select_related("pickup__order").get(pk=shared_id)
    order = shared.pickup.order
    if order.user is None:
        return
    pickup_event_type(COLLECTED_BY_FRIEND_EVENT_CODE)
    with override(shared.language or get_language()):
        dispatcher = OrderDispatcher()
        messages = dispatcher.dispatcher.get_messages(
            COLLECTED_BY_FRIEND_EVENT_CODE,
            {
                "order": order,
                "friend_name": shared.friend_name,
                "status_path": reverse("customer:order", kwargs={"order_number": order.number}),
            },
        )
        dispatcher.dispatch_order_messages(order, messages, COLLECTED_BY_FRIEND_EVENT_CODE)


def buyer_label(order: object) -> str:
    """How staff name the buyer: full name, else e-mail (as the pickup's page does)."""
    user = getattr(order, "user", None)
    if user is not None:
        return user.get_full_name() or user.email
    return getattr(order, "guest_email", "")


def friend_note(*, pickup: Pickup) -> str:
    """What staff see about a friend collecting `pickup`, or "" (none shared, or revoked).

    Reads `pickup.shared_passes.all()`, so a queue prefetches it once for every row.
    """
    shared = next((p for p in pickup.shared_passes.all() if p.revoked_at is None), None)
    if shared is None:
        return ""
    values = {"buyer": buyer_label(pickup.order), "friend": shared.friend_name}
    if shared.collected_at is not None:
        if shared.friend_name:
            return _("Collected by %(friend)s, a friend of %(buyer)s") % values
        return _("Collected by a friend of %(buyer)s") % values
    if pickup.status not in ACTIVE:
        return ""
    if shared.friend_name:
        return _("May be collected by %(friend)s, a friend of %(buyer)s") % values
    return _("May be collected by a friend of %(buyer)s") % values
