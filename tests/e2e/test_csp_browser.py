"""The Content-Security-Policy in a real headless Chromium: pages work and nothing is refused.

The browser enforces the header the server sends; any inline script, handler or style
element without the nonce, or a resource from an origin the policy does not list, is
refused and reported. Every report, and any other error a page logs, fails the test.
Map tiles are answered locally (the tests have no network) but are still requested from
tile.openstreetmap.org, so the policy's img-src is what is exercised.
"""

import base64
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.browser import PHONE, browser_marks
from tests.factories import category, product
from tests.loyalty.factories import member_factory, order_for
from tests.stores.factories import every_day, stock, store

TILES = re.compile(r"^https://tile\.openstreetmap\.org/\d+/\d+/\d+\.png$")
# A 1x1 PNG stands in for every map tile.
TILE_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
# Reported by the page itself (Playwright's init scripts are not subject to the CSP), so
# the test does not depend on how Chromium words its console messages.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
    console.error("CSP violation: " + event.violatedDirective + " blocked " + event.blockedURI);
});
"""

pytestmark = browser_marks()


class Visit:
    """A browser context that records CSP reports and page errors, and serves map tiles."""

    def __init__(self, browser, live_server, *, session_id: str | None = None):
        self.context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
        self.context.set_default_timeout(10_000)
        self.tiles: list[str] = []
        self.problems: list[str] = []
        self.context.route(TILES, self._tile)
        self.context.route(
            re.compile(r"^(?!" + re.escape(live_server.url) + r")(?!https://tile\.)https?://"),
            lambda route: route.abort(),
        )
        if session_id:
            self.context.add_cookies(
                [{"name": "sessionid", "value": session_id, "url": live_server.url}]
            )
        self.context.add_init_script(REPORT_VIOLATIONS)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _tile(self, route):
        self.tiles.append(route.request.url)
        route.fulfill(status=200, body=TILE_PNG, content_type="image/png")

    def _console(self, message):
        # Any error, whoever logs it: a refused resource, a script that throws, a 404.
        if message.type == "error":
            self.problems.append(f"console error: {message.text} ({message.location['url']})")

    def goto(self, url: str):
        response = self.page.goto(url, wait_until="networkidle")
        assert response.status == 200, f"{url}: {response.status}"
        return response


def test_store_locator_map_loads_its_tiles_with_no_csp_violation(browser, live_server, tmp_path):
    # Given two stores on the map
    hours = every_day("00:00", "23:59")
    store("Centre", lat=48.5819, lng=7.7507, hours=hours)
    robertsau = store("Robertsau", lat=48.5960, lng=7.7800, hours=hours)
    visit = Visit(browser, live_server)

    # When a shopper opens the locator for a postcode, then a store's page
    response = visit.goto(f"{live_server.url}/stores/?place=67000")
    visit.page.wait_for_selector("#store-map .leaflet-tile-loaded")
    visit.page.screenshot(path=tmp_path / "locator.png", full_page=True)

    # Then the page was served under the policy, Leaflet drew the map from
    # OpenStreetMap tiles and the markers, and nothing was refused
    assert "object-src 'none'" in response.headers["content-security-policy"]
    assert len(visit.tiles) > 0
    assert visit.page.locator("#store-map .leaflet-marker-icon").count() >= 2
    visit.goto(live_server.url + robertsau.get_absolute_url())
    assert visit.problems == []
    visit.context.close()


@pytest.mark.postgres  # the live server's flush must be allowed to empty the points ledger
def test_loyalty_page_and_dashboard_run_with_no_csp_violation(
    browser, live_server, client, tmp_path
):
    # Given a member with an order (charts, card QR) and a superuser with an order to look at
    member = member_factory()
    munster = product("Munster", price="24.00", categories=[category("Cheese")])
    order = order_for(member.user, (munster, 1))
    centre = store("Centre", lat=48.5819, lng=7.7507)
    stock(centre, munster, 5, price="24.00")
    client.force_login(member.user)
    shopper = Visit(browser, live_server, session_id=client.cookies["sessionid"].value)

    # When the member opens their loyalty page
    shopper.goto(live_server.url + reverse("loyalty:member"))
    shopper.page.screenshot(path=tmp_path / "loyalty.png", full_page=True)

    # Then the charts and the member card's QR code show, and nothing was refused
    assert shopper.page.locator(".loyalty-chart svg").first.is_visible()
    assert shopper.page.evaluate("document.querySelector('.loyalty-qr').naturalWidth") > 0
    assert shopper.problems == []
    shopper.context.close()

    # When a superuser goes through the dashboard's main pages
    admin = get_user_model().objects.create_superuser("hq@example.com", "hq@example.com", "pw")
    client.force_login(admin)
    staff = Visit(browser, live_server, session_id=client.cookies["sessionid"].value)
    for url in (
        reverse("dashboard:index"),
        reverse("dashboard:order-list"),
        reverse("dashboard:order-detail", kwargs={"number": order.number}),
        reverse("dashboard:catalogue-product", kwargs={"pk": munster.pk}),
        reverse("stores-dashboard:queue"),
        reverse("loyalty_dashboard:loyalty-rules"),
    ):
        staff.goto(live_server.url + url)

    # Then Oscar's nonce-carrying initialisers ran (the dashboard's tabs work) and no page
    # logged an error
    assert staff.page.evaluate("typeof window.oscar.dashboard") == "object"
    assert staff.problems == []

    # When they tick the order page's "Select all lines" box, then every line is chosen
    staff.goto(live_server.url + reverse("dashboard:order-detail", kwargs={"number": order.number}))
    staff.page.get_by_label("Select all lines").check()
    lines = staff.page.locator('#order_lines_form input[name="selected_line"]')
    assert [lines.nth(i).is_checked() for i in range(lines.count())] == [True] * order.lines.count()
    assert staff.problems == []
    staff.context.close()
