"""Stores as plain data: JSON API, GeoJSON feed and schema.org JSON-LD share these shapes."""

import datetime as dt
import json
from html import unescape
from typing import Any
from urllib.parse import urljoin

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from .models import Service, Store, Weekday
from .selectors import DayHours, OpeningState, store_next_change, store_week

SCHEMA_DAYS = [f"https://schema.org/{label}" for label in Weekday.names]
# The feed's licence: Etalab's Licence Ouverte 2.0 (compatible with ODbL and CC-BY).
DATA_LICENCE = {
    "name": "Licence Ouverte / Open Licence 2.0 (Etalab)",
    "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
    "attribution": "Solomo",
}


def _hhmm(value: dt.time) -> str:
    return value.strftime("%H:%M")


def address_data(store: Store) -> dict[str, str]:
    return {
        "line1": store.line1,
        "line2": store.line2,
        "postcode": store.postcode,
        "city": store.city,
        "country": store.country_code,
    }


def weekly_hours_data(store: Store) -> list[dict[str, Any]]:
    return [
        {
            "weekday": period.weekday,
            "day": Weekday(period.weekday).name.lower(),
            "opens": _hhmm(period.opens),
            "closes": _hhmm(period.closes),
        }
        for period in store.opening_periods.all()
    ]


def exceptional_days_data(store: Store, *, since: dt.date) -> list[dict[str, Any]]:
    return [
        {
            "date": day.date.isoformat(),
            "closed": not day.periods.all(),
            "reason": day.reason,
            "periods": [
                {"opens": _hhmm(p.opens), "closes": _hhmm(p.closes)} for p in day.periods.all()
            ],
        }
        for day in store.exceptional_days.all()
        if day.date >= since
    ]


def week_ahead_data(days: list[DayHours]) -> list[dict[str, Any]]:
    return [
        {
            "date": day.date.isoformat(),
            "closed": not day.periods,
            "exceptional": day.is_exceptional,
            "reason": day.reason or "",
            "periods": [{"opens": _hhmm(o), "closes": _hhmm(c)} for o, c in day.periods],
        }
        for day in days
    ]


def state_data(state: OpeningState) -> dict[str, Any]:
    return {
        "is_open_now": state.is_open,
        "next_change": state.next_change.isoformat() if state.next_change else None,
    }


def store_data(store: Store, *, now: dt.datetime, request=None) -> dict[str, Any]:
    """A store's public data (hours must be prefetched to keep this to no queries)."""
    api_url = reverse("stores-api:detail", kwargs={"slug": store.slug})
    page_url = store.get_absolute_url()
    if request is not None:
        api_url, page_url = (
            request.build_absolute_uri(api_url),
            request.build_absolute_uri(page_url),
        )
    return {
        "slug": store.slug,
        "name": store.name,
        "address": address_data(store),
        "latitude": store.latitude,
        "longitude": store.longitude,
        "phone": store.phone,
        "email": store.email,
        "timezone": store.timezone,
        "services": [{"code": s, "label": str(Service(s).label)} for s in store.services],
        "pickup_enabled": store.pickup_enabled,
        "url": page_url,
        "api_url": api_url,
        **state_data(store_next_change(store=store, at=now)),
    }


def store_detail_data(store: Store, *, now: dt.datetime, request=None) -> dict[str, Any]:
    today = timezone.localtime(now, store.tz).date()
    return {
        **store_data(store, now=now, request=request),
        "opening_hours": weekly_hours_data(store),
        "exceptional_days": exceptional_days_data(store, since=today),
        "week_ahead": week_ahead_data(store_week(store=store, start=today)),
    }


def geojson_feature(store: Store, *, now: dt.datetime, request=None) -> dict[str, Any]:
    today = timezone.localtime(now, store.tz).date()
    data = store_data(store, now=now, request=request)
    for volatile in ("is_open_now", "next_change"):
        data.pop(volatile)
    return {
        "type": "Feature",
        "id": store.slug,
        "geometry": {"type": "Point", "coordinates": [store.longitude, store.latitude]},
        "properties": {
            **data,
            "opening_hours": weekly_hours_data(store),
            "exceptional_days": exceptional_days_data(store, since=today),
            "inventory": inventory_links(store, request=request),
        },
    }


def inventory_links(store: Store, *, request=None) -> dict[str, str]:
    """Where the store's local inventory feed is, as CSV and as JSON."""
    links = {
        fmt: reverse(f"stores-api:inventory-{fmt}", kwargs={"slug": store.slug})
        for fmt in ("csv", "json")
    }
    if request is not None:
        links = {fmt: request.build_absolute_uri(url) for fmt, url in links.items()}
    return links


def schema_org_store(store: Store, *, now: dt.datetime, url: str) -> dict[str, Any]:
    """schema.org `Store` for search engines: weekly hours plus upcoming special days."""
    today = timezone.localtime(now, store.tz).date()
    specs: list[dict[str, Any]] = [
        {
            "@type": "OpeningHoursSpecification",
            "dayOfWeek": SCHEMA_DAYS[p.weekday],
            "opens": _hhmm(p.opens),
            "closes": _hhmm(p.closes),
        }
        for p in store.opening_periods.all()
    ]
    for day in store.exceptional_days.all():
        if day.date < today:
            continue
        # schema.org marks a closed day as opens = closes = 00:00.
        periods = [(p.opens, p.closes) for p in day.periods.all()] or [(dt.time(0), dt.time(0))]
        specs += [
            {
                "@type": "OpeningHoursSpecification",
                "validFrom": day.date.isoformat(),
                "validThrough": day.date.isoformat(),
                "opens": _hhmm(opens),
                "closes": _hhmm(closes),
            }
            for opens, closes in periods
        ]
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Store",
        "@id": url,
        "name": store.name,
        "url": url,
        "address": _postal_address(store),
        "geo": _geo(store),
        "openingHoursSpecification": specs,
    }
    if store.phone:
        data["telephone"] = store.phone
    if store.email:
        data["email"] = store.email
    return data


def json_for_script(data: Any) -> str:
    """JSON safe inside a <script> element (the same escapes as Django's json_script)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")


def opening_label(state: OpeningState, *, store: Store, now: dt.datetime) -> str:
    """ "Open · closes at 19:00", "Closed · opens tomorrow at 09:00", in the store's time."""
    if state.next_change is None:
        return _("Open") if state.is_open else _("Closed")
    local = state.next_change.astimezone(store.tz)
    today = now.astimezone(store.tz).date()
    time = date_format(local, "H:i")
    if local.date() == today:
        when = _("at %(time)s") % {"time": time}
    elif local.date() == today + dt.timedelta(days=1):
        when = _("tomorrow at %(time)s") % {"time": time}
    else:
        when = _("%(day)s at %(time)s") % {"day": date_format(local, "l"), "time": time}
    if state.is_open:
        return _("Open · closes %(when)s") % {"when": when}
    return _("Closed · opens %(when)s") % {"when": when}


# --- Open data for local search (README "Open data for local search") --------------------

SCHEMA = "https://schema.org/"


def absolute_url(path_or_url: str) -> str:
    """`path_or_url` on the configured SITE_URL (a URL that has a host already is kept)."""
    return urljoin(settings.SITE_URL + "/", path_or_url)


def gtin_of(code: str) -> str:
    """`code` when it is a GTIN-8, -12, -13 or -14 with a right check digit, else ""."""
    code = (code or "").strip()
    if not code.isdigit() or len(code) not in (8, 12, 13, 14):
        return ""
    body, check = code[:-1], int(code[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return code if (10 - total % 10) % 10 == check else ""


def plain_text(html: str) -> str:
    """A description's HTML as one line of plain text (tags dropped, entities decoded)."""
    return " ".join(unescape(strip_tags(html or "")).split())


def stock_availability(record: Any) -> str:
    """InStock, LimitedAvailability (at or under the record's low-stock threshold, when it
    has one) or OutOfStock, from the units a store can still sell."""
    free = record.net_stock_level or 0
    if free <= 0:
        return SCHEMA + "OutOfStock"
    if record.low_stock_threshold is not None and free <= record.low_stock_threshold:
        return SCHEMA + "LimitedAvailability"
    return SCHEMA + "InStock"


def _postal_address(store: Store) -> dict[str, str]:
    return {
        "@type": "PostalAddress",
        "streetAddress": ", ".join(x for x in (store.line1, store.line2) if x),
        "postalCode": store.postcode,
        "addressLocality": store.city,
        "addressCountry": store.country_code,
    }


def _geo(store: Store) -> dict[str, Any]:
    return {"@type": "GeoCoordinates", "latitude": store.latitude, "longitude": store.longitude}


def schema_org_offer(record: Any, *, product_url: str) -> dict[str, Any]:
    """One store's Offer: its price and stock record, the store as the place to get it."""
    store = record.partner.store
    store_url = absolute_url(store.get_absolute_url())
    offer: dict[str, Any] = {
        "@type": "Offer",
        "url": product_url,
        "price": f"{record.price:.2f}",
        "priceCurrency": record.price_currency,
        "availability": stock_availability(record),
        "itemCondition": SCHEMA + "NewCondition",
        "availableAtOrFrom": {
            "@type": "Store",
            "@id": store_url,
            "name": store.name,
            "url": store_url,
            "address": _postal_address(store),
            "geo": _geo(store),
        },
    }
    if store.pickup_enabled:
        # "Collect it at availableAtOrFrom". schema.org takes a DeliveryMethod on an Offer
        # (availableDeliveryMethod); OfferShippingDetails has no property for one.
        offer["availableDeliveryMethod"] = SCHEMA + "OnSitePickup"
    return offer


def schema_org_product(
    product: Any, *, records: list[Any], image_urls: list[str], brand: str = ""
) -> dict[str, Any]:
    """schema.org `Product` with an Offer per store selling it (strings in the active
    language; every URL absolute on SITE_URL)."""
    url = absolute_url(product.get_absolute_url())
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "@id": url,
        "url": url,
        "name": product.get_title(),
    }
    description = plain_text(product.description)
    if description:
        data["description"] = description
    if image_urls:
        data["image"] = [absolute_url(u) for u in image_urls]
    if product.upc:
        data["sku"] = product.upc
        if gtin := gtin_of(product.upc):
            data["gtin"] = gtin
    if brand:
        data["brand"] = {"@type": "Brand", "name": brand}
    data["offers"] = [schema_org_offer(r, product_url=url) for r in records]
    return data
