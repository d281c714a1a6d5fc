"""The eight roles of README "Roles and permissions", made as the shop makes them.

Staff roles get their group from shop/security/roles.py (`role_give`), so a test sees
exactly the permissions a shop's people have; store staff of store A and of store B are
users of their store's partner, in "Store staff", not `is_staff`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from shop.security import roles
from stores.models import Store
from tests.stores.factories import store

ROLES = (
    "superuser",
    "catalogue manager",
    "marketer",
    "support",
    "store A staff",
    "store B staff",
    "shopper",
    "anonymous",
)

_HQ_ROLES = {
    "catalogue manager": roles.CATALOGUE_MANAGER,
    "marketer": roles.MARKETER,
    "support": roles.SUPPORT_AGENT,
}


@dataclass
class Cast:
    store_a: Store
    store_b: Store
    # "anonymous" is None.
    users: dict


def role_user(role: str, *, store_a: Store, store_b: Store):
    """A user with `role` (one of ROLES); None for "anonymous"."""
    user_model = get_user_model()
    email = f"{role.replace(' ', '-').lower()}@roles.test"
    if role == "anonymous":
        return None
    if role == "superuser":
        return user_model.objects.create_superuser(email, email, "pw")
    user = user_model.objects.create_user(email, email, "pw")
    if role in _HQ_ROLES:
        roles.role_give(user, _HQ_ROLES[role])
    elif role in ("store A staff", "store B staff"):
        own = store_a if role == "store A staff" else store_b
        roles.role_give(user, roles.STORE_STAFF_MEMBER, partner=own.partner)
    elif role != "shopper":
        raise ValueError(f"Unknown role {role!r}; one of {ROLES}")
    return user


def cast_create() -> Cast:
    """Store A, store B and one user per role (the roles' groups synced first)."""
    roles.roles_sync()
    store_a, store_b = store("Store A"), store("Store B")
    users = {role: role_user(role, store_a=store_a, store_b=store_b) for role in ROLES}
    return Cast(store_a=store_a, store_b=store_b, users=users)
