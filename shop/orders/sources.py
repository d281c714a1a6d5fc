"""What pays for an order being placed: points first, then the rest by the chosen method.

Taken before the order exists, keyed on its number (Oscar's order; docs/architecture.md,
"The path of a click & collect order with points"), written onto the order once it exists,
and undone if it cannot be placed. Only `shop/orders/placement.py` calls these.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from oscar.apps.payment.exceptions import PaymentError, UnableToTakePayment
from oscar.core.loading import get_model

from loyalty.services.errors import LoyaltyError
from loyalty.services.redemption import (
    order_points_redeem,
    points_value,
    redemption_give_back,
)
from shop.payment import gateway
from shop.payment import methods as payment_methods
from shop.payment.constants import POINTS_SOURCE_NAME, POINTS_SOURCE_TYPE
from shop.payment.intents import card_payment_abandon, card_payment_record, card_payment_start
from shop.payment.models import StripePayment
from shop.payment.money import to_minor

if TYPE_CHECKING:
    from oscar.apps.order.models import Order
    from oscar.apps.payment.models import Source as SourceModel

    from loyalty.models import Member, PointsEntry
    from shop.payment.methods import PaymentMethod

PaymentEvent = get_model("order", "PaymentEvent")
PaymentEventQuantity = get_model("order", "PaymentEventQuantity")
PaymentEventType = get_model("order", "PaymentEventType")
Source = get_model("payment", "Source")
SourceType = get_model("payment", "SourceType")


@dataclass(frozen=True)
class PaymentEventDraft:
    """A payment event to record on the order once it exists."""

    name: str
    amount: Decimal
    reference: str


@dataclass(frozen=True)
class PaymentTaken:
    """What was taken for an order not placed yet.

    `sources` are unsaved Oscar payment sources; `points_debit` is the ledger entry of
    the points spent (None without points); `payment_intent` is Stripe's PaymentIntent
    for a card payment (None otherwise), charged on the pay page after the order exists.
    """

    sources: tuple[SourceModel, ...]
    events: tuple[PaymentEventDraft, ...]
    points_debit: PointsEntry | None
    payment_intent: dict | None


@dataclass(frozen=True)
class _Part:
    sources: tuple[SourceModel, ...] = ()
    events: tuple[PaymentEventDraft, ...] = ()


def card_payment_recorded(*, payment_intent_id: str) -> bool:
    return StripePayment.objects.filter(payment_intent_id=payment_intent_id).exists()


def _source_type(code: str, name: str):
    source_type, _created = SourceType.objects.get_or_create(code=code, defaults={"name": name})
    return source_type


# A card order's PaymentIntent, or the error Stripe gave creating it (raised later, where
# the checkout expects payment errors), or None when no card payment is due.
CardIntent = dict | gateway.GatewayError | None


def card_intent_create(
    *, order_number: str, method: PaymentMethod | None, rest: Decimal, currency: str
) -> CardIntent:
    """The PaymentIntent of a card order about to be placed, created before any row is
    locked: Stripe is never called while a row is locked (docs/architecture.md, Lock
    order). Its idempotency key is deterministic (R6), so concurrent submissions of one
    basket get the same one. None for another method or nothing left to pay."""
    if method != payment_methods.CARD or rest <= 0:
        return None
    try:
        return card_payment_start(order_number=order_number, amount=rest, currency=currency)
    except gateway.GatewayError as exc:
        return exc


def card_intent_abandon_unused(intent: CardIntent) -> None:
    """Cancel a PaymentIntent no order recorded (the order could not be placed, or points
    could not be spent); nothing was charged. Called once the transaction is over."""
    if isinstance(intent, dict) and not card_payment_recorded(payment_intent_id=intent["id"]):
        card_payment_abandon(payment_intent_id=intent["id"])


def rest_to_pay(*, total_incl_tax: Decimal, member: Member | None, points: int) -> Decimal:
    """What is left to pay once `points` of `member` are spent."""
    used = points_value(points) if points and member is not None else Decimal("0.00")
    return max(total_incl_tax - used, Decimal("0.00"))


def order_payment_take(
    *,
    order_number: str,
    total_incl_tax: Decimal,
    currency: str,
    method: PaymentMethod | None,
    member: Member | None,
    points: int,
    card_intent: CardIntent = None,
) -> PaymentTaken:
    """Spend `points` of `member` on the order, then take the rest by `method`.

    Raises UnableToTakePayment (a message for the shopper; nothing is left taken) or
    PaymentError (Stripe unreachable; points given back). Card: `card_intent` is the
    PaymentIntent `card_intent_create` made for this rest (or its error); the card is
    charged on the pay page once the order exists, so a failure to place the order
    never leaves a charge without an order.
    """
    if method is None:
        raise UnableToTakePayment(_("Please choose how you want to pay."))
    debit, paid = _points_redeem(
        order_number=order_number,
        total_incl_tax=total_incl_tax,
        currency=currency,
        member=member,
        points=points,
    )
    rest = max(total_incl_tax - paid.amount_total, Decimal("0.00"))
    try:
        part, intent = _rest_take(method, order_number, rest, currency, card_intent)
    except Exception:
        _points_give_back(debit, order_number)
        raise
    return PaymentTaken(
        sources=paid.sources + part.sources,
        events=paid.events + part.events,
        points_debit=debit,
        payment_intent=intent,
    )


@dataclass(frozen=True)
class _PointsPaid(_Part):
    amount_total: Decimal = Decimal("0.00")


def _points_redeem(
    *, order_number: str, total_incl_tax: Decimal, currency: str, member, points: int
) -> tuple[PointsEntry | None, _PointsPaid]:
    if not points or member is None:
        return None, _PointsPaid()
    try:
        debit = order_points_redeem(
            member=member, order_number=order_number, points=points, order_total=total_incl_tax
        )
    except LoyaltyError as exc:
        # Oscar shows the message on the payment page; nothing was taken.
        raise UnableToTakePayment(exc.message) from exc
    value = points_value(points)
    source = Source(
        source_type=_source_type(POINTS_SOURCE_TYPE, POINTS_SOURCE_NAME),
        currency=currency,
        amount_allocated=value,
        amount_debited=value,
        reference=debit.idempotency_key,
        label=_("%(points)s points") % {"points": points},
    )
    event = PaymentEventDraft(POINTS_SOURCE_NAME, value, debit.idempotency_key)
    return debit, _PointsPaid(sources=(source,), events=(event,), amount_total=value)


def _rest_take(
    method: PaymentMethod, order_number: str, rest: Decimal, currency: str, intent: CardIntent
) -> tuple[_Part, dict | None]:
    source_type = _source_type(method.source_code, method.source_name)
    if rest <= 0:
        return _Part(), None
    if method == payment_methods.AT_PICKUP:
        # Paid in the store: allocated now, debited by staff at handover.
        return _Part(
            sources=(Source(source_type=source_type, currency=currency, amount_allocated=rest),)
        ), None
    if method == payment_methods.TEST:
        source = Source(
            source_type=source_type,
            currency=currency,
            amount_allocated=rest,
            amount_debited=rest,
            label=str(method.name),
        )
        return _Part(
            sources=(source,), events=(PaymentEventDraft(method.source_name, rest, order_number),)
        ), None
    if method == payment_methods.CARD:
        if isinstance(intent, gateway.CardDeclined):
            raise UnableToTakePayment(intent.message) from intent
        if isinstance(intent, gateway.GatewayError):
            raise PaymentError(intent.message) from intent
        if intent is None or intent["amount"] != to_minor(rest, currency):
            raise PaymentError(f"Order {order_number}: no PaymentIntent for {rest}")
        source = Source(
            source_type=source_type,
            currency=currency,
            amount_allocated=rest,
            reference=intent["id"],
        )
        return _Part(sources=(source,)), intent
    raise UnableToTakePayment(_("Please choose how you want to pay."))  # pragma: no cover


def _points_give_back(debit: PointsEntry | None, order_number: str) -> None:
    if debit is not None:
        redemption_give_back(
            debit=debit, reason=_("Order %(number)s not placed") % {"number": order_number}
        )


def order_payment_record(*, order: Order, taken: PaymentTaken) -> None:
    """Write what was taken onto the order just created, in its transaction: its payment
    sources and events (each event covering every line, as Oscar records them) and its
    card payment (shop.payment)."""
    for draft in taken.events:
        event_type, _created = PaymentEventType.objects.get_or_create(name=draft.name)
        event = PaymentEvent.objects.create(
            order=order, event_type=event_type, amount=draft.amount, reference=draft.reference
        )
        for line in order.lines.all():
            PaymentEventQuantity.objects.create(event=event, line=line, quantity=line.quantity)
    for source in taken.sources:
        source.order = order
        source.save()
    if taken.payment_intent is not None:
        card_payment_record(order=order, payment_intent=taken.payment_intent)


def order_payment_undo(*, order_number: str, taken: PaymentTaken) -> None:
    """The order could not be placed: points spent on it come back (a reversal entry, as
    the debit is already written). Its PaymentIntent is cancelled after the transaction
    (card_intent_abandon_unused)."""
    _points_give_back(taken.points_debit, order_number)
