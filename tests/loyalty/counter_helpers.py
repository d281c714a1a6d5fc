"""Staff of each role at the member counter, with the permissions the README's roles
table gives them (set on the user here, so these tests do not depend on the groups)."""

import itertools

from django.contrib.auth.models import Permission
from django.test import Client
from oscar.core.loading import get_model
from oscar.test.factories import UserFactory

Partner = get_model("partner", "Partner")
_seq = itertools.count(1)

COUNTER = ["loyalty.view_member", "loyalty.adjust_points"]
SUPPORT = [*COUNTER, "loyalty.approve_points_adjustment"]
MARKETER = ["loyalty.change_earningrule", "loyalty.view_multiplier", "loyalty.view_tierlevel"]


def _permissions(names: list[str]) -> list[Permission]:
    found = []
    for name in names:
        app_label, codename = name.split(".")
        found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return found


def user_with(perms: list[str], *, is_staff: bool, partner=None, email: str | None = None):
    user = UserFactory(is_staff=is_staff, email=email or f"staff{next(_seq)}@solomo.example")
    user.user_permissions.add(*_permissions(perms))
    if partner is not None:
        partner.users.add(user)
    return user


def store_partner(name: str):
    return Partner.objects.create(name=name, code=f"counter-{next(_seq)}")


def store_staff(partner):
    """Not is_staff: Oscar's partner dashboard access, the counter, one store."""
    return user_with(["partner.dashboard_access", *COUNTER], is_staff=False, partner=partner)


def support():
    return user_with(SUPPORT, is_staff=True)


def marketer():
    return user_with(MARKETER, is_staff=True)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
