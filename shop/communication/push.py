"""Web Push subscriptions: validating what a browser sends, storing one row per device."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlsplit

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from .models import PushSubscription


class InvalidSubscription(ValueError):
    """The payload is not a PushSubscription.toJSON() we can send to; says why."""


def _b64url_decode(value: str, field: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise InvalidSubscription(f"keys.{field} is missing")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidSubscription(f"keys.{field} is not base64url") from exc


def subscription_validate(payload: object) -> dict[str, str]:
    """Return {endpoint, p256dh, auth} from a browser's subscription JSON, or raise."""
    if not isinstance(payload, dict):
        raise InvalidSubscription("expected a JSON object")
    endpoint = payload.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        raise InvalidSubscription("endpoint is missing")
    parts = urlsplit(endpoint)
    if parts.scheme != "https" or not parts.hostname:
        raise InvalidSubscription("endpoint must be an https:// URL")
    if len(endpoint) > 1000:
        raise InvalidSubscription("endpoint is too long")
    keys = payload.get("keys")
    if not isinstance(keys, dict):
        raise InvalidSubscription("keys is missing")
    p256dh = _b64url_decode(keys.get("p256dh"), "p256dh")
    if len(p256dh) != 65 or p256dh[0] != 4:
        raise InvalidSubscription("keys.p256dh is not an uncompressed P-256 public key")
    if len(_b64url_decode(keys.get("auth"), "auth")) != 16:
        raise InvalidSubscription("keys.auth must be 16 bytes")
    return {"endpoint": endpoint, "p256dh": keys["p256dh"], "auth": keys["auth"]}


@transaction.atomic
def subscription_save(
    *, user: AbstractBaseUser, payload: object, user_agent: str = ""
) -> PushSubscription:
    """Store (or move to `user`) the subscription of this browser; raises InvalidSubscription."""
    data = subscription_validate(payload)
    subscription, _ = PushSubscription.objects.update_or_create(
        endpoint=data["endpoint"],
        defaults={
            "user": user,
            "p256dh": data["p256dh"],
            "auth": data["auth"],
            "user_agent": user_agent[:255],
        },
    )
    return subscription


def subscription_delete(*, user: AbstractBaseUser, endpoint: str) -> int:
    """Forget this user's subscription for `endpoint`; returns how many were deleted."""
    deleted, _ = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    return deleted
