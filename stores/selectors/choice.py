"""The shopper's own store ("my store"): chosen in the session or saved on the profile.

A store chosen in the session is read on every page (the pricing strategy follows it), so
it is kept in the cache, with its partner, for STORE_CACHE_SECONDS; a store or partner
saved or deleted drops it at once and again when its transaction commits
(`store_cache_receivers_connect`). Only an active store is cached.
"""

from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest

from ..models import Store
from .hours import with_hours

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.contrib.sessions.backends.base import SessionBase

# Where the shopper's chosen store id is kept in the session.
SESSION_STORE_KEY = "stores:store_id"


def chosen_store(
    *, session: "SessionBase | None", user: "User | AnonymousUser | None"
) -> Store | None:
    """The shopper's store: the session's choice, else the signed-in user's saved one.

    Only active stores count; the caller memoises per request.
    """
    store_id = session.get(SESSION_STORE_KEY) if session is not None else None
    if store_id:
        store = _active_store(store_id)
        if store is not None:
            return store
    if user is not None and user.is_authenticated:
        return (
            Store.objects.active().select_related("partner").filter(preferences__user=user).first()
        )
    return None


STORE_CACHE_SECONDS = 600


def _store_key(store_id: Any) -> str:
    return f"stores:active-store:{store_id}"


def _active_store(store_id: Any) -> Store | None:
    """The active store `store_id` with its partner, from the cache when it is there."""
    store = cache.get(_store_key(store_id))
    if store is None:
        store = Store.objects.active().select_related("partner").filter(pk=store_id).first()
        if store is not None:
            cache.set(_store_key(store_id), store, STORE_CACHE_SECONDS)
    return store


def _stores_forget(store_ids: list[int]) -> None:
    keys = [_store_key(pk) for pk in store_ids]
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


def _store_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    _stores_forget([instance.pk])


def _partner_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    _stores_forget(list(Store.objects.filter(partner_id=instance.pk).values_list("pk", flat=True)))


def store_cache_receivers_connect() -> None:
    """Called by the stores app's ready()."""
    from django.apps import apps

    partner = apps.get_model("partner", "Partner")
    for signal in (post_save, post_delete):
        signal.connect(_store_changed, sender=Store, dispatch_uid="stores-active-store")
        signal.connect(_partner_changed, sender=partner, dispatch_uid="stores-active-partner")


def home_stores(
    *, user_ids: list[int], fallback_store_ids: dict[int, int] | None = None
) -> dict[int, Store]:
    """{user id: store} for many users at once: the store each saved ("my store"), else the
    one given in `fallback_store_ids` (say, their last pickup store); active stores only,
    hours prefetched (store_today_hours). A constant number of queries, whatever the users.
    """
    saved = dict(
        Store.objects.active()
        .filter(preferences__user_id__in=user_ids)
        .values_list("preferences__user_id", "pk")
    )
    wanted = {**(fallback_store_ids or {}), **saved}
    stores = {
        store.pk: store
        for store in with_hours(Store.objects.active().filter(pk__in=set(wanted.values())))
    }
    return {user_id: stores[pk] for user_id, pk in wanted.items() if pk in stores}


# Where chosen_store_for_request keeps its answer on the request.
_REQUEST_STORE_ATTR = "_stores_chosen_store"


def chosen_store_for_request(request: HttpRequest) -> Store | None:
    """`chosen_store` for the request's session and user, read from the database once per request.

    The pricing strategy and the product page's store block both need it. A
    choice made during the request (`store_choose`) shows from the next request.
    """
    if not hasattr(request, _REQUEST_STORE_ATTR):
        store = chosen_store(
            session=getattr(request, "session", None), user=getattr(request, "user", None)
        )
        setattr(request, _REQUEST_STORE_ATTR, store)
    return getattr(request, _REQUEST_STORE_ATTR)
