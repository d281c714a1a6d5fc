"""Whether the account menu shows the "Dashboard" link, cached per user (bench/README.md,
"pages_at_size.py": Django's permission check reads the user's and their groups'
permissions, two queries on every page a signed-in shopper opens).

Display only: every dashboard page checks the live permissions on each request
(shop/dashboard/access.py), so a stale answer can at worst show a link that leads to a
refusal, or hide one for a moment. It is still kept exact: each answer is stored with the
permissions version it was computed under, and any change of a user's groups or
permissions, a group's permissions, or a group or permission deleted, replaces that
version (`permissions_changed`); a user's own row saved (superuser status, say) drops
that user's answer. An answer lives DASHBOARD_LINK_SECONDS at most, for changes made
around the ORM.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from shop.versioned_cache import version_bump, versioned

VERSION_KEY = "shop:permissions-version"
DASHBOARD_LINK_SECONDS = 300


def _answer_key(user_id: int) -> str:
    return f"shop:dashboard-link:{user_id}"


def dashboard_link_shown(user: Any) -> bool:
    """Staff, and partner users with `partner.dashboard_access` (Oscar's dashboard rule)."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    # The version is read before the permissions (shop/versioned_cache.py).
    return bool(
        versioned(
            VERSION_KEY,
            _answer_key(user.pk),
            lambda: user.has_perm("partner.dashboard_access"),
            DASHBOARD_LINK_SECONDS,
        )
    )


def permissions_changed(**kwargs: Any) -> None:
    """Every cached answer is retired, now and when the transaction commits (a request
    in between could otherwise store the answer read before the change)."""
    version_bump(VERSION_KEY)


def user_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    cache.delete(_answer_key(instance.pk))
    transaction.on_commit(lambda: cache.delete(_answer_key(instance.pk)))


def receivers_connect() -> None:
    user_model = get_user_model()
    for through in (
        user_model.groups.through,
        user_model.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(
            permissions_changed, sender=through, dispatch_uid=f"dashboard-link-{through}"
        )
        # Rows of the link tables written or deleted directly, and those a deleted
        # group, permission or user takes with it.
        post_save.connect(
            permissions_changed, sender=through, dispatch_uid=f"dashboard-link-save-{through}"
        )
        post_delete.connect(
            permissions_changed, sender=through, dispatch_uid=f"dashboard-link-del-{through}"
        )
    for model in (Group, Permission):
        post_delete.connect(
            permissions_changed, sender=model, dispatch_uid=f"dashboard-link-{model}"
        )
    post_save.connect(user_saved, sender=user_model, dispatch_uid="dashboard-link-user")
