"""Key pairs a browser and a server would hold for Web Push, generated per test run."""

import base64
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def subscriber_keys() -> tuple[str, str]:
    """(p256dh, auth) as a browser's PushSubscription.toJSON() gives them."""
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    raw = public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(raw), b64url(os.urandom(16))


def vapid_keys() -> tuple[str, str]:
    """(public application server key, raw private key), both base64url."""
    private = ec.generate_private_key(ec.SECP256R1())
    raw_private = private.private_numbers().private_value.to_bytes(32, "big")
    raw_public = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(raw_public), b64url(raw_private)
