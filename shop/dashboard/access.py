"""Least privilege for Oscar's dashboard apps (README, "Roles and permissions").

Oscar lets any `is_staff` user into a page its `permissions_map` does not name
(`default_permissions = ["is_staff"]`) and lets partner users (`partner.dashboard_access`)
into its catalogue and order pages as an alternative to the permission. Our configs keep
Oscar's permission for each page, require `is_staff` with it (Oscar's views show staff
everything, so only HQ roles may pass), drop the partner alternative (store staff work in
their store's pages) and leave pages Oscar does not map to superusers.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # What the mixin is mixed into, for the type checker only (Oscar ships no types).
    from oscar.core.application import OscarDashboardConfig as _DashboardConfig
else:
    _DashboardConfig = object

SUPERUSER_ONLY = ["is_superuser"]
_PARTNER_ACCESS = ["partner.dashboard_access"]
_STAFF = ["is_staff"]


def staff_with_permissions(permissions) -> list[str] | tuple[list[str], ...]:
    """One entry of Oscar's permissions_map, without the alternatives that are not a
    permission, and with `is_staff` required by each of the others."""
    alternatives = [permissions] if isinstance(permissions, list) else list(permissions)
    kept = [
        ["is_staff", *(p for p in alternative if p != "is_staff")]
        for alternative in alternatives
        if alternative and sorted(alternative) not in (_PARTNER_ACCESS, _STAFF)
    ]
    if not kept:
        return SUPERUSER_ONLY
    return kept[0] if len(kept) == 1 else tuple(kept)


class LeastPrivilegeMixin(_DashboardConfig):
    """For an Oscar dashboard AppConfig: see the module docstring.

    `permission_overrides` replaces Oscar's entry for the URL names it lists.
    """

    default_permissions = SUPERUSER_ONLY
    permission_overrides: dict = {}
    permissions_map: dict

    def configure_permissions(self) -> None:
        super().configure_permissions()
        self.permissions_map = {
            name: staff_with_permissions(permissions)
            for name, permissions in self.permissions_map.items()
        } | self.permission_overrides
