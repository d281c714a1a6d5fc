"""Signed links to a pickup's status page, for guests who have no account to sign in to.

The token is the order number signed with the project's SECRET_KEY: whoever has the
link (the thank-you page, the messages sent to the customer) sees that one order's
pickup and can say they are at the store; nothing else can be guessed from it.
"""

from django.core import signing
from django.urls import reverse

SALT = "stores.pickup-link"


def pickup_link_token(*, order_number: str) -> str:
    return signing.dumps(str(order_number), salt=SALT)


def pickup_link_url(*, order_number: str) -> str:
    return reverse(
        "stores:pickup-status", kwargs={"token": pickup_link_token(order_number=order_number)}
    )


def pickup_link_order_number(*, token: str) -> str | None:
    """The order number the token was made for, or None if it was not made by us."""
    try:
        return signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
