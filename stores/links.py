"""Signed links to a pickup's status page, for guests who have no account to sign in to.

The token is the order number signed with the project's SECRET_KEY and the time it was
made: whoever has the link (the thank-you page, the messages sent to the customer) sees
that one order's pickup and can say they are at the store; nothing else can be guessed
from it. A link stops working STORES_STATUS_LINK_DAYS after the pickup's slot (README,
"Environment variables"); the signature's own age is capped too, so a link made for
a slot can never outlive it by more than that.
"""

import datetime as dt

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .models import Pickup

SALT = "stores.pickup-link"


class PickupLinkExpired(Exception):
    """The link was ours but is too old to use."""


def pickup_link_token(*, order_number: str) -> str:
    return signing.dumps(str(order_number), salt=SALT)


def pickup_link_url(*, order_number: str) -> str:
    return reverse(
        "stores:pickup-status", kwargs={"token": pickup_link_token(order_number=order_number)}
    )


def _max_age() -> dt.timedelta:
    # Links are made from the order (up to STORES_SLOT_DAYS before the slot) onwards.
    return dt.timedelta(days=settings.STORES_SLOT_DAYS + settings.STORES_STATUS_LINK_DAYS)


def pickup_link_order_number(*, token: str) -> str | None:
    """The order number the token was made for, or None if it was not made by us.

    Raises PickupLinkExpired when the signature is ours but older than any slot allows.
    """
    try:
        return signing.loads(token, salt=SALT, max_age=_max_age())
    except signing.SignatureExpired as exc:
        raise PickupLinkExpired from exc
    except signing.BadSignature:
        return None


def pickup_link_expires_at(*, pickup: Pickup) -> dt.datetime:
    """When links to this pickup stop working: STORES_STATUS_LINK_DAYS after its slot."""
    return pickup.slot.ends_at + dt.timedelta(days=settings.STORES_STATUS_LINK_DAYS)
