"""Web Push subscriptions: validating what a browser sends, storing one row per device.

A subscription's endpoint is a URL the worker will POST to, and the browser (anyone) picks
it. So only https URLs on the known push services' hosts (PUSH_ALLOWED_HOSTS) are taken,
and only when every address their name resolves to is a public one: no loopback, private,
link-local, reserved or multicast address, so the worker cannot be made to reach a host of
the internal network (server-side request forgery). endpoint_check() runs at subscribe
time and again before each send.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from .models import PushSubscription


class InvalidSubscription(ValueError):
    """The payload is not a PushSubscription.toJSON() we can send to; says why."""


class EndpointRefused(InvalidSubscription):
    """The endpoint is not a known push service at a public address: never sent to."""


class EndpointUnresolved(InvalidSubscription):
    """The endpoint's host name could not be resolved just now (DNS failure)."""


def push_host_allowed(host: str) -> bool:
    """Whether `host` is one of PUSH_ALLOWED_HOSTS: an exact name, or "*.example.com" for
    any name below example.com (not example.com itself)."""
    host = host.lower().rstrip(".")
    for allowed in settings.PUSH_ALLOWED_HOSTS:
        allowed = allowed.strip().lower().rstrip(".")
        if allowed.startswith("*.") and host.endswith(allowed[1:]) and len(host) > len(allowed):
            return True
        if host == allowed:
            return True
    return False


def address_public(address: str) -> bool:
    """Whether `address` (as getaddrinfo gives it) is a public unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone is not part of it
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address inside an IPv6 one reaches that IPv4 address.
        ip = ip.ipv4_mapped or ip.sixtofour or ip
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def endpoint_check(endpoint: str) -> None:
    """Raise EndpointRefused unless `endpoint` is https://<an allowed host>[:443]/... and
    every address its host resolves to is public; EndpointUnresolved when DNS fails.

    With PUSH_ENDPOINT_CHECKS off (only tests delivering to a local fake push service)
    nothing is checked.
    """
    if not settings.PUSH_ENDPOINT_CHECKS:
        return
    parts = urlsplit(endpoint)
    try:
        port = parts.port
    except ValueError as exc:
        raise EndpointRefused("endpoint has an invalid port") from exc
    if parts.scheme != "https" or not parts.hostname:
        raise EndpointRefused("endpoint must be an https:// URL")
    if parts.username is not None or port not in (None, 443):
        raise EndpointRefused("endpoint must not carry credentials or a port other than 443")
    if not push_host_allowed(parts.hostname):
        raise EndpointRefused(f"{parts.hostname} is not a known push service")
    try:
        found = socket.getaddrinfo(parts.hostname, 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise EndpointUnresolved(f"{parts.hostname} could not be resolved") from exc
    addresses = {str(info[4][0]) for info in found}
    if not addresses:
        raise EndpointUnresolved(f"{parts.hostname} could not be resolved")
    if not all(address_public(address) for address in addresses):
        raise EndpointRefused(f"{parts.hostname} resolves to a non-public address")


def _b64url_decode(value: object, field: str) -> bytes:
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
    endpoint_check(endpoint)  # last: it asks DNS
    return {"endpoint": endpoint, "p256dh": keys["p256dh"], "auth": keys["auth"]}


@transaction.atomic
def subscription_save(*, user: User, payload: object, user_agent: str = "") -> PushSubscription:
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


def subscription_delete(*, user: User, endpoint: str) -> int:
    """Forget this user's subscription for `endpoint`; returns how many were deleted."""
    deleted, _ = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    return deleted
