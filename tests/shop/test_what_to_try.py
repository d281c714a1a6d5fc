"""README "What to try in the demo", by tapping: on the seeded demo, each role starts at `/`
and follows only the links the pages show them (GET, same site, English pages). Every page
the README names for that role is reached, and no link a role is shown ends on an error
(a 403 for a page they may not open, a 404)."""

import re
from collections import deque

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, resolve

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("what-to-try")]

# Links not followed: they change something or leave the pages (files, other languages).
NOT_FOLLOWED = ("/accounts/logout", "/static/", "/media/", "/fr/", ".csv", "/download", "/export")
HREF = re.compile(r'<a\b[^>]*\bhref="([^"#]+)"')
PAGES_PER_PATTERN = 2  # two products, two orders... are enough to see a pattern's links

# What the README names for each role (email of the demo user, or None for a guest).
WHAT_TO_TRY = {
    None: ["/stores/", "/catalogue/", "/categories/", "/basket/", "/privacy/"],
    "shopper@solomo.example": [
        "/stores/",
        "/loyalty/",
        "/accounts/notification-settings/",
        "/accounts/orders/",
    ],
    "staff.centre@solomo.example": [
        "/dashboard/stores/pickups/",
        "/dashboard/stores/stock/",
        "/dashboard/stores/",
        "/dashboard/loyalty/counter/",
    ],
    "catalogue@solomo.example": [
        "/dashboard/catalogue/",
        "/dashboard/catalogue/categories/",
        "/dashboard/catalogue/product-types/",
        "/dashboard/catalogue/option/",
        "/dashboard/stores/stock/",
        "/dashboard/reviews/",
    ],
    "marketing@solomo.example": [
        "/dashboard/loyalty/rules/",
        "/dashboard/loyalty/multipliers/",
        "/dashboard/loyalty/tiers/",
        "/dashboard/loyalty/counter/limits/",
        "/dashboard/loyalty/segments/",
        "/dashboard/loyalty/rewards/",
        "/dashboard/loyalty/campaigns/",
        "/dashboard/loyalty/simulator/",
        "/dashboard/loyalty/recommendations/",
        "/dashboard/offers/",
        "/dashboard/ranges/",
        "/dashboard/vouchers/",
        "/dashboard/pages/",
        "/dashboard/messages/templates/",
    ],
    "support@solomo.example": [
        "/dashboard/orders/",
        "/dashboard/users/",
        "/dashboard/messages/",
        "/dashboard/loyalty/counter/",
    ],
    "admin@solomo.example": ["/dashboard/audit/", "/dashboard/stores/", "/dashboard/orders/"],
}


def walk(client: Client) -> tuple[set[str], list[tuple[int, str, str]]]:
    """The pages reached from / by links, and the links that ended on an error."""
    reached: set[str] = set()
    dead: list[tuple[int, str, str]] = []
    seen: set[str] = set()
    per_pattern: dict[str, int] = {}
    queue = deque([("/", "")])
    while queue:
        url, came_from = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        try:
            match = resolve(url.split("?")[0])
        except Resolver404:
            dead.append((404, url, came_from))
            continue
        per_pattern[match.route] = per_pattern.get(match.route, 0) + 1
        if per_pattern[match.route] > PAGES_PER_PATTERN:
            continue
        response = client.get(url, follow=True)
        if response.status_code >= 400:
            dead.append((response.status_code, url, came_from))
            continue
        landed = response.redirect_chain[-1][0] if response.redirect_chain else url
        reached.add(landed.split("?")[0])
        if "text/html" not in response.get("Content-Type", ""):
            continue
        for link in (h.replace("&amp;", "&") for h in HREF.findall(response.content.decode())):
            if link.startswith("/") and not any(part in link for part in NOT_FOLLOWED):
                queue.append((link, landed))
    return reached, dead


def test_every_role_reaches_what_the_readme_names_by_tapping_with_no_dead_end():
    call_command("seed_demo", verbosity=0)
    users = {u.email: u for u in get_user_model().objects.filter(email__in=list(WHAT_TO_TRY))}

    missing, dead_ends = {}, {}
    for email, pages in WHAT_TO_TRY.items():
        client = Client()
        if email:
            client.force_login(users[email])
        reached, dead = walk(client)
        missing[email] = [page for page in pages if page not in reached]
        dead_ends[email] = dead

    assert missing == {email: [] for email in WHAT_TO_TRY}
    assert dead_ends == {email: [] for email in WHAT_TO_TRY}
