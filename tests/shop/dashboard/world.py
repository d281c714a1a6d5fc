"""The objects the roles matrix opens: orders of store A, of store B and a mixed one, a
product, an offer, a voucher, a review, a message... one of each page's object."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.flatpages.models import FlatPage
from django.contrib.sites.models import Site
from oscar.core.loading import get_model
from oscar.test import factories as oscar

from loyalty.models import Campaign, CampaignMessage, Multiplier, TierLevel
from loyalty.services.members import member_enrol
from loyalty.services.segments import segment_save
from loyalty.services.tiers import tier_levels_ensure
from shop.communication.models import CommunicationEventType, OutboxMessage
from shop.communication.outbox import Draft, messages_record
from shop.payment.models import StripePayment
from stores.models import Pickup
from tests.factories import category
from tests.roles import Cast, cast_create
from tests.stores.factories import pickup_order, stock

Basket = get_model("basket", "Basket")


@dataclass
class World:
    cast: Cast
    pickup_a: Pickup
    pickup_b: Pickup
    mixed_order: object
    product: object
    category: object
    attribute_option_group: object
    option: object
    range: object
    offer: object
    voucher: object
    voucher_set: object
    review: object
    product_alert: object
    flatpage: FlatPage
    shipping_method: object
    shipping_band: object
    spare_partner: object
    event_type: CommunicationEventType
    message: OutboxMessage
    payment: StripePayment
    multiplier: Multiplier
    tier: TierLevel
    member_number: str
    segment: object
    campaign: object = None

    @property
    def order_a(self):
        return self.pickup_a.order

    @property
    def order_b(self):
        return self.pickup_b.order


def _mixed_home_delivery_order(cast: Cast, user):
    """A home-delivery order with one line from store A's stock and one from store B's."""
    from oscar.apps.partner.strategy import Default

    item_a = oscar.create_product(title="Only at A")
    stock(cast.store_a, item_a, 5)
    item_b = oscar.create_product(title="Only at B")
    stock(cast.store_b, item_b, 5)
    basket = Basket.objects.create(owner=user)
    basket.strategy = Default()
    basket.add_product(item_a, 1)
    basket.add_product(item_b, 1)
    return oscar.create_order(
        basket=basket, user=user, shipping_address=oscar.ShippingAddressFactory()
    )


def world_create() -> World:
    cast = cast_create()
    shopper = cast.users["shopper"]
    pickup_a = pickup_order(cast.store_a, user=shopper)
    pickup_a.order.notes.create(message="Left at the counter", note_type="Info")
    pickup_b = pickup_order(cast.store_b, user=shopper)
    mixed = _mixed_home_delivery_order(cast, shopper)

    product = pickup_a.order.lines.get().product
    cheese = category("Cheese")
    product.categories.add(cheese)
    group = oscar.AttributeOptionGroupFactory()
    product_range = oscar.RangeFactory()
    tier_levels_ensure()
    event_type = CommunicationEventType.objects.create(code="ORDER_SHIPPED", name="Shipped")
    (message,) = messages_record(
        drafts=[Draft(channel="sms", recipient="+33612345678", body="Your order is on its way")],
        event_code="ORDER_SHIPPED",
    )
    OutboxMessage.objects.filter(pk=message.pk).update(
        status="failed", attempts=message.max_attempts, last_error="gave up"
    )
    method = oscar.create_shipping_weight_based()
    flatpage = FlatPage.objects.create(url="/about/", title="About", content="About us")
    flatpage.sites.add(Site.objects.get_current())
    payment = StripePayment.objects.create(
        order=mixed,
        order_number=mixed.number,
        payment_intent_id="pi_roles_matrix",
        amount=mixed.total_incl_tax,
        currency=mixed.currency,
        status="succeeded",
        amount_received=mixed.total_incl_tax,
        needs_review=True,
        review_reason="Amount differs",
    )
    built = World(
        cast=cast,
        pickup_a=pickup_a,
        pickup_b=pickup_b,
        mixed_order=mixed,
        product=product,
        category=cheese,
        attribute_option_group=group,
        option=oscar.OptionFactory(),
        range=product_range,
        offer=oscar.ConditionalOfferFactory(),
        voucher=oscar.VoucherFactory(),
        voucher_set=oscar.VoucherSetFactory(count=2),
        review=oscar.ProductReviewFactory(product=product, user=shopper),
        product_alert=oscar.ProductAlertFactory(product=product, user=shopper),
        flatpage=flatpage,
        shipping_method=method,
        shipping_band=oscar.create_shipping_weight_band(10, Decimal("5.00"), weight_based=method),
        spare_partner=oscar.PartnerFactory(name="Closed shop"),
        event_type=event_type,
        message=message,
        payment=payment,
        multiplier=Multiplier.objects.create(
            name="Cheese week", category=cheese, factor=Decimal("2.00")
        ),
        tier=TierLevel.objects.order_by("pk").first(),
        member_number=member_enrol(user=shopper).number,
        segment=segment_save(name="Everyone", rules={}),
    )
    built.campaign = _draft_campaign(built.segment)
    return built


def _draft_campaign(segment) -> Campaign:
    campaign = Campaign.objects.create(
        name="Spring", segment=segment, channels=["email"], utm_campaign="spring-world"
    )
    CampaignMessage.objects.create(
        campaign=campaign, language="en", subject="Hello {{ first_name }}", body="Spring is here."
    )
    return campaign
