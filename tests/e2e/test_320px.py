"""Every shopper, store-staff and head-office page on a 320 px phone, in headless Chromium.

Nothing may scroll sideways (README, "What to try in the demo": phones first): for each
page, `document.documentElement.scrollWidth` must not exceed the 320 px screen. The data
is made to be awkward: long names, a 500-character search, a 300-character place, orders
with several lines. One browser, one page; each role signs in once (a session cookie from
Django's test client), so the whole tour takes seconds.
"""

import datetime as dt
import re
from itertools import pairwise

import pytest
from django.urls import reverse
from oscar.test.factories import ProductImageFactory, UserFactory, WishListFactory

from loyalty.models import Campaign, CampaignRecipient, CampaignSend
from loyalty.services.ledger import points_credit
from stores.links import pickup_link_url
from tests.browser import browser_marks
from tests.factories import category, product
from tests.loyalty.campaign_helpers import campaign_for
from tests.loyalty.factories import member_factory
from tests.stores.factories import ALWAYS_OPEN, pickup_order, staff_of, stock, store

# PostgreSQL: the live server's flush must empty the points ledger and the audit log.
pytestmark = browser_marks(pytest.mark.postgres)

NARROW = {"width": 320, "height": 640}
LONG_WORD = "Gewürztraminervendangestardives"


@pytest.fixture
def awkward_shop(live_server):
    """A store, its staff, a member with points, a pickup order and a wishlist."""
    groceries = category("Groceries and electronics accessories")
    wine = category("Wine, beer and spirits from Alsace", parent=groceries)
    items = []
    for n in range(6):
        item = product(
            f"{LONG_WORD} grand cru, Domaine Zind-Humbrecht {n}",
            price=f"{12 + n}.90",
            categories=[wine],
            description=f"{LONG_WORD} " * 20,
        )
        ProductImageFactory(product=item)
        items.append(item)
    centre = store(
        "Strasbourg Centre — Place Kléber, ground floor and basement",
        hours=ALWAYS_OPEN,
        phone="03 88 00 00 00",
    )
    record = stock(centre, items[0], 5, price="12.90")
    staff = staff_of(centre, "staff@centre.example")
    member = member_factory(email="lea@example.com")
    points_credit(member=member, amount=1500, reason="Welcome", idempotency_key="welcome")
    pickup = pickup_order(centre, quantity=3, user=member.user, starts_in=dt.timedelta(hours=3))
    WishListFactory(owner=member.user, name=f"Christmas {LONG_WORD}").add(items[1])
    # A campaign sent to the member an hour before their order: its attribution report lists it.
    campaign = campaign_for(name=f"Spring {LONG_WORD}", control_percent=10)
    launched = pickup.order.date_placed - dt.timedelta(hours=1)
    Campaign.objects.filter(pk=campaign.pk).update(status="finished", launched_at=launched)
    CampaignRecipient.objects.create(campaign=campaign, member=member)
    CampaignRecipient.objects.create(campaign=campaign, member=member_factory(), is_control=True)
    CampaignSend.objects.create(
        campaign=campaign, member=member, channel="email", status="sent", created_at=launched
    )
    return {
        "campaign": campaign,
        "live_server": live_server,
        "category": wine,
        "product": items[0],
        "store": centre,
        "record": record,
        "staff": staff,
        "member": member,
        "pickup": pickup,
    }


def shopper_pages(shop) -> dict[str, str]:
    pickup = shop["pickup"]
    return {
        "home": "/",
        "categories": "/categories/",
        "category": shop["category"].get_absolute_url(),
        "catalogue": "/catalogue/",
        "product": shop["product"].get_absolute_url(),
        "search with a 500-character query": "/search/?q=" + "munster" * 72,
        "search with one 500-character word": "/search/?q=" + "x" * 500,
        "store locator": "/stores/",
        "store locator with a 300-character place": "/stores/?place=" + "Strasbourg" * 30,
        "store locator, a place with no store near": "/stores/?place=Paris",
        "store page": shop["store"].get_absolute_url(),
        "pickup follow page": pickup_link_url(order_number=pickup.order.number),
        "basket": "/basket/",
        "account": "/accounts/",
        "order history": "/accounts/orders/",
        "order page": f"/accounts/orders/{pickup.order.number}/",
        "profile": "/accounts/profile/",
        "profile edit": "/accounts/profile/edit/",
        "address book": "/accounts/addresses/",
        "notifications": "/accounts/notifications/inbox/",
        "wishlists": "/accounts/wishlists/",
        "product alerts": "/accounts/alerts/",
        "loyalty member page": "/loyalty/",
        "French home": "/fr/",
        "French order page": f"/fr/accounts/orders/{pickup.order.number}/",
    }


def staff_pages(shop) -> dict[str, str]:
    return {
        "dashboard home": "/dashboard/",
        "pickup queue": "/dashboard/stores/pickups/",
        "pickup detail": f"/dashboard/stores/pickups/{shop['pickup'].pk}/",
        "stores (hours and closures)": "/dashboard/stores/",
        "store hours and closures": f"/dashboard/stores/{shop['store'].pk}/",
        "stock": "/dashboard/stores/stock/",
        "stock edit": f"/dashboard/stores/stock/{shop['record'].pk}/",
        "French pickup queue": "/fr/dashboard/stores/pickups/",
    }


# Where a word cut in two is a fault: names on tiles, prices, table cells ("Re-orde r").
UNCUT = ".category-tile__name, .price, .page td, .page th, .content td, .content th"

WORDS_CUT = """(selector) => {
    const cut = [];
    for (const el of document.querySelectorAll(selector)) {
        if (!el.getClientRects().length) continue;
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
            const node = walker.currentNode;
            // A hyphen is a fair place to break: "Re-" then "order" is not a cut word.
            for (const word of node.textContent.matchAll(/[^\\s-]+/g)) {
                const range = document.createRange();
                range.setStart(node, word.index);
                range.setEnd(node, word.index + word[0].length);
                const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
                if (lines.size > 1) cut.push(word[0]);
            }
        }
    }
    return cut.slice(0, 3);
}"""


def hq_pages(shop) -> dict[str, str]:
    """Oscar's dashboard and ours, as head office (a superuser) sees them."""
    return {
        "dashboard home with its chart": "/dashboard/",
        "orders": "/dashboard/orders/",
        "products": "/dashboard/catalogue/",
        "offers": "/dashboard/offers/",
        "vouchers": "/dashboard/vouchers/",
        "reports": "/dashboard/reports/",
        "reviews": "/dashboard/reviews/",
        "users": "/dashboard/users/",
        "loyalty tiers": "/dashboard/loyalty/tiers/",
        "loyalty segments": "/dashboard/loyalty/segments/",
        "audit log": "/dashboard/audit/",
        "loyalty cost simulator": "/dashboard/loyalty/simulator/",
        "campaign attribution report": reverse(
            "loyalty_dashboard:loyalty-campaign-attribution", kwargs={"pk": shop["campaign"].pk}
        ),
    }


# The hour labels under the dashboard's chart that are shown, left to right.
CHART_LABELS = """() => [...document.querySelectorAll("#order_graph dd em")]
    .filter((label) => getComputedStyle(label).visibility !== "hidden")
    .map((label) => label.getBoundingClientRect())
    .map((box) => [box.left, box.right])"""


def layout_faults(page, base_url: str, pages: dict[str, str]) -> list[str]:
    """The pages wider than the screen (their width and what sticks out first) or with
    words cut in two where they must not be."""
    failures = []
    for name, path in pages.items():
        response = page.goto(base_url + path)
        assert response.status == 200, f"{name} ({path[:60]}): HTTP {response.status}"
        cut = page.evaluate(WORDS_CUT, UNCUT)
        if cut:
            failures.append(f"{name} ({path[:60]}): words cut in two: {cut}")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > NARROW["width"]:
            culprit = page.evaluate(
                """(limit) => {
                    for (const el of document.querySelectorAll("body *")) {
                        const right = el.getBoundingClientRect().right;
                        if (right > limit + 0.5) {
                            return el.tagName.toLowerCase() + "." + [...el.classList].join(".");
                        }
                    }
                    return "?";
                }""",
                NARROW["width"],
            )
            failures.append(f"{name} ({path[:60]}): {width} px, first too wide: {culprit}")
    return failures


def sign_in_as(context, client, live_server, user) -> None:
    """Reuse a session made by Django's test client: no login form per role."""
    client.force_login(user)
    context.clear_cookies()
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_no_shopper_or_staff_page_scrolls_sideways_at_320px(browser, awkward_shop, client):
    live_server = awkward_shop["live_server"]
    context = browser.new_context(viewport=NARROW, device_scale_factor=1, is_mobile=True)
    # Only the live server: no map tiles from the internet.
    context.route(
        re.compile(r"^(?!" + re.escape(live_server.url) + ")https?://"),
        lambda route: route.abort(),
    )
    context.set_default_timeout(10_000)
    page = context.new_page()

    # Given a basket with the product in it, as the member
    sign_in_as(context, client, live_server, awkward_shop["member"].user)
    page.goto(live_server.url + awkward_shop["product"].get_absolute_url())
    with page.expect_navigation():
        page.click("#add_to_basket_form button[type=submit]")

    # When the member visits every shopper page, then the store's staff every staff page,
    failures = layout_faults(page, live_server.url, shopper_pages(awkward_shop))
    sign_in_as(context, client, live_server, awkward_shop["staff"])
    failures += layout_faults(page, live_server.url, staff_pages(awkward_shop))
    # and head office every page of Oscar's dashboard it works in
    sign_in_as(context, client, live_server, UserFactory(is_staff=True, is_superuser=True))
    failures += layout_faults(page, live_server.url, hq_pages(awkward_shop))

    # Then none is wider than the screen, and no word is cut in two
    assert failures == []
    # and the dashboard shows the shop's name, one menu button, and its chart's hour labels
    # side by side, none over the next
    page.goto(live_server.url + "/dashboard/")
    assert page.locator(".navbar-brand").inner_text().strip() == "Solomo"
    assert page.locator(".navbar-toggler:visible").count() == 1
    labels = page.evaluate(CHART_LABELS)
    assert len(labels) >= 4
    assert all(left[1] <= right[0] for left, right in pairwise(labels)), labels
    context.close()
