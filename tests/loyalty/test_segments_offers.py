"""One-to-one offers: an Oscar USER offer attached to a segment reaches its members only."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from oscar.apps.partner.strategy import Default
from oscar.core.loading import get_class, get_model

from loyalty.models import Tier
from loyalty.selectors import segment_membership_cache_key, segment_offers_for_user
from loyalty.services.segments import segment_save, segments_with_offers_forget
from tests.factories import product
from tests.loyalty.factories import GOLD, SILVER, member_factory, ten_percent_user_offer
from tests.shop.payment.helpers import member_delivery_checkout

pytestmark = pytest.mark.django_db

Basket = get_model("basket", "Basket")
ConditionalOffer = get_model("offer", "ConditionalOffer")
Range = get_model("offer", "Range")
Condition = get_model("offer", "Condition")
Benefit = get_model("offer", "Benefit")


@pytest.fixture(autouse=True)
def _no_segments_cached():
    """The list of segments with offers is cached; the database is rolled back after each
    test, so the list goes too (this process's own Redis database, tests/config)."""
    segments_with_offers_forget()
    yield
    segments_with_offers_forget()


@pytest.fixture
def offer():
    return ten_percent_user_offer()


@pytest.fixture
def gold_segment(offer):
    return segment_save(name="Gold", rules=GOLD, offers=[offer])


def gold_member():
    member = member_factory()
    member.tier = Tier.GOLD
    member.save(update_fields=["tier"])
    return member


def priced(user) -> "Basket":
    basket = Basket.objects.create(owner=user if user.is_authenticated else None)
    basket.strategy = Default()
    basket.add_product(product("Champagne", price="50.00"), 1)
    request = RequestFactory().get("/")
    request.user = user
    get_class("offer.applicator", "Applicator")().apply(basket, user, request)
    return basket


def test_a_member_of_the_segment_gets_the_offer_in_basket_and_checkout(
    client, fake_stripe, gold_segment
):
    member = gold_member()

    member_delivery_checkout(client, member.user, price="50.00")

    basket_page = client.get(reverse("basket:summary"))
    assert basket_page.context["basket"].total_discount == Decimal("5.00")
    assert "Ten percent for you" in basket_page.content.decode()
    preview = client.get(reverse("checkout:preview"))
    assert preview.context["basket"].total_discount == Decimal("5.00")
    assert preview.context["order_total"].incl_tax == (
        Decimal("45.00") + preview.context["shipping_charge"].incl_tax
    )


def test_a_member_outside_the_segment_does_not(client, fake_stripe, gold_segment):
    member = member_factory()  # bronze

    member_delivery_checkout(client, member.user, price="50.00")

    assert client.get(reverse("basket:summary")).context["basket"].total_discount == 0
    assert client.get(reverse("checkout:preview")).context["basket"].total_discount == 0


def test_changing_the_rules_removes_the_offer_at_once(client, fake_stripe, gold_segment):
    member = gold_member()
    member_delivery_checkout(client, member.user, price="50.00")
    assert client.get(reverse("checkout:preview")).context["basket"].total_discount == 5
    key = segment_membership_cache_key(
        segment_pk=gold_segment.pk, version=gold_segment.version, member_pk=member.pk
    )
    assert cache.get(key) is True  # cached for the next pricing
    version = gold_segment.version

    segment = segment_save(segment=gold_segment, name="Silver", rules=SILVER)

    assert segment.version == version + 1
    assert client.get(reverse("checkout:preview")).context["basket"].total_discount == 0


def test_the_membership_is_cached_between_pricings(gold_segment, offer):
    member = gold_member()
    with CaptureQueriesContext(connection) as first:
        assert segment_offers_for_user(user=member.user) == [offer]

    with CaptureQueriesContext(connection) as second:
        assert segment_offers_for_user(user=member.user) == [offer]

    # First: the segments with offers, the member, the segment, its membership, the offers;
    # then the member and the offers only (segments and membership come from the cache).
    assert (len(first), len(second)) == (5, 2)


def test_anonymous_users_never_get_it(gold_segment):
    assert priced(AnonymousUser()).total_discount == 0
    assert segment_offers_for_user(user=AnonymousUser()) == []


def test_a_signed_in_customer_who_is_not_a_member_does_not_get_it(gold_segment):
    from oscar.test.factories import UserFactory

    assert priced(UserFactory()).total_discount == 0


def test_a_segment_matching_everyone_gives_the_offer_to_members_only(offer):
    from oscar.test.factories import UserFactory

    segment_save(name="Everyone", rules={"match": "all", "conditions": []}, offers=[offer])

    assert priced(member_factory().user).total_discount == Decimal("5.00")
    assert priced(UserFactory()).total_discount == 0


def test_the_builder_offers_only_user_offers_that_are_not_tier_offers(offer):
    from loyalty.dashboard.segment_forms import SegmentForm
    from loyalty.services.tiers import tier_levels_ensure

    tier_levels_ensure()
    site_offer = ten_percent_user_offer("For everyone")
    site_offer.offer_type = ConditionalOffer.SITE
    site_offer.save()

    assert list(SegmentForm().fields["offers"].queryset) == [offer]
