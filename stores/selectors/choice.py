"""The shopper's own store ("my store"): chosen in the session or saved on the profile."""

from typing import TYPE_CHECKING

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
        store = Store.objects.active().select_related("partner").filter(pk=store_id).first()
        if store is not None:
            return store
    if user is not None and user.is_authenticated:
        return (
            Store.objects.active().select_related("partner").filter(preferences__user=user).first()
        )
    return None


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
