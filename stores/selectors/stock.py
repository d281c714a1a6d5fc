"""Store stock (the Stock page): who sees which stock records and who sets prices."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import QuerySet

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def stock_hq(user: "User | AnonymousUser") -> bool:
    """Whether `user` manages every store's stock: superusers and staff holding
    partner.change_stockrecord (catalogue managers)."""
    return bool(
        getattr(user, "is_superuser", False)
        or (getattr(user, "is_staff", False) and user.has_perm("partner.change_stockrecord"))
    )


def stockrecords_visible_to(*, user: "User | AnonymousUser") -> QuerySet:
    """The stock records `user` may see and change: every one for HQ, those of the
    partners (stores) they belong to for store staff, none for anyone else."""
    from django.apps import apps

    records = apps.get_model("partner", "StockRecord").objects.select_related(
        "product", "partner", "partner__store"
    )
    if stock_hq(user):
        return records
    if user.is_authenticated and user.has_perm("partner.dashboard_access"):
        return records.filter(partner__users=user)
    return records.none()


def stock_prices_settable_by(*, user: "User | AnonymousUser") -> bool:
    """Whether `user` may set prices on the Stock page: HQ, and store staff when the
    shop allows per-store prices (STORES_STAFF_SET_PRICES)."""
    return stock_hq(user) or bool(settings.STORES_STAFF_SET_PRICES)
