"""The staff roles of the shop, in one place: who may see and change what.

A role is a Django group with a fixed set of permissions, created and kept up to date by
code, never by hand (README, "Roles and permissions"): `roles_sync()` runs after every
`migrate` (post_migrate, see shop/apps.py) and from `manage.py roles_sync`. It creates a
missing group and adds missing permissions; it never removes what a shop added on purpose.

Whether a person is staff (`is_staff`) is a property of the account, not of a group, so
`role_give()` sets both. Store staff are not staff: Oscar shows staff users every
partner's orders and stock. They are scoped to their store by being among the `users` of
its Partner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Q

CATALOGUE_MANAGERS = "Catalogue managers"
MARKETERS = "Marketers"
SUPPORT = "Support"
STORE_STAFF = "Store staff"


def _crud(
    app_label: str, *models: str, actions: Iterable[str] = ("view", "add", "change", "delete")
):
    actions = tuple(actions)
    return tuple(f"{app_label}.{action}_{model}" for model in models for action in actions)


@dataclass(frozen=True)
class Role:
    group: str
    # Whether people with this role are `is_staff` (HQ roles) or not (store staff).
    is_staff: bool
    # "app_label.codename"; each must exist once migrations ran (else RoleError).
    permissions: tuple[str, ...]
    # Added when they exist; see PENDING_PERMISSIONS.
    optional_permissions: tuple[str, ...] = ()


# Permissions defined by work merged after this module: given to their roles as soon as
# they exist, silently skipped before. Once they are on main, move each into its role's
# `permissions` (a missing one then stops `migrate` with its name) and empty this list.
PENDING_PERMISSIONS: tuple[str, ...] = ()

CATALOGUE_MANAGER = Role(
    group=CATALOGUE_MANAGERS,
    is_staff=True,
    permissions=(
        # Oscar's catalogue dashboard: products, categories, product types, options.
        *_crud(
            "catalogue",
            "product",
            "category",
            "productclass",
            "attributeoptiongroup",
            "option",
        ),
        # Stock records of every store (edited on the product page) and stock alerts.
        *_crud("partner", "stockrecord"),
        "partner.view_stockalert",
        # Review moderation.
        *_crud("reviews", "productreview", actions=("view", "change", "delete")),
    ),
)

MARKETER = Role(
    group=MARKETERS,
    is_staff=True,
    permissions=(
        # Oscar's offers, ranges and vouchers dashboards.
        *_crud("offer", "conditionaloffer", "range", "benefit", "condition"),
        *_crud("voucher", "voucher", "voucherset"),
        # Message templates (Oscar's email templates, our SMS/push/translations page).
        "communication.view_communicationeventtype",
        "communication.change_communicationeventtype",
        # Flat pages.
        *_crud("flatpages", "flatpage"),
        # Loyalty: earning rules (with the counter's limits), multipliers, tiers, rewards.
        "loyalty.view_earningrule",
        "loyalty.change_earningrule",
        *_crud("loyalty", "multiplier", "reward"),
        "loyalty.view_tierlevel",
        "loyalty.change_tierlevel",
        # Segments of members (and the offers attached to them).
        *_crud("loyalty", "segment"),
        # Campaigns to segments (README "Campaigns").
        *_crud("loyalty", "campaign"),
        # Why products are recommended to a member (README "Recommendations").
        "loyalty.view_memberrecommendation",
    ),
)

SUPPORT_AGENT = Role(
    group=SUPPORT,
    is_staff=True,
    permissions=(
        # Orders: every order, notes, line and order status, delivery address.
        "order.view_order",
        "order.change_order",
        # Card payments: refunds, and payments to review.
        "payment.view_stripepayment",
        "payment.change_stripepayment",
        "payment.view_striperefund",
        "payment.add_striperefund",
        # Customers (Oscar's users dashboard: password reset e-mail, stock alerts).
        "auth.view_user",
        "auth.change_user",
        # The outbox: list and detail without secret bodies, and retry.
        "communication.view_outboxmessage",
        "communication.change_outboxmessage",
        # The member counter: lookups, adjustments, and approving others' large ones.
        "loyalty.view_member",
        "loyalty.adjust_points",
        "loyalty.approve_points_adjustment",
    ),
)

STORE_STAFF_MEMBER = Role(
    group=STORE_STAFF,
    is_staff=False,
    permissions=(
        # Oscar's partner-scoped dashboard; the stores pages check it with partner.users.
        "partner.dashboard_access",
        # The member counter: lookups, and small adjustments at their store.
        "loyalty.view_member",
        "loyalty.adjust_points",
    ),
)

ROLES: tuple[Role, ...] = (CATALOGUE_MANAGER, MARKETER, SUPPORT_AGENT, STORE_STAFF_MEMBER)
ROLES_BY_GROUP: dict[str, Role] = {role.group: role for role in ROLES}


class RoleError(Exception):
    """A role names a permission the database does not have; the message names it."""


@dataclass(frozen=True)
class RoleSynced:
    role: Role
    group_created: bool
    permissions_added: tuple[str, ...]
    # Optional permissions that do not exist (yet).
    permissions_absent: tuple[str, ...]


def _permissions_by_name(names: Iterable[str], *, using: str) -> dict[str, Permission]:
    condition = Q(pk__in=[])
    for name in names:
        app_label, codename = name.split(".", 1)
        condition |= Q(content_type__app_label=app_label, codename=codename)
    return {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.using(using).filter(condition).select_related("content_type")
    }


def role_sync(role: Role, *, using: str = DEFAULT_DB_ALIAS) -> RoleSynced:
    """Create `role`'s group if missing and add the permissions it lacks, atomically.

    Raises RoleError naming every required permission that does not exist.
    """
    found = _permissions_by_name((*role.permissions, *role.optional_permissions), using=using)
    missing = [name for name in role.permissions if name not in found]
    if missing:
        raise RoleError(
            f"Role {role.group!r} needs permissions that do not exist: {', '.join(missing)}. "
            "Run `manage.py migrate`; if one was renamed, update shop/security/roles.py."
        )
    with transaction.atomic(using=using):
        group, created = Group.objects.using(using).get_or_create(name=role.group)
        held = set(group.permissions.values_list("pk", flat=True))
        wanted = [
            found[name] for name in (*role.permissions, *role.optional_permissions) if name in found
        ]
        added = [p for p in wanted if p.pk not in held]
        group.permissions.add(*added)
    return RoleSynced(
        role=role,
        group_created=created,
        permissions_added=tuple(f"{p.content_type.app_label}.{p.codename}" for p in added),
        permissions_absent=tuple(n for n in role.optional_permissions if n not in found),
    )


def roles_sync(
    *, using: str = DEFAULT_DB_ALIAS, on_progress: Callable[[RoleSynced], None] | None = None
) -> list[RoleSynced]:
    """Every role of ROLES, synced in turn (see role_sync)."""
    results = []
    for role in ROLES:
        result = role_sync(role, using=using)
        if on_progress is not None:
            on_progress(result)
        results.append(result)
    return results


def role_give(user, role: Role, *, partner=None) -> None:
    """Give `user` a role: its group, its `is_staff`, and for store staff their store.

    `partner` is the store's Oscar Partner, required for store staff and refused otherwise.
    The role's group must exist (roles_sync, run by `migrate`).
    """
    if (partner is None) == (role is STORE_STAFF_MEMBER):
        raise ValueError("A partner is given for store staff, and for them only.")
    if user.is_staff != role.is_staff:
        user.is_staff = role.is_staff
        user.save(update_fields=["is_staff"])
    user.groups.add(Group.objects.get(name=role.group))
    if partner is not None:
        partner.users.add(user)


def roles_sync_after_migrate(sender, *, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """post_migrate receiver: sync the roles once every app's permissions exist.

    Django sends post_migrate once per app with models, in INSTALLED_APPS order, and
    creates each app's permissions in its own receiver; the roles use permissions of many
    apps, so they are synced when the last app's signal arrives.
    """
    from django.apps import apps

    last = [config for config in apps.get_app_configs() if config.models_module is not None][-1]
    if sender.label == last.label:
        roles_sync(using=using)
