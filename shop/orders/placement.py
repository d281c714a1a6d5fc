"""Placing an order, for delivery and for click & collect, in one transaction.

`order_place` is the one way an order is placed: the checkout's "Place order"
(`shop/checkout/views.py`, PaymentDetailsView.submit) and the demo seeder
(`shop/demo/stores.py`) call it. It reads top to bottom in the lock order of
docs/architecture.md, Lock order: the basket, then the loyalty member (points), then
vouchers and offers, then stock records (by primary key, in Oscar's OrderCreator and
`stores/stock.py`), then the pickup slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oscar.apps.order.exceptions import UnableToPlaceOrder
from oscar.apps.payment.exceptions import PaymentError, UnableToTakePayment
from oscar.core.loading import get_class, get_model

from shop.checkout.pickup import PickupChoice
from shop.constants import AWAITING_PAYMENT
from shop.offer.exceptions import OfferUnavailable, VoucherUnavailable
from shop.offer.usage import basket_discounts_lock, basket_reprice
from stores.services import PickupUnavailable, pickup_create

from .sources import PaymentTaken, order_payment_record, order_payment_take, order_payment_undo

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.http import HttpRequest
    from oscar.apps.basket.models import Basket as BasketModel
    from oscar.apps.order.models import Order as OrderModel

    from loyalty.models import Member
    from shop.payment.methods import PaymentMethod

Basket = get_model("basket", "Basket")
BillingAddress = get_model("order", "BillingAddress")
Order = get_model("order", "Order")
ShippingAddress = get_model("order", "ShippingAddress")
UserAddress = get_model("address", "UserAddress")
OrderCreator = get_class("order.utils", "OrderCreator")


@dataclass(frozen=True)
class Shipping:
    """How the order reaches the shopper, as Oscar's checkout computed it.

    `address` and `billing_address` are unsaved (saved with the order); click & collect
    has no address. `charge` and `surcharges` are Oscar's prices.
    """

    method: Any
    charge: Any
    address: Any = None
    billing_address: Any = None
    surcharges: Any = None


@dataclass(frozen=True)
class PaymentChoice:
    """How the shopper pays: `points` of `member` first, the rest by `method`."""

    method: PaymentMethod | None
    member: Member | None = None
    points: int = 0


@dataclass(frozen=True)
class OrderPlaced:
    """The order placed from the basket; `created` is False when an earlier submission of
    the same basket had placed it already (R7)."""

    order: OrderModel
    created: bool

    @property
    def awaiting_payment(self) -> bool:
        """A card order: the shopper pays on the pay page next."""
        return bool(self.order.status == AWAITING_PAYMENT)


def order_place(
    *,
    basket: BasketModel,
    user: User | AnonymousUser,
    order_number: str,
    total: Any,
    shipping: Shipping,
    payment: PaymentChoice,
    pickup: PickupChoice | None,
    guest_email: str = "",
    request: HttpRequest | None = None,
) -> OrderPlaced:
    """Place the order of `basket` (once per basket, R7), paid as `payment` says, with
    its pickup slot booked when `pickup` is given; `total` is Oscar's order total;
    `guest_email` is the address of a shopper not signed in.

    One transaction: the basket's row is locked first, so concurrent submissions of one
    basket queue there and the later ones get the order the first placed. The basket is
    frozen, the points are spent and the rest taken (`shop/orders/sources.py`), then the
    order is created in a savepoint. If that fails, the points come back (a reversal
    entry), a PaymentIntent is cancelled, a discount refused re-prices the basket, the
    basket is thawed -- all committed -- and the error is raised: Oscar's
    UnableToTakePayment or PaymentError (the payment), UnableToPlaceOrder (the order;
    the message is for the shopper), or anything unforeseen.
    """
    failure: Exception | None = None
    with transaction.atomic():
        # 1. The basket (docs/architecture.md, Lock order).
        Basket.objects.select_for_update().filter(pk=basket.pk).first()
        placed = Order.objects.filter(basket_id=basket.pk).first()
        if placed is not None:
            return OrderPlaced(order=placed, created=False)
        basket.freeze()
        try:
            # 4. The loyalty member's row, when points are spent.
            taken = _payment_take(order_number=order_number, total=total, payment=payment)
            order = _order_create(
                basket=basket,
                user=user,
                order_number=order_number,
                total=total,
                shipping=shipping,
                pickup=pickup,
                taken=taken,
                request=request,
                extra={"guest_email": guest_email} if guest_email else {},
            )
        except Exception as exc:
            failure = exc
            basket.thaw()
        else:
            basket.submit()
    if failure is not None:
        raise failure
    return OrderPlaced(order=order, created=True)


def _payment_take(*, order_number: str, total, payment: PaymentChoice) -> PaymentTaken:
    try:
        return order_payment_take(
            order_number=order_number,
            total_incl_tax=total.incl_tax,
            currency=total.currency,
            method=payment.method,
            member=payment.member,
            points=payment.points,
        )
    except (UnableToTakePayment, PaymentError):
        raise
    except Exception as exc:
        # Unforeseen while paying: the shopper reads Oscar's "no payment has been taken".
        raise PaymentError(str(exc)) from exc


def _order_create(
    *,
    basket,
    user,
    order_number: str,
    total,
    shipping: Shipping,
    pickup: PickupChoice | None,
    taken: PaymentTaken,
    request,
    extra: dict[str, str],
):
    """The order, its lines, discounts, stock allocation, payment and pickup booking, in a
    savepoint; what was taken is undone if any of it fails."""
    try:
        with transaction.atomic():
            # 5. Vouchers, then offers, each by primary key.
            basket_discounts_lock(basket=basket, user=user)
            if pickup is not None:
                _pickup_basket_check(basket=basket, pickup=pickup)
            # 2. The order; 6. stock records by primary key (OrderCreator allocates the
            # lines in stock record id order through stores/stock.py).
            order = OrderCreator().place_order(
                user=user,
                order_number=order_number,
                basket=basket,
                shipping_address=_address_save(user=user, address=shipping.address),
                shipping_method=shipping.method,
                shipping_charge=shipping.charge,
                total=total,
                billing_address=_address_save(user=user, address=shipping.billing_address),
                status=AWAITING_PAYMENT if taken.payment_intent is not None else None,
                request=request,
                surcharges=shipping.surcharges,
                **extra,
            )
            order_payment_record(order=order, taken=taken)
            if pickup is not None:
                # 7. The pickup slot.
                _pickup_book(order=order, pickup=pickup)
    except Exception as exc:
        order_payment_undo(order_number=order_number, taken=taken)
        if isinstance(exc, OfferUnavailable | VoucherUnavailable):
            basket_reprice(basket=basket, user=user, request=request)
        raise
    return order


def _pickup_basket_check(*, basket, pickup: PickupChoice) -> None:
    if any(line.stockrecord.partner_id != pickup.store.partner_id for line in basket.all_lines()):
        # A line was added after the store was chosen: it would come from elsewhere.
        raise UnableToPlaceOrder(
            _("Your basket changed since you chose %(store)s; please choose your pickup again.")
            % {"store": pickup.store.name}
        )


def _pickup_book(*, order, pickup: PickupChoice) -> None:
    try:
        pickup_create(
            order=order, store=pickup.store, starts_at=pickup.starts_at, now=timezone.now()
        )
    except PickupUnavailable as exc:
        raise UnableToPlaceOrder(str(exc)) from exc


def _address_save(*, user, address):
    """Save an order's shipping or billing address and count it in the user's address
    book, as Oscar's checkout does (OrderPlacementMixin.create_shipping_address)."""
    if not address:
        return None
    address.save()
    if user.is_authenticated:
        try:
            book = user.addresses.get(hash=address.generate_hash())
        except ObjectDoesNotExist:
            book = UserAddress(user=user)
            address.populate_alternative_model(book)
        if isinstance(address, ShippingAddress):
            book.num_orders_as_shipping_address += 1
        if isinstance(address, BillingAddress):
            book.num_orders_as_billing_address += 1
        book.save()
    return address
