"""Who works in which stores: head office sees every store, store staff their own
(README "Roles and permissions"; docs/guarantees.md R38)."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import QuerySet

from ..models import Pickup, Store

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def is_hq(user: "User | AnonymousUser") -> bool:
    """Whether `user` is head office for pickups and stores: a superuser, or staff holding
    stores.change_pickup."""
    return bool(user.is_superuser or (user.is_staff and user.has_perm("stores.change_pickup")))


def works_in_stores(user: "User | AnonymousUser") -> bool:
    """Whether the pickup queue and the stores' hours are `user`'s pages: head office, or
    the staff of a store (README "Roles and permissions")."""
    return user.is_authenticated and (is_hq(user) or user.has_perm("partner.dashboard_access"))


def pickups_visible_to(user: "User | AnonymousUser") -> QuerySet[Pickup]:
    """The pickups `user` may see and change: all for HQ, their partners' stores for staff."""
    queryset = Pickup.objects.select_related("order", "order__user", "store", "slot").exclude(
        # Not to prepare before it is paid (card orders awaiting payment or under review).
        order__status__in=settings.STORES_HIDDEN_ORDER_STATUSES
    )
    if is_hq(user):
        return queryset
    if user.has_perm("partner.dashboard_access"):
        return queryset.filter(store__partner__users=user.pk)
    return queryset.none()


def stores_visible_to(user: "User | AnonymousUser") -> QuerySet[Store]:
    """The stores whose details and hours `user` may change: all for HQ, their partners'
    stores for staff, none for anyone else."""
    if is_hq(user):
        return Store.objects.all()
    if user.has_perm("partner.dashboard_access"):
        return Store.objects.filter(partner__users=user.pk)
    return Store.objects.none()
