"""R16 and R17: a single-use voucher and a capped offer under concurrent orders, on
PostgreSQL with real threads (shop.offer.usage, shop.offer.models).

Every buyer's basket is priced with the discount one after the other; then all "place
order" POSTs run at once while another connection holds the discount's row lock, so they
all reach it together. Only the discounts that fit are kept; the others are refused with
the reason and a re-priced preview, and nothing of their order is written.
"""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model

from stores.models import Pickup
from tests.concurrency import hold_row_locks, run_concurrently
from tests.factories import product
from tests.shop.concurrency_fixtures import buyer_ready_to_place, open_store, place
from tests.stores.factories import stock

Order = get_model("order", "Order")
OrderDiscount = get_model("order", "OrderDiscount")
ConditionalOffer = get_model("offer", "ConditionalOffer")
Range = get_model("offer", "Range")
Condition = get_model("offer", "Condition")
Benefit = get_model("offer", "Benefit")
Voucher = get_model("voucher", "Voucher")
Basket = get_model("basket", "Basket")

pytestmark = [
    pytest.mark.postgres,  # reason: row locks and real concurrent transactions
    pytest.mark.django_db(transaction=True),
]


def one_euro_off(name: str, *, offer_type: str, **caps) -> "ConditionalOffer":
    everything = Range.objects.create(name=f"Everything: {name}", includes_all_products=True)
    return ConditionalOffer.objects.create(
        name=name,
        offer_type=offer_type,
        condition=Condition.objects.create(range=everything, type=Condition.COUNT, value=1),
        benefit=Benefit.objects.create(range=everything, type=Benefit.FIXED, value=1),
        **caps,
    )


def outcome(responses) -> tuple[int, list]:
    """(orders placed, the refused responses)."""
    for response in responses:
        assert not isinstance(response, Exception), repr(response)
    placed = [r for r in responses if r.status_code == 302 and "thank-you" in r["Location"]]
    refused = [r for r in responses if r.status_code == 200]
    assert len(placed) + len(refused) == len(responses), [r.status_code for r in responses]
    return len(placed), refused


def test_r17_capped_offer_two_n_concurrent_orders_give_at_most_n_discounts():
    cap = 3
    offer = one_euro_off(
        "Three first orders", offer_type=ConditionalOffer.SITE, **{"max_global_applications": cap}
    )
    mug = product("Mug", price="10.00", stock=0)
    shop = open_store("Centre")
    record = stock(shop, mug, 100, price="10.00")
    buyers = [buyer_ready_to_place(shop, [mug]) for _ in range(2 * cap)]

    responses = run_concurrently(
        [place(b) for b in buyers],
        lock=hold_row_locks("offer_conditionaloffer", [offer.pk]),
        until_blocked=2 * cap,
    )

    placed, refused = outcome(responses)
    assert (placed, len(refused)) == (cap, cap)
    offer.refresh_from_db()
    assert (offer.num_applications, offer.num_orders) == (cap, cap)
    assert offer.total_discount == Decimal("3.00")
    discounts = OrderDiscount.objects.filter(offer_id=offer.pk)
    assert sorted(discounts.values_list("frequency", "amount")) == [(1, Decimal("1.00"))] * cap
    assert sorted(Order.objects.values_list("total_incl_tax", flat=True)) == [Decimal("9.00")] * cap
    # The others: told why, shown the price without the offer, nothing written.
    for response in refused:
        assert (
            "The offer “Three first orders” has just reached its limit, so it no longer "
            "applies." in response.content.decode()
        )
        assert response.context["order_total"].incl_tax == Decimal("10.00")
    assert Pickup.objects.count() == cap
    record.refresh_from_db()
    assert record.num_allocated == cap


def test_r16_single_use_voucher_twenty_concurrent_orders_one_use():
    offer = one_euro_off("Welcome voucher", offer_type=ConditionalOffer.VOUCHER)
    now = timezone.now()
    voucher = Voucher.objects.create(
        name="Welcome",
        code="WELCOME1",
        usage=Voucher.SINGLE_USE,
        start_datetime=now - timezone.timedelta(days=1),
        end_datetime=now + timezone.timedelta(days=1),
    )
    voucher.offers.add(offer)
    mug = product("Mug", price="10.00", stock=0)
    shop = open_store("Centre")
    stock(shop, mug, 100, price="10.00")
    buyers = [buyer_ready_to_place(shop, [mug]) for _ in range(20)]
    for n, buyer in enumerate(buyers):  # each from their own phone (rate limit per IP)
        buyer.post(reverse("basket:vouchers-add"), {"code": "WELCOME1"}, REMOTE_ADDR=f"10.0.0.{n}")
    assert Basket.objects.filter(vouchers=voucher).count() == 20

    responses = run_concurrently(
        [place(b) for b in buyers],
        lock=hold_row_locks("voucher_voucher", [voucher.pk]),
        until_blocked=20,
    )

    placed, refused = outcome(responses)
    assert (placed, len(refused)) == (1, 19)
    voucher.refresh_from_db()
    assert (voucher.num_orders, voucher.applications.count()) == (1, 1)
    assert voucher.total_discount == Decimal("1.00")
    offer.refresh_from_db()
    assert (offer.num_applications, offer.num_orders, offer.total_discount) == (
        1,
        1,
        Decimal("1.00"),
    )
    assert list(Order.objects.values_list("total_incl_tax", flat=True)) == [Decimal("9.00")]
    for response in refused:
        assert (
            "This coupon has already been used (WELCOME1): it was removed from your "
            "basket, which has been re-priced." in response.content.decode()
        )
        assert response.context["order_total"].incl_tax == Decimal("10.00")
    assert Pickup.objects.count() == 1
