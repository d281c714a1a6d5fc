"""Enrolment: one member per customer, with a member number and a referral code."""

from __future__ import annotations

import secrets
from datetime import date

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q

from loyalty.models import (
    Gift,
    GiftLink,
    Member,
    MemberRecommendation,
    MemberStats,
    UtmLanding,
)
from loyalty.services.ledger import points_forfeit

# No 0/O or 1/I/L: codes are read aloud and typed on phones.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def luhn_check_digit(digits: str) -> str:
    """The Luhn check digit for `digits`, so one wrong or swapped digit is caught."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char)
        if i % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def member_number_is_valid(number: str) -> bool:
    return len(number) == 10 and number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]


def _new_number() -> str:
    body = str(secrets.randbelow(9 * 10**8) + 10**8)  # nine digits, no leading zero
    return body + luhn_check_digit(body)


def _new_referral_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


def member_enrol(*, user: User, birthday: date | None = None) -> Member:
    """The user's member, enrolling them first if needed (idempotent)."""
    existing = Member.objects.filter(user=user).first()
    if existing is not None:
        return existing
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Member.objects.create(
                    user=user,
                    number=_new_number(),
                    referral_code=_new_referral_code(),
                    birthday=birthday,
                )
        except IntegrityError:
            # A concurrent enrolment of the same user, or (rarely) a random collision.
            existing = Member.objects.filter(user=user).first()
            if existing is not None:
                return existing
    raise RuntimeError("could not allocate a unique member number")


def member_erase(*, user: User) -> Member | None:
    """The loyalty side of erasing `user`'s account (README "Erasure"), in one transaction.

    Open pending points are cancelled and the balance is forfeited through the ledger
    (entries stay for the books: they hold amounts, orders and reasons, no names); the
    birthday is forgotten and the referral code replaced, so an old share link stops
    naming this member; their recommendations are deleted, their open gift links cancelled
    and the messages of gifts and gift links they gave or received blanked. Returns the
    member, or None for a user who never enrolled.
    Their UTM landings are deleted, member or not.
    """
    # Which campaigns' posters, posts or links brought them to the shop goes too.
    UtmLanding.objects.filter(user=user).delete()
    member = Member.objects.filter(user=user).first()
    if member is None:
        return None
    # Imported here: gift_links imports gifts, which imports this module.
    from loyalty.services.gift_links import gift_links_withdraw

    with transaction.atomic():
        # Points set aside in open gift links come back first, then go with the rest.
        gift_links_withdraw(sender=member)
        points_forfeit(member=member)
        Member.objects.filter(pk=member.pk).update(
            birthday=None, referral_code=_new_referral_code()
        )
        MemberStats.objects.filter(member=member).update(language="")
        # What the shop inferred about their tastes goes with them.
        MemberRecommendation.objects.filter(member=member).delete()
        # Gift messages are free text, written by or to them (R23).
        for gifts in (Gift.objects, GiftLink.objects):
            gifts.filter(Q(sender=member) | Q(recipient=member)).exclude(message="").update(
                message=""
            )
    member.refresh_from_db()
    return member
