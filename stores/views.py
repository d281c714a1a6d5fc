"""Storefront pages: the store locator, a store's page, and choosing "my store"."""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .api.views import BadRequest, parse_near_query
from .links import PickupLinkExpired, pickup_link_expires_at, pickup_link_order_number
from .models import Pickup, Service, Store
from .places import place_lookup, place_names
from .presenters import json_for_script, opening_label, schema_org_store
from .selectors import (
    OpeningState,
    chosen_store,
    prefetch_hours,
    store_next_change,
    store_week,
    stores_near,
    with_hours,
)
from .services import (
    ACTIVE,
    PickupArrivalTooEarly,
    PickupTransitionError,
    pickup_customer_arrived,
    store_choose,
)

LOCATOR_LIMIT = 20
# Beyond this distance from the nearest store, the locator says there is no store near.
LOCATOR_NEAR_KM = 50
# A place name is short; a longer one (pasted text, a crafted URL) is cut, not looked up whole.
MAX_PLACE_LENGTH = 100
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


@dataclass(frozen=True)
class StoreRow:
    store: Store
    distance_km: float | None
    state: OpeningState
    opening_label: str
    directions_url: str


def directions_url(store: Store, origin: tuple[float, float] | None = None) -> str:
    """OpenStreetMap directions to the store (from `origin` when known), on foot."""
    start = f"{origin[0]:.5f},{origin[1]:.5f}" if origin else ""
    route = f"{start};{store.latitude:.5f},{store.longitude:.5f}"
    return "https://www.openstreetmap.org/directions?" + urlencode(
        {"engine": "fossgis_osrm_foot", "route": route}
    )


def locator(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    origin = None
    error = notice = ""
    # The typed place is `place`, not `q`, which would fill the header's product search.
    place = " ".join(request.GET.get("place", "").split())[:MAX_PLACE_LENGTH]
    found = None
    coordinates = {k: request.GET.get(k, "") for k in ("lat", "lng")}
    if any(coordinates.values()):
        try:
            query = parse_near_query(coordinates)
            # The browser's position (stores.js), for this request only: never kept here
            # (README "Privacy"); the browser tab keeps it for the checkout.
            origin = (query.lat, query.lng)
        except BadRequest as exc:
            error = _("We could not use that location: %(reason)s.") % {"reason": exc}
    elif place:
        found = place_lookup(query=place)
        if found is None:
            notice = _(
                "We could not find “%(place)s”. Try a town name or a postcode; "
                "here are all our stores."
            ) % {"place": Truncator(place).chars(40)}
        else:
            origin = (found.latitude, found.longitude)
    if origin:
        near = stores_near(lat=origin[0], lng=origin[1], limit=LOCATOR_LIMIT)
        pairs: list[tuple[Store, float | None]] = [(n.store, n.distance_km) for n in near]
        prefetch_hours([store for store, _ in pairs])
        # Far from every store (Paris, 400 km): say so, and still list the nearest.
        if near and near[0].distance_km > LOCATOR_NEAR_KM:
            notice = (
                _("No store near %(place)s. Our nearest stores are below, with their distance.")
                % {"place": found.name}
                if found
                else _("No store near you. Our nearest stores are below, with their distance.")
            )
    else:
        pairs = [(store, None) for store in with_hours(Store.objects.active())]
    rows = [
        StoreRow(
            store,
            km,
            state,
            opening_label(state, store=store, now=now),
            directions_url(store, origin),
        )
        for store, km in pairs
        for state in [store_next_change(store=store, at=now)]
    ]
    markers = [
        {
            "name": r.store.name,
            "lat": r.store.latitude,
            "lng": r.store.longitude,
            "url": r.store.get_absolute_url(),
        }
        for r in rows
    ]
    context = {
        "rows": rows,
        "origin": origin,
        "error": error,
        "notice": notice,
        "place": place,
        "place_max_length": MAX_PLACE_LENGTH,
        "markers": markers,
        "origin_marker": {"lat": origin[0], "lng": origin[1]} if origin else None,
        "place_names": place_names(),
        "tiles_url": OSM_TILES,
        "my_store": chosen_store(session=request.session, user=request.user),
    }
    return render(request, "stores/locator.html", context, status=400 if error else 200)


def detail(request: HttpRequest, slug: str) -> HttpResponse:
    store = with_hours(Store.objects.active().filter(slug=slug)).first()
    if store is None:
        raise Http404(_("No such store."))
    now = timezone.now()
    today = timezone.localtime(now, store.tz).date()
    url = request.build_absolute_uri(store.get_absolute_url())
    context = {
        "store": store,
        "state": (state := store_next_change(store=store, at=now)),
        "opening_label": opening_label(state, store=store, now=now),
        "week": store_week(store=store, start=today),
        "services": [Service(code).label for code in store.services],
        "today": today,
        "tomorrow": today + dt.timedelta(days=1),
        "jsonld": json_for_script(schema_org_store(store, now=now, url=url)),
        "marker": {"name": store.name, "lat": store.latitude, "lng": store.longitude, "url": ""},
        "tiles_url": OSM_TILES,
        "directions_url": directions_url(store),
        "is_my_store": (mine := chosen_store(session=request.session, user=request.user))
        is not None
        and mine.pk == store.pk,
    }
    return render(request, "stores/detail.html", context)


@require_POST
def choose(request: HttpRequest, slug: str) -> HttpResponse:
    store = Store.objects.active().filter(slug=slug).first()
    if store is None:
        raise Http404(_("No such store."))
    store_choose(session=request.session, user=request.user, store=store)
    messages.success(request, _("%(store)s is now your store.") % {"store": store.name})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = store.get_absolute_url()
    return HttpResponseRedirect(target)


def buyers_pickup_or_404(request: HttpRequest, number: str) -> Pickup:
    """The pickup of order `number` if the signed-in user placed it; 404 for anyone else."""
    if not request.user.is_authenticated:
        raise Http404
    pickup = (
        Pickup.objects.select_related("order")
        .filter(order__number=number, order__user=request.user)
        .first()
    )
    if pickup is None:
        raise Http404
    return pickup


@require_POST
def pickup_here(request: HttpRequest, number: str) -> HttpResponse:
    """The customer tapped "I'm here" on their order page; the store's queue shows it."""
    pickup = buyers_pickup_or_404(request, number)
    _say_arrived(request, pickup)
    return HttpResponseRedirect(reverse("customer:order", kwargs={"order_number": number}))


def _say_arrived(request: HttpRequest, pickup: Pickup) -> None:
    try:
        pickup_customer_arrived(pickup=pickup, now=timezone.now())
    except (PickupTransitionError, PickupArrivalTooEarly) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Thanks! The store knows you are here."))


def pickup_status(request: HttpRequest, token: str) -> HttpResponse:
    """A pickup's status through a signed link (no sign-in): GET shows it, POST is "I'm here".

    An expired link (see stores.links) gets a page saying where the order can still be
    followed, with status 410.
    """
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    try:
        number = pickup_link_order_number(token=token)
    except PickupLinkExpired:
        return _link_expired(request, pickup=None)
    pickup = (
        Pickup.objects.select_related("order", "store", "slot").filter(order__number=number).first()
        if number
        else None
    )
    if pickup is None:
        raise Http404
    if timezone.now() >= pickup_link_expires_at(pickup=pickup):
        return _link_expired(request, pickup=pickup)
    if request.method == "POST":
        _say_arrived(request, pickup)
        return redirect(request.path)
    response = render(
        request, "stores/pickup_status.html", {"pickup": pickup, "order": pickup.order}
    )
    if request.user.is_authenticated and pickup.status in ACTIVE:
        # An open pickup pass seen by a signed-in customer stays readable offline; the
        # service worker forgets it at logout (README "Install on a phone (PWA)").
        response["X-Offline-Keep"] = "1"
    return response


def _link_expired(request: HttpRequest, *, pickup: Pickup | None) -> HttpResponse:
    return render(
        request,
        "stores/pickup_link_expired.html",
        {"pickup": pickup, "order": pickup.order if pickup else None},
        status=410,
    )
