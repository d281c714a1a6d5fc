"""README.md "Recommendations" on the shop's pages and in campaign messages: "for you" on
the home page, bought together on the product page and in the basket, in stock at the
shopper's store first, in a number of queries that does not grow with the shelf."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model
from oscar.test.factories import UserFactory

from loyalty.models import CampaignMessage, CampaignSend
from loyalty.services.campaigns import campaign_preview
from loyalty.services.recommendations import recommendations_refresh
from shop.catalogue.cards import card_versions_bump
from shop.communication.models import OutboxMessage
from shop.communication.preferences import consent_record
from shop.security import roles
from stores.selectors import SESSION_STORE_KEY
from tests.factories import product
from tests.loyalty.campaign_helpers import campaign_for, consenting_member, fan_out, sending
from tests.loyalty.factories import member_factory, order_for
from tests.shop.catalogue_fixtures import product_view_writes
from tests.stores.factories import stock, store

pytestmark = pytest.mark.django_db

StockRecord = get_model("partner", "StockRecord")


def shelf(html: str, slug: str) -> list[str]:
    """The product titles of the shelf `slug`, in order ([] when it is not shown)."""
    found = re.search(rf'<section[^>]*id="{slug}".*?</section>', html, re.S)
    if found is None:
        return []
    return re.findall(r'product-card__title"><a href="[^"]*">([^<]*)</a>', found.group(0))


def choose(client, chosen) -> None:
    session = client.session
    session[SESSION_STORE_KEY] = chosen.pk
    session.save()


@pytest.fixture
def bought():
    """Ann bought Munster; others bought it with Pinot gris twice, with Riesling once.
    Riesling is then out of stock online and in stock at Centre only."""
    items = {
        name: product(name, stock=100) for name in ("Munster", "Pinot gris", "Riesling", "Comté")
    }
    ann, bob, cid = member_factory(), member_factory(), member_factory()
    order_for(bob.user, (items["Munster"], 1), (items["Pinot gris"], 1))
    order_for(cid.user, (items["Munster"], 1), (items["Pinot gris"], 1))
    order_for(cid.user, (items["Munster"], 1), (items["Riesling"], 1))
    order_for(ann.user, (items["Munster"], 1))
    StockRecord.objects.filter(product=items["Riesling"]).update(num_in_stock=1, num_allocated=1)
    centre = store("Centre")
    stock(centre, items["Riesling"], 3)
    recommendations_refresh(at=timezone.now())
    return {"ann": ann, "centre": centre, **items}


def test_for_you_on_the_home_page_puts_what_my_store_has_first(client, bought):
    client.force_login(bought["ann"].user)

    anywhere = client.get(reverse("home")).content.decode()
    choose(client, bought["centre"])
    at_centre = client.get(reverse("home")).content.decode()

    assert shelf(anywhere, "for-you") == ["Pinot gris", "Riesling"]
    assert shelf(at_centre, "for-you") == ["Riesling", "Pinot gris"]
    assert "Chosen from your orders; in stock at your store first." in at_centre
    client.logout()
    assert shelf(client.get(reverse("home")).content.decode(), "for-you") == []


def test_the_product_page_and_the_basket_show_what_is_bought_together(client, bought):
    page = client.get(bought["Munster"].get_absolute_url()).content.decode()
    assert shelf(page, "bought-together") == ["Pinot gris", "Riesling"]
    choose(client, bought["centre"])
    page = client.get(bought["Munster"].get_absolute_url()).content.decode()
    assert shelf(page, "bought-together") == ["Riesling", "Pinot gris"]

    client.post(reverse("basket:add", kwargs={"pk": bought["Pinot gris"].pk}), {"quantity": 1})
    basket = client.get(reverse("basket:summary")).content.decode()

    assert shelf(basket, "basket-suggestions") == ["Munster"]


def test_a_shelf_is_ordered_again_when_a_candidates_stock_changes(client, bought):
    # The order is cached under the candidates' card versions (recommendation_tags).
    choose(client, bought["centre"])
    url = bought["Munster"].get_absolute_url()
    before = shelf(client.get(url).content.decode(), "bought-together")

    record = StockRecord.objects.get(partner=bought["centre"].partner, product=bought["Riesling"])
    record.num_in_stock = 0
    record.save()
    stock(bought["centre"], bought["Pinot gris"], 2)
    after = shelf(client.get(url).content.decode(), "bought-together")

    assert before == ["Riesling", "Pinot gris"]
    assert after == ["Pinot gris", "Riesling"]


def test_an_empty_basket_shows_the_members_products(client, bought):
    client.force_login(bought["ann"].user)

    basket = client.get(reverse("basket:summary")).content.decode()

    assert shelf(basket, "basket-suggestions") == ["Pinot gris", "Riesling"]
    assert 'id="basket-suggestions-title" class="home-section__title">For you<' in basket


def _more_pairs(bought, count: int) -> None:
    """`count` more products bought with Munster by Ann's neighbours, Ann's list rebuilt."""
    buyer = member_factory()
    for i in range(count):
        order_for(buyer.user, (bought["Munster"], 1), (product(f"Bredele {i}"), 1))
    recommendations_refresh(at=timezone.now(), full=True)


@pytest.mark.parametrize("cards", ["cached", "rendered"])
@pytest.mark.parametrize("signed_in", [False, True], ids=["guest", "member"])
def test_the_pages_cost_the_same_queries_with_longer_shelves(
    client, bought, signed_in, cards, django_assert_num_queries
):
    if signed_in:
        client.force_login(bought["ann"].user)
    choose(client, bought["centre"])
    client.post(reverse("basket:add", kwargs={"pk": bought["Munster"].pk}), {"quantity": 1})
    pages = {
        "home": reverse("home"),
        "product": bought["Munster"].get_absolute_url(),
        "basket": reverse("basket:summary"),
    }
    # The shelves' share: the candidate list (cached), the ids and stock figures that
    # order a shelf (two queries, none while the candidates' cards are unchanged: the
    # order is cached under their versions), the cards from the cache; with every card
    # retired, the order again and the products with what a card reads (6 queries per
    # page), whatever the number shown, and the menu's categories (2).
    # The product page's shared parts come from the cache (shop/catalogue/product_page.py),
    # with the product and the recommended ids, and the page writes no analytics row
    # (shop/catalogue/views.py). The basket page reads its lines and offers once
    # (shop/basket_load.py). A member's menu asks for no permission once its dashboard
    # link is cached (shop/security/dashboard_link.py), and their wish lists are one query.
    # The chosen store comes from the cache (stores/selectors/choice.py). Every page reads
    # the basket's lines once, their attributes only if they have some, its vouchers only
    # if it has some, and the offers from the cache (shop/basket_load.py,
    # shop/offer/cache.py).
    expected = {
        ("member", "cached"): {"home": 9, "product": 11, "basket": 11},
        ("guest", "cached"): {"home": 6, "product": 6, "basket": 6},
        # 6 per shelf shown, and the strategy's list of store partners if no card read it;
        # the product page's shared parts are rendered again too (8 more queries: what
        # they show and the recommended ids, shop/catalogue/product_page.py).
        ("member", "rendered"): {"home": 26, "product": 32, "basket": 21},
        ("guest", "rendered"): {"home": 15, "product": 27, "basket": 16},
    }[("member" if signed_in else "guest", cards)]
    expected["product"] += product_view_writes(signed_in=signed_in)

    def measured(url):
        if cards == "rendered":
            card_versions_bump(everything=True)
        with django_assert_num_queries(expected[name]):
            return client.get(url).content.decode()

    shown = {}
    for name, url in pages.items():
        client.get(url)  # caches filled
        shown[name] = measured(url)
    _more_pairs(bought, 6)
    more = {}
    for name, url in pages.items():
        client.get(url)
        more[name] = measured(url)

    assert len(shelf(shown["product"], "bought-together")) == 2
    assert len(shelf(more["product"], "bought-together")) == 4
    assert len(shelf(more["basket"], "basket-suggestions")) == 4
    assert len(shelf(more["home"], "for-you")) == (8 if signed_in else 0)


def test_campaign_messages_name_the_members_products(bought):
    ann = bought["ann"]
    consent_record(user=ann.user, channel="email", granted=True, source="test")
    zoe = consenting_member()  # no orders: nothing to recommend
    campaign = campaign_for()
    CampaignMessage.objects.filter(campaign=campaign).update(
        body="Pour vous : {{ recommended_products }}."
    )

    preview = campaign_preview(campaign=campaign, member=ann, channels=["email"])
    fan_out(sending(campaign))

    assert preview["email"]["body"].startswith("Pour vous : Pinot gris, Riesling.\n")
    bodies = {
        send.member_id: send.outbox_message.body.split("\n")[0]
        for send in CampaignSend.objects.filter(outbox_message__isnull=False).select_related(
            "outbox_message"
        )
    }
    assert bodies == {ann.pk: "Pour vous : Pinot gris, Riesling.", zoe.pk: "Pour vous : ."}
    assert OutboxMessage.objects.filter(purpose="marketing").count() == 2


def test_a_marketer_sees_why_each_product_was_recommended(client, bought):
    marketer = UserFactory(is_staff=True)
    roles.role_give(marketer, roles.MARKETER)
    client.force_login(marketer)
    url = reverse("loyalty_dashboard:loyalty-recommendations")

    page = client.get(url, {"member": bought["ann"].number})
    by_email = client.get(url, {"member": bought["ann"].user.email.upper()})
    missing = client.get(url, {"member": "0000000000"})

    assert [
        (row.position, row.product.get_title(), row.why) for row in page.context["explained"]
    ] == [
        (1, "Pinot gris", "Bought together with Munster (2 times)"),
        (2, "Riesling", "Bought together with Munster (1 times)"),
    ]
    assert by_email.context["member"] == bought["ann"]
    html = page.content.decode()
    assert '<td class="text-break">Bought together with Munster (2 times)</td>' in html
    assert [
        (p.product.get_title(), p.other.get_title(), p.times) for p in page.context["pairs"]
    ] == [
        ("Munster", "Pinot gris", 2),
        ("Munster", "Riesling", 1),
    ]
    assert "No member found: enter a member number or email address." in missing.content.decode()
