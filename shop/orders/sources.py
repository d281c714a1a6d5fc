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
from shop.payment.services import card_payment_abandon, card_payment_record, card_payment_start

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


def _source_type(code: str, name: str):
    source_type, _created = SourceType.objects.get_or_create(code=code, defaults={"name": name})
    return source_type


def order_payment_take(
    *,
    order_number: str,
    total_incl_tax: Decimal,
    currency: str,
    method: PaymentMethod | None,
    member: Member | None,
    points: int,
) -> PaymentTaken:
    """Spend `points` of `member` on the order, then take the rest by `method`.

    Raises UnableToTakePayment (a message for the shopper; nothing is left taken) or
    PaymentError (Stripe unreachable; points given back). Card: the PaymentIntent is
    created here with a deterministic idempotency key (R6); the card is charged on the
    pay page once the order exists, so a failure to place the order never leaves a
    charge without an order.
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
        part, intent = _rest_take(method, order_number, rest, currency)
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
    method: PaymentMethod, order_number: str, rest: Decimal, currency: str
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
        try:
            intent = card_payment_start(order_number=order_number, amount=rest, currency=currency)
        except gateway.CardDeclined as exc:
            raise UnableToTakePayment(exc.message) from exc
        except gateway.GatewayError as exc:
            raise PaymentError(exc.message) from exc
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
    the debit is already written) and its PaymentIntent is cancelled (nothing was charged)."""
    _points_give_back(taken.points_debit, order_number)
    if taken.payment_intent is not None:
        card_payment_abandon(payment_intent_id=taken.payment_intent["id"])
