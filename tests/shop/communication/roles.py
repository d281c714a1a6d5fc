"""The roles of README "Roles and permissions", as users for the outbox tests.

Each staff role gets the permissions the roles contract gives it that matter here, plus a
few of its others, so a test shows that a role's unrelated permissions do not open the
outbox. Store staff are as the shop makes them: not is_staff, partner.dashboard_access and
a user of their store's partner.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from tests.stores.factories import staff_of

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "catalogue manager": (
        "catalogue.change_product",
        "catalogue.add_product",
        "partner.change_stockrecord",
    ),
    "marketer": (
        "communication.add_communicationeventtype",
        "communication.change_communicationeventtype",
        "communication.view_communicationeventtype",
        "offer.change_conditionaloffer",
        "voucher.change_voucher",
    ),
    "support": (
        "communication.view_outboxmessage",
        "communication.change_outboxmessage",
        "order.view_order",
        "order.change_order",
    ),
}

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


def permissions(*names: str) -> list[Permission]:
    found = []
    for name in names:
        app_label, codename = name.split(".")
        found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return found


def user_for(role: str, *, stores: dict | None = None):
    """A user of `role` ("anonymous": None). Store staff need `stores` = {"A": ..., "B": ...}."""
    User = get_user_model()
    slug = role.replace(" ", "-")
    email = f"{slug}@solomo.test"
    if role == "anonymous":
        return None
    if role == "superuser":
        return User.objects.create_superuser(email, email, "pw")
    if role == "shopper":
        return User.objects.create_user(email, email, "pw")
    if role.startswith("store "):
        return staff_of(stores[role.split()[1]], email)
    user = User.objects.create_user(email, email, "pw", is_staff=True)
    user.user_permissions.add(*permissions(*ROLE_PERMISSIONS[role]))
    return user
