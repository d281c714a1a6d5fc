"""The basket's offers come from the cache across requests (shop/offer/cache.py), and every
change that alters what they give, or to whom, is on the next page at once: a discount is
never shown from a stale offer."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model

from loyalty.models import Tier, TierLevel
from loyalty.services.segments import segment_save, segments_with_offers_forget
from loyalty.services.tiers import tier_levels_ensure, tier_offer_sync
from tests.factories import product
from tests.loyalty.factories import GOLD, SILVER, member_factory, ten_percent_user_offer

pytestmark = pytest.mark.django_db

ConditionalOffer = get_model("offer", "ConditionalOffer")
Range = get_model("offer", "Range")
Condition = get_model("offer", "Condition")
Benefit = get_model("offer", "Benefit")
Voucher = get_model("voucher", "Voucher")


def euros_off(euros: int, **fields) -> "ConditionalOffer":
    everything = Range.objects.create(name=f"Everything {euros}", includes_all_products=True)
    return ConditionalOffer.objects.create(
        name=f"{euros} euros off",
        offer_type=fields.pop("offer_type", ConditionalOffer.SITE),
        condition=Condition.objects.create(range=everything, type=Condition.COUNT, value=1),
        benefit=Benefit.objects.create(range=everything, type=Benefit.FIXED, value=euros),
        **fields,
    )


def page(client) -> tuple[Decimal, list[str]]:
    """The basket page's total, and the offer rows its request read."""
    with CaptureQueriesContext(connection) as queries:
        shown = client.get(reverse("basket:summary"))
    offer_reads = [q["sql"] for q in queries if 'FROM "offer_conditionaloffer"' in q["sql"]]
    return shown.context["basket"].total_incl_tax, offer_reads


@pytest.fixture
def mug_in_basket(client):
    mug = product("Mug", price="8.00", stock=10)
    client.post(reverse("basket:add", kwargs={"pk": mug.pk}), {"quantity": 1})
    return mug


def test_a_changed_benefit_is_on_the_next_page(client, mug_in_basket):
    offer = euros_off(1)
    assert page(client)[0] == Decimal("7.00")
    total, reads = page(client)
    assert (total, reads) == (Decimal("7.00"), [])  # from the cache

    offer.benefit.value = 3
    offer.benefit.save()

    total, reads = page(client)
    assert total == Decimal("5.00")
    assert len(reads) == 1


def test_a_product_taken_out_of_the_range_is_no_longer_discounted(client, mug_in_basket):
    offer = euros_off(1)
    assert page(client)[0] == Decimal("7.00")

    offer.benefit.range.excluded_products.add(mug_in_basket)
    Condition.objects.get(pk=offer.condition_id).range.excluded_products.add(mug_in_basket)

    assert page(client)[0] == Decimal("8.00")


def test_an_offer_stops_at_its_global_limit(client, mug_in_basket):
    offer = euros_off(1, max_global_applications=2)
    assert page(client)[0] == Decimal("7.00")

    # What placing an order records (OrderCreator → ConditionalOffer.record_usage).
    ConditionalOffer.objects.get(pk=offer.pk).record_usage({"freq": 2, "discount": Decimal("2.00")})

    assert page(client)[0] == Decimal("8.00")


def test_a_suspended_offer_stops(client, mug_in_basket):
    offer = euros_off(1)
    assert page(client)[0] == Decimal("7.00")

    offer.suspend()

    assert page(client)[0] == Decimal("8.00")


def test_offers_start_and_end_on_time_with_nothing_saved(client, mug_in_basket):
    # Given one offer ending and another starting in a second, both cached
    switch = timezone.now() + timedelta(seconds=1)
    euros_off(1, end_datetime=switch)
    euros_off(3, start_datetime=switch)
    total, _reads = page(client)
    assert total == Decimal("7.00")
    assert page(client) == (Decimal("7.00"), [])

    # When the time passes, nothing saved
    time.sleep(max((switch - timezone.now()).total_seconds(), 0) + 0.05)

    # Then the page, still from the cache, has the second offer only
    assert page(client) == (Decimal("5.00"), [])


def test_a_guests_voucher_applies_from_the_request_that_adds_it(client, mug_in_basket):
    # Given a guest's basket read with no voucher (shop/basket_load.py), and a voucher
    offer = euros_off(2, offer_type=ConditionalOffer.VOUCHER)
    voucher = Voucher.objects.create(
        name="Welcome",
        code="WELCOME2",
        usage=Voucher.MULTI_USE,
        start_datetime=timezone.now() - timedelta(days=1),
        end_datetime=timezone.now() + timedelta(days=1),
    )
    voucher.offers.add(offer)
    assert page(client)[0] == Decimal("8.00")

    # When the guest enters its code, then removes it
    client.post(reverse("basket:vouchers-add"), {"code": "WELCOME2"})
    with_voucher = page(client)[0]
    client.post(reverse("basket:vouchers-remove", kwargs={"pk": voucher.pk}))

    # Then the request adding it found its discount (Oscar removes a voucher that gives
    # none) and the pages follow
    assert with_voucher == Decimal("6.00")
    assert page(client)[0] == Decimal("8.00")


def test_a_member_gets_their_new_tier_discount_at_once(client):
    levels = tier_levels_ensure()
    member = member_factory()
    client.force_login(member.user)
    champagne = product("Champagne", price="50.00", stock=10)
    client.post(reverse("basket:add", kwargs={"pk": champagne.pk}), {"quantity": 1})
    assert page(client)[0] == Decimal("50.00")  # bronze: no discount

    member.tier = Tier.GOLD
    member.save(update_fields=["tier"])
    assert page(client)[0] == Decimal("47.50")  # gold: 5 %

    # The marketers' page changes the gold discount (loyalty/dashboard/views.py)
    gold = TierLevel.objects.get(pk=levels[Tier.GOLD].pk)
    gold.discount_percent = Decimal("10")
    gold.save()
    tier_offer_sync(level=gold)
    assert page(client)[0] == Decimal("45.00")


def test_a_member_entering_or_leaving_a_segment_gets_or_loses_its_offer(client):
    segments_with_offers_forget()
    member = member_factory()
    member.tier = Tier.GOLD
    member.save(update_fields=["tier"])
    client.force_login(member.user)
    champagne = product("Champagne", price="50.00", stock=10)
    client.post(reverse("basket:add", kwargs={"pk": champagne.pk}), {"quantity": 1})
    segment = segment_save(name="Silver", rules=SILVER, offers=[ten_percent_user_offer()])
    assert page(client)[0] == Decimal("50.00")

    segment_save(segment=segment, name="Gold", rules=GOLD)
    assert page(client)[0] == Decimal("45.00")

    segment_save(segment=segment, name="Silver", rules=SILVER)
    assert page(client)[0] == Decimal("50.00")
    segments_with_offers_forget()
