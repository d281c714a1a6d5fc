"""UTM landings: a shopper arriving on a page of the shop from an address carrying a
campaign's UTM tags, a touchpoint of that campaign for attribution (README.md
"Attribution").

Cheap by design: `utm_landing_from_query` reads nothing but the query string, so a
request without `utm_campaign` costs nothing; a landing is looked up (the campaign by its
slug) and written at most once per visitor, campaign and day — the session remembers the
campaigns already counted today, and the database refuses a second row for a customer,
campaign and day. Unknown slugs are ignored. Signed in: a row for the customer at once.
Not signed in: the landing waits in the session (a few at most) and is written when they
sign in or sign up (`utm_landings_attach`, from the user_logged_in receiver), so an order
placed afterwards is credited. Only the campaign, the day and time, utm_source,
utm_medium (each cut to 60 characters) and the page's path are kept: no address, user
agent or query string.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from loyalty.models import Campaign, UtmLanding

# Session keys: campaigns counted today ({slug: "YYYY-MM-DD"}) and landings waiting for a
# sign-in ([[campaign id, ISO time, source, medium, path], ...]).
SEEN_SESSION_KEY = "loyalty_utm_seen"
PENDING_SESSION_KEY = "loyalty_utm_pending"
PENDING_MAX = 10
SEEN_MAX = 20
TAG_MAX = 60
SLUG_MAX = 60  # Campaign.utm_campaign
PATH_MAX = 200


@dataclass(frozen=True)
class Landing:
    campaign: str
    source: str
    medium: str
    path: str


def utm_landing_from_query(query: MutableMapping | dict, *, path: str) -> Landing | None:
    """The landing named by a request's query string, or None without `utm_campaign`
    (or with one longer than any campaign's slug)."""
    slug = (query.get("utm_campaign") or "").strip()
    if not slug or len(slug) > SLUG_MAX:
        return None
    return Landing(
        campaign=slug,
        source=(query.get("utm_source") or "").strip()[:TAG_MAX],
        medium=(query.get("utm_medium") or "").strip()[:TAG_MAX],
        path=path[:PATH_MAX],
    )


def utm_landing_record(
    *,
    landing: Landing,
    session: MutableMapping,
    user: AbstractBaseUser | None,
    at: datetime | None = None,
) -> bool:
    """Count `landing` for the visitor (see the module docstring); True if it was new."""
    at = at or timezone.now()
    day = timezone.localdate(at).isoformat()
    seen = dict(session.get(SEEN_SESSION_KEY) or {})
    if seen.get(landing.campaign) == day:
        return False
    campaign_id = (
        Campaign.objects.filter(utm_campaign=landing.campaign).values_list("pk", flat=True).first()
    )
    if campaign_id is None:
        return False
    seen = {slug: seen_day for slug, seen_day in seen.items() if seen_day == day}
    if len(seen) < SEEN_MAX:
        seen[landing.campaign] = day
        session[SEEN_SESSION_KEY] = seen
    if user is not None and user.is_authenticated:
        return _write(user=user, rows=[(campaign_id, at, landing)]) == 1
    pending = list(session.get(PENDING_SESSION_KEY) or [])
    pending.append([campaign_id, at.isoformat(), landing.source, landing.medium, landing.path])
    session[PENDING_SESSION_KEY] = pending[-PENDING_MAX:]
    return True


def utm_landings_attach(*, session: MutableMapping, user: AbstractBaseUser) -> int:
    """Write the landings the session kept before `user` signed in; returns the rows
    written (a campaign's second landing of the same day is not one)."""
    pending = session.pop(PENDING_SESSION_KEY, None) or []
    rows = []
    for item in pending:
        try:
            campaign_id, at_text, source, medium, path = item
            at = parse_datetime(at_text)
        except (TypeError, ValueError):
            continue
        if at is None:
            continue
        tags = Landing("", str(source)[:TAG_MAX], str(medium)[:TAG_MAX], str(path)[:PATH_MAX])
        rows.append((int(campaign_id), at, tags))
    if not rows:
        return 0
    wanted = {row[0] for row in rows}
    live = set(Campaign.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    return _write(user=user, rows=[row for row in rows if row[0] in live])


def _write(*, user: AbstractBaseUser, rows: list[tuple[int, datetime, Landing]]) -> int:
    """Insert the landings, the first of each (campaign, day) only; the rows written."""
    written = 0
    with transaction.atomic():
        for campaign_id, at, landing in sorted(rows, key=lambda row: row[1]):
            _, created = UtmLanding.objects.get_or_create(
                user=user,
                campaign_id=campaign_id,
                day=timezone.localdate(at),
                defaults={
                    "landed_at": at,
                    "source": landing.source,
                    "medium": landing.medium,
                    "path": landing.path,
                },
            )
            written += created
    return written
