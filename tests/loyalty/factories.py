"""Loyalty test data, built on Oscar's factories."""

from oscar.test.factories import UserFactory

from loyalty.models import Member
from loyalty.services.members import member_enrol


def member_factory(**user_fields) -> Member:
    return member_enrol(user=UserFactory(**user_fields))


def funded_member(points: int, **user_fields) -> Member:
    """A member with `points` available (one credit through the ledger)."""
    from loyalty.services.ledger import points_credit

    member = member_factory(**user_fields)
    if points:
        points_credit(
            member=member, amount=points, reason="Order", idempotency_key=f"seed:{member.pk}"
        )
    return member


def order_for(user, *lines, number=None, shipping_method=None):
    """Place an Oscar order (firing order_placed) for `lines` of (product, quantity)."""
    from oscar.apps.partner.strategy import Default
    from oscar.core.loading import get_model
    from oscar.test.factories import create_order

    basket = get_model("basket", "Basket").objects.create(owner=user)
    basket.strategy = Default()
    for item, quantity in lines:
        basket.add_product(item, quantity)
    return create_order(number=number, basket=basket, user=user, shipping_method=shipping_method)


# Segment rules by tier (loyalty/services/segments.py).
GOLD = {"match": "all", "conditions": [{"type": "tier", "op": "in", "value": ["gold"]}]}
SILVER = {"match": "all", "conditions": [{"type": "tier", "op": "in", "value": ["silver"]}]}


def ten_percent_user_offer(name: str = "Ten percent for you"):
    """An Oscar USER offer of 10 % on everything (one item in the basket), for a segment."""
    from oscar.core.loading import get_model

    offer_range = get_model("offer", "Range")
    offer = get_model("offer", "ConditionalOffer")
    condition, benefit = get_model("offer", "Condition"), get_model("offer", "Benefit")
    everything = offer_range.objects.create(name=f"Everything: {name}", includes_all_products=True)
    return offer.objects.create(
        name=name,
        offer_type=offer.USER,
        condition=condition.objects.create(range=everything, type=condition.COUNT, value=1),
        benefit=benefit.objects.create(range=everything, type=benefit.PERCENTAGE, value=10),
    )
