"""What staff may see of a message's recipient (README "Notifications").

Superusers see addresses and numbers in full; every other member of staff sees enough to
recognise a customer on the phone (first letter and domain, country code and last digits),
not enough to write to them.
"""

from urllib.parse import urlsplit

import phonenumbers

MASK = "•"


def email_mask(address: str) -> str:
    """claire@example.com -> c•••@example.com"""
    local, at, domain = address.partition("@")
    if not at:
        return MASK * 3
    return f"{local[:1]}{MASK * 3}@{domain}"


def phone_mask(number: str) -> str:
    """+33612345678 -> +33 6 •• •• •• 78: the country code, the first and last two digits."""
    try:
        parsed = phonenumbers.parse(number, None)
        formatted = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        country = f"+{parsed.country_code}"
    except phonenumbers.NumberParseException:
        formatted, country = number, ""
    head, rest = formatted[: len(country)], formatted[len(country) :]
    digits = [index for index, char in enumerate(rest) if char.isdigit()]
    keep = set(digits[:1] + digits[-2:]) if len(digits) > 4 else set()
    masked = "".join(
        MASK if char.isdigit() and index not in keep else char for index, char in enumerate(rest)
    )
    return head + masked


def endpoint_mask(endpoint: str) -> str:
    """A push endpoint is a bearer capability: only its push service's host is shown."""
    host = urlsplit(endpoint).hostname or ""
    return f"{host}/{MASK * 3}" if host else MASK * 3


def recipient_mask(*, channel: str, recipient: str) -> str:
    if channel == "sms":
        return phone_mask(recipient)
    if channel == "push":
        return endpoint_mask(recipient)
    return email_mask(recipient)


def recipient_for(user, *, channel: str, recipient: str) -> str:
    """The recipient as `user` may see it."""
    if user.is_superuser:
        return recipient
    return recipient_mask(channel=channel, recipient=recipient)
