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
from django.utils import timezone
from oscar.test.factories import ProductImageFactory, UserFactory, WishListFactory

from loyalty.models import Campaign, CampaignRecipient, CampaignSend
from loyalty.services.ledger import points_credit
from stores.links import pickup_link_url
from stores.sharing import shared_pass_create, shared_pass_url
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
    # Shared with a friend (R47): the order page shows the link, the pass page the friend.
    shared = shared_pass_create(
        pickup=pickup,
        user=member.user,
        friend_name=f"{LONG_WORD} {LONG_WORD}"[:60],
        language="en",
        now=timezone.now(),
    )
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
        "shared": shared,
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
        "friend's pickup pass": shared_pass_url(shared=shop["shared"]),
        "French friend's pickup pass": "/fr" + shared_pass_url(shared=shop["shared"]),
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
        "loyalty give points": "/loyalty/gift/",
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


@pytest.fixture
def awkward_campaigns(awkward_shop):
    """A draft campaign and a finished one with its sends, long names and texts."""
    from tests.loyalty.campaign_helpers import campaign_for, consenting_member, fan_out, sending

    for n in range(3):
        consenting_member(first_name=f"{LONG_WORD}{n}", email=f"{LONG_WORD}{n}@example.com")
    draft = campaign_for(
        name=f"{LONG_WORD} tasting evening — 50 bonus points"[:100],
        channels=("email", "sms"),
        control_percent=10,
    )
    finished = sending(campaign_for(name=f"We miss you: {LONG_WORD} week"))
    fan_out(finished)
    return {"draft": draft, "finished": finished}


def campaign_pages(campaigns) -> dict[str, str]:
    draft, finished = campaigns["draft"].pk, campaigns["finished"].pk
    base = "/dashboard/loyalty/campaigns/"
    return {
        "campaign list": base,
        "campaign form (new)": f"{base}new/",
        "campaign form (draft)": f"{base}{draft}/edit/",
        "campaign detail (draft)": f"{base}{draft}/",
        "campaign preview": f"{base}{draft}/preview/",
        "campaign report (finished)": f"{base}{finished}/",
        "French campaign report": f"/fr{base}{finished}/",
    }


# The hour labels under the dashboard's chart that are shown, left to right.
CHART_LABELS = """() => [...document.querySelectorAll("#order_graph dd em")]
    .filter((label) => getComputedStyle(label).visibility !== "hidden")
    .map((label) => label.getBoundingClientRect())
    .map((box) => [box.left, box.right])"""


TAB_LABELS = """() => [...document.querySelectorAll(".tabbar__item > span:not(.count-badge)")]
    .map((label) => [label.textContent.trim(), label.scrollWidth > label.clientWidth])"""


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


def test_no_shopper_or_staff_page_scrolls_sideways_at_320px(
    browser, awkward_shop, awkward_campaigns, client
):
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
    failures += layout_faults(page, live_server.url, campaign_pages(awkward_campaigns))

    # Then none is wider than the screen, and no word is cut in two
    assert failures == []
    # and the tab bar's five labels are whole ("Categor…" was cut), in English and French
    for path in ("/", "/fr/"):
        page.goto(live_server.url + path)
        labels = page.evaluate(TAB_LABELS)
        assert len(labels) == 5, path
        assert [text for text, cut in labels if cut] == [], path
    # and the dashboard shows the shop's name, one menu button, and its chart's hour labels
    # side by side, none over the next
    page.goto(live_server.url + "/dashboard/")
    assert page.locator(".navbar-brand").inner_text().strip() == "Solomo"
    assert page.locator(".navbar-toggler:visible").count() == 1
    labels = page.evaluate(CHART_LABELS)
    assert len(labels) >= 4
    assert all(left[1] <= right[0] for left, right in pairwise(labels)), labels
    context.close()


# The boxes of the segment form's offer checkboxes, their labels and the field's help text.
OFFER_BOXES = """() => {
    const box = (el) => { const r = el.getBoundingClientRect();
        return [r.left, r.top, r.right, r.bottom]; };
    const inputs = [...document.querySelectorAll("input[name=offers]")];
    return {
        inputs: inputs.map(box),
        labels: inputs.map((input) => box(input.closest("label") || input.labels[0])),
        help: box(inputs[0].closest(".form-group").querySelector(".form-text")),
    };
}"""


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_the_segment_offer_checkboxes_stay_clear_of_their_help_text_at_375px(
    browser, live_server, client
):
    from oscar.test.factories import ConditionalOfferFactory

    # Given two user offers a marketer may attach to a segment
    for name in ("10 % off coffee for lapsed members", f"{LONG_WORD} tasting"):
        ConditionalOfferFactory(name=name, offer_type="User")
    context = browser.new_context(
        viewport={"width": 375, "height": 740}, device_scale_factor=1, is_mobile=True
    )
    sign_in_as(context, client, live_server, UserFactory(is_staff=True, is_superuser=True))
    page = context.new_page()

    # When the segment form is opened on a 375 px phone
    page.goto(live_server.url + "/dashboard/loyalty/segments/new/")
    boxes = page.evaluate(OFFER_BOXES)

    # Then each checkbox sits beside its own label, above the help text, over nothing else
    assert len(boxes["inputs"]) == 2
    for checkbox, label in zip(boxes["inputs"], boxes["labels"], strict=True):
        assert checkbox[2] - checkbox[0] < 30, checkbox  # a box, not a full-width field
        assert not _overlap(checkbox, boxes["help"]), (checkbox, boxes["help"])
        assert label[3] <= boxes["help"][1] + 0.5, (label, boxes["help"])
    first, second = boxes["labels"]
    assert not _overlap(first, second)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()
