"""Customers' channel preferences for service messages, and marketing consent (R41)."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from .models import Channel, ConsentRecord, NotificationPreference, Purpose, PushSubscription

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def phone_normalise(value: str) -> str:
    """Spaces, dots and dashes removed; raises ValueError unless E.164 (+33612345678)."""
    phone = re.sub(r"[\s.\-()]", "", value or "")
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    if not E164.match(phone):
        raise ValueError("Enter the number in international format, e.g. +33 6 12 34 56 78.")
    return phone


def preference_for(*, user: User) -> NotificationPreference:
    """The user's preferences, or unsaved defaults (email and push on, SMS off)."""
    try:
        return user.notification_preference
    except NotificationPreference.DoesNotExist:
        return NotificationPreference(user=user)


def preference_update(
    *, user: User, email: bool, sms: bool, push: bool, phone_number: str = ""
) -> NotificationPreference:
    """Save the channels a customer wants for order and pickup updates."""
    phone = phone_normalise(phone_number) if phone_number else ""
    if sms and not phone:
        raise ValueError("SMS needs a mobile number.")
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user, defaults={"email": email, "sms": sms, "push": push, "phone_number": phone}
    )
    return preference


def service_channels_for(*, user: User) -> list[Channel]:
    """Channels a service message to `user` goes out on: chosen AND reachable.

    A customer without a phone number or push subscription just gets the others.
    """
    preference = preference_for(user=user)
    result: list[Channel] = []
    if preference.email and user.email:
        result.append(Channel.EMAIL)
    if preference.sms and preference.phone_number:
        result.append(Channel.SMS)
    if preference.push and PushSubscription.objects.filter(user=user).exists():
        result.append(Channel.PUSH)
    return result


def consent_record(
    *,
    user: User,
    channel: str,
    granted: bool,
    source: str,
    purpose: str = Purpose.MARKETING,
    policy_version: str | None = None,
) -> ConsentRecord:
    """Append a grant or withdrawal; the latest record is the person's current choice."""
    return ConsentRecord.objects.create(
        user=user,
        purpose=purpose,
        channel=channel,
        action=ConsentRecord.Action.GRANTED if granted else ConsentRecord.Action.WITHDRAWN,
        recorded_at=timezone.now(),
        source=source,
        policy_version=policy_version or settings.MARKETING_POLICY_VERSION,
    )


def consents_current(*, user: User, purpose: str = Purpose.MARKETING) -> dict[str, bool]:
    """{channel: granted} from each channel's latest record (absent = not granted)."""
    state: dict[str, bool] = dict.fromkeys(Channel.values, False)
    seen: set[str] = set()
    for record in ConsentRecord.objects.filter(user=user, purpose=purpose).order_by(
        "-recorded_at", "-id"
    ):
        if record.channel not in seen:
            seen.add(record.channel)
            state[record.channel] = record.action == ConsentRecord.Action.GRANTED
    return state


def marketing_consent_granted(*, user: User, channel: str) -> bool:
    """True only if the latest marketing consent record for `channel` is a grant.

    Campaign sends call this at send time (R28, R41).
    """
    latest = (
        ConsentRecord.objects.filter(user=user, purpose=Purpose.MARKETING, channel=channel)
        .order_by("-recorded_at", "-id")
        .values_list("action", flat=True)
        .first()
    )
    return latest == ConsentRecord.Action.GRANTED


@transaction.atomic
def consents_update(*, user: User, wanted: dict[str, bool], source: str) -> list[ConsentRecord]:
    """Record a grant/withdrawal only for channels whose choice changed."""
    current = consents_current(user=user)
    return [
        consent_record(user=user, channel=channel, granted=granted, source=source)
        for channel, granted in wanted.items()
        if current.get(channel, False) != granted
    ]
