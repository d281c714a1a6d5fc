"""Card payments: what happens to an order when its PaymentIntent moves.

The flow (docs in README "Payments"):

1. Checkout's handle_payment creates the PaymentIntent (``card_payment_start``, with a
   deterministic idempotency key) and the order is placed in "Pending payment" with its
   stock, pickup slot and points held; ``card_payment_record`` stores the PaymentIntent
   in the order's transaction. The card is charged afterwards, by Stripe.js on the pay page.
2. Whoever learns first that the PaymentIntent succeeded -- the browser coming back, the
   webhook, or the reconciliation job -- calls ``payment_apply``. It locks the payment
   row, moves its status forward only (R3) and settles the order once: amount and
   currency must match (R8) or the order is held for review; a paid order goes to
   "Pending", gets its payment event and its confirmation message.
3. A cancelled PaymentIntent releases what the order held (release.py). A declined
   attempt does not: the shopper may try another card until the hold expires
   (PAYMENT_HOLD_MINUTES), when ``payments_reconcile`` cancels it at Stripe and releases.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.conf import settings
from django.contrib.sites.models import Site
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from oscar.core.loading import get_class, get_model

from shop.constants import AWAITING_PAYMENT, CANCELLED, PAID, PAYMENT_REVIEW

from . import gateway
from .constants import PAID_EVENT
from .messages import payment_expired_notify
from .models import PaymentStatus, StripeEvent, StripePayment, StripeRefund
from .money import from_minor, to_minor
from .refunds import REFUND_DONE, RefundRefused, _record_refund, refund_create
from .release import payment_order_release

logger = logging.getLogger(__name__)

Order = get_model("order", "Order")
PaymentEventType = get_model("order", "PaymentEventType")
Source = get_model("payment", "Source")
SourceType = get_model("payment", "SourceType")


# R3: a status never goes back. Webhook events arrive in any order, so an event can only
# raise the rank; a fresh read from Stripe (authoritative) may also move a payment that is
# not final back, e.g. "processing" to "requires_payment_method" when a debit failed.
RANK = {
    PaymentStatus.REQUIRES_PAYMENT_METHOD: 0,
    PaymentStatus.REQUIRES_CONFIRMATION: 1,
    PaymentStatus.REQUIRES_ACTION: 1,
    PaymentStatus.PROCESSING: 2,
    PaymentStatus.REQUIRES_CAPTURE: 3,
    PaymentStatus.SUCCEEDED: 4,
    PaymentStatus.CANCELED: 4,
}
FINAL = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED})


# --- Starting a card payment (called from checkout's handle_payment) ----------------------


def card_payment_start(*, order_number: str, amount: Decimal, currency: str) -> dict:
    """The PaymentIntent for `order_number` (created once, whatever the retries).

    If an earlier placement of this order number failed, its PaymentIntent was cancelled
    (card_payment_abandon or reconciliation): the next attempt's key gives a new one,
    still deterministic, so retrying this placement replays it (R6).
    """
    for attempt in range(1, MAX_PAYMENT_ATTEMPTS + 1):
        intent = gateway.payment_intent_create(
            order_number=order_number,
            amount_minor=to_minor(amount, currency),
            currency=currency,
            # Not translated: the same on every retry of this order (see the gateway).
            description=f"{settings.OSCAR_SHOP_NAME} order {order_number}",
            attempt=attempt,
        )
        if intent["status"] != PaymentStatus.CANCELED:
            return intent
    raise gateway.GatewayError(
        _("This order could not be placed too many times; please start a new basket."),
        code="too_many_attempts",
    )


MAX_PAYMENT_ATTEMPTS = 20


def card_payment_record(*, order, payment_intent: dict) -> StripePayment:
    """Store the order's PaymentIntent, in the order's transaction."""
    currency = payment_intent["currency"].upper()
    return StripePayment.objects.create(
        order=order,
        order_number=order.number,
        payment_intent_id=payment_intent["id"],
        amount=from_minor(payment_intent["amount"], currency),
        currency=currency,
        status=payment_intent["status"],
        language=translation.get_language() or "",
    )


def card_payment_abandon(*, payment_intent_id: str) -> None:
    """The order could not be placed: the PaymentIntent is cancelled (nothing was charged).

    Best effort: if Stripe cannot be reached, reconciliation cancels it later (R5).
    """
    try:
        gateway.payment_intent_cancel(payment_intent_id, reason="abandoned")
    except gateway.GatewayError as exc:
        logger.warning("PaymentIntent %s not cancelled now (%s)", payment_intent_id, exc)


# --- Applying what Stripe says ------------------------------------------------------------


def _moves_forward(current: str, new: str, *, authoritative: bool) -> bool:
    if current == new or current in FINAL:
        return False
    if authoritative:
        return True
    return RANK.get(new, -1) > RANK.get(current, -1)


@transaction.atomic
def payment_apply(*, payment_intent: dict, authoritative: bool = False) -> StripePayment | None:
    """Bring our payment and its order in line with `payment_intent` (Stripe's JSON).

    `authoritative` is for a PaymentIntent just read from Stripe; webhook event payloads
    may be stale and only move the status forward. Idempotent and safe under concurrency:
    the payment row is locked, and the order is settled or released once; the payment
    returned has `transitioned` True for the one call that moved it.
    """
    payment = (
        StripePayment.objects.select_for_update(of=("self",))
        .select_related("order")
        .filter(payment_intent_id=payment_intent["id"])
        .first()
    )
    if payment is None:
        return None
    error = payment_intent.get("last_payment_error") or {}
    if error.get("message"):
        payment.last_error = error["message"][:500]
    new = payment_intent["status"]
    payment.transitioned = _moves_forward(payment.status, new, authoritative=authoritative)
    if payment.transitioned:
        payment.status = new
        if new == PaymentStatus.SUCCEEDED:
            _settle(payment, payment_intent)
        elif new == PaymentStatus.CANCELED:
            payment.save()  # before the order's receivers look at it
            payment_order_release(payment, reason=_("The card payment was cancelled."))
    payment.save()
    return payment


def payment_refresh(payment: StripePayment) -> StripePayment:
    """Read the PaymentIntent from Stripe and apply it (raises GatewayError)."""
    intent = gateway.payment_intent_retrieve(payment.payment_intent_id)
    return payment_apply(payment_intent=intent, authoritative=True) or payment


def payment_cancel(payment: StripePayment, *, reason: str = "abandoned") -> StripePayment:
    """Cancel at Stripe, then release the order; if it was paid meanwhile, settle it."""
    try:
        intent = gateway.payment_intent_cancel(payment.payment_intent_id, reason=reason)
    except gateway.GatewayError as exc:
        if exc.transient:
            raise
        # Already succeeded or cancelled at Stripe: apply what it is now.
        intent = gateway.payment_intent_retrieve(payment.payment_intent_id)
    return payment_apply(payment_intent=intent, authoritative=True) or payment


def _flag(payment: StripePayment, reason: str) -> None:
    payment.needs_review = True
    payment.review_reason = reason[:500]
    logger.error("Payment %s needs review: %s", payment.payment_intent_id, reason)


def _settle(payment: StripePayment, intent: dict) -> None:
    currency = intent["currency"].upper()
    received = from_minor(intent.get("amount_received") or 0, currency)
    payment.amount_received = received
    order = payment.order
    if order is None:
        _flag(payment, _("Charged at Stripe but no order exists: refund it or contact the payer."))
        return
    order = Order.objects.select_for_update().get(pk=order.pk)
    if currency != payment.currency or received != payment.amount:
        # R8: never confirm an order for a different amount than it costs.
        _flag(
            payment,
            _("Received %(got)s %(cur)s for an order of %(want)s %(ocur)s.")
            % {"got": received, "cur": currency, "want": payment.amount, "ocur": payment.currency},
        )
        if order.status == AWAITING_PAYMENT:
            order.set_status(PAYMENT_REVIEW)
        return
    if order.status != AWAITING_PAYMENT:
        _flag(
            payment,
            _("Paid while the order was '%(status)s': re-instate the order or refund.")
            % {"status": order.status},
        )
        return
    source = order.sources.filter(reference=payment.payment_intent_id).first()
    if source is not None:
        source.debit(received, reference=payment.payment_intent_id, status="succeeded")
    event_type, _created = PaymentEventType.objects.get_or_create(name=PAID_EVENT)
    order.payment_events.create(
        event_type=event_type, amount=received, reference=payment.payment_intent_id
    )
    order.set_status(PAID)
    # Settled by the customer's return to the pay page or by Stripe's webhook (outside the
    # language prefix, README "Languages"): either way the customer reads the confirmation
    # in the language they ordered in, as its order lines' titles are.
    with translation.override(payment.language or translation.get_language()):
        order_confirmation_send(order)


def order_confirmation_send(order) -> None:
    """Oscar's "order placed" message, sent when a card order is paid (not when placed)."""
    OrderDispatcher = get_class("order.utils", "OrderDispatcher")
    ctx = {"user": order.user, "order": order, "lines": order.lines.all()}
    try:
        if order.user_id:
            path = reverse("customer:order", kwargs={"order_number": order.number})
        else:
            path = reverse(
                "customer:anon-order",
                kwargs={"order_number": order.number, "hash": order.verification_hash()},
            )
    except NoReverseMatch:
        pass
    else:
        ctx["status_path"] = path
        ctx["status_url"] = f"https://{Site.objects.get_current().domain}{path}"
    OrderDispatcher(logger=logger).send_order_placed_email_for_user(order, ctx)


# --- Webhooks ----------------------------------------------------------------------------

PAYMENT_EVENTS = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.processing",
        "payment_intent.requires_action",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "payment_intent.amount_capturable_updated",
    }
)
REFUND_EVENTS = frozenset(
    {"charge.refunded", "charge.refund.updated", "refund.created", "refund.updated"}
)


def webhook_process(event: dict) -> str:
    """Apply one verified event, once (R2): 'applied', 'duplicate' or 'ignored'."""
    obj = event["data"]["object"]
    with transaction.atomic():
        try:
            with transaction.atomic():
                StripeEvent.objects.create(
                    id=event["id"],
                    type=event["type"],
                    object_id=obj.get("id", ""),
                    created=dt.datetime.fromtimestamp(event["created"], tz=dt.UTC),
                )
        except IntegrityError:
            return "duplicate"
        if event["type"] in PAYMENT_EVENTS:
            payment = payment_apply(payment_intent=obj)
        elif event["type"] in REFUND_EVENTS:
            pi_id = obj.get("payment_intent") or ""
            payment = StripePayment.objects.filter(payment_intent_id=pi_id).first()
            if payment is not None:
                refunds_sync(payment)
        else:
            return "ignored"
    return "applied" if payment is not None else "ignored"


# --- Refunds made at Stripe ----------------------------------------------------------------


@transaction.atomic
def refunds_sync(payment: StripePayment) -> int:
    """Record refunds made at Stripe (its dashboard, or ours before a timeout); how many."""
    payment = StripePayment.objects.select_for_update().get(pk=payment.pk)
    if payment.status != PaymentStatus.SUCCEEDED:
        # A refund proves the payment succeeded; its own event may not have arrived yet.
        intent = gateway.payment_intent_retrieve(payment.payment_intent_id)
        payment_apply(payment_intent=intent, authoritative=True)
        payment.refresh_from_db()
        if payment.status != PaymentStatus.SUCCEEDED:
            return 0
    known = set(payment.refunds.values_list("refund_id", "status"))
    for refund in sorted(
        gateway.refunds_list(payment_intent_id=payment.payment_intent_id),
        key=lambda r: r["created"],
    ):
        _record_refund(payment, refund, reason=_("Refunded at Stripe"))
    payment.save()
    added = len(set(payment.refunds.values_list("refund_id", "status")) - known)
    return added


# --- Reconciliation (R5) and holds (R15) --------------------------------------------------


def payments_reconcile(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Make our payments and Stripe agree; returns counts per outcome.

    - unfinished payments: read from Stripe and applied; once older than the hold,
      cancelled at Stripe and their order released;
    - orders marked paid whose PaymentIntent did not succeed: flagged to staff;
    - PaymentIntents at Stripe with our order number but no payment here (the order's
      transaction failed after Stripe created them): cancelled, or flagged if charged.
    """
    now = now or timezone.now()
    counts = dict.fromkeys(
        ("refreshed", "released", "flagged", "orphans_cancelled", "refunds_confirmed"), 0
    )
    hold = dt.timedelta(minutes=settings.PAYMENT_HOLD_MINUTES)
    grace = now - dt.timedelta(minutes=2)  # leave the browser and the webhook a moment
    unfinished = StripePayment.objects.filter(order__isnull=False, created_at__lt=grace).exclude(
        status__in=FINAL
    )
    for payment in unfinished.iterator():
        try:
            payment = payment_refresh(payment)
            counts["refreshed"] += 1
            # A payment already processing (money on its way, e.g. a bank debit) is left
            # to finish: the hold only ends payments nobody completed.
            expired = (
                payment.status not in FINAL | {PaymentStatus.PROCESSING}
                and payment.created_at < now - hold
            )
            if expired and payment_cancel(payment).status == PaymentStatus.CANCELED:
                counts["released"] += 1
                payment_expired_notify(payment.order)
        except gateway.GatewayError as exc:
            logger.warning("Reconcile %s: %s", payment.payment_intent_id, exc)
    # Refunds made or changed at Stripe whose webhook we never got (Stripe's dashboard).
    counts["refunds_synced"] = _refunds_catch_up(since=now - dt.timedelta(days=2))
    # Refunds whose answer was lost: asking again with the same key replays them.
    attempts = StripeRefund.objects.filter(
        status=StripeRefund.REQUESTED, created_at__lt=grace
    ).select_related("payment")
    for attempt in attempts:
        try:
            refund_create(payment=attempt.payment, amount=attempt.amount)
            counts["refunds_confirmed"] += 1
        except RefundRefused as exc:
            logger.warning("Reconcile refund %s: %s", attempt.idempotency_key, exc.message)
    # Paid orders whose PaymentIntent did not succeed.
    wrong = StripePayment.objects.filter(order__isnull=False, needs_review=False).exclude(
        Q(status=PaymentStatus.SUCCEEDED) | Q(order__status__in=(AWAITING_PAYMENT, CANCELLED))
    )
    for payment in wrong:
        with transaction.atomic():
            payment = StripePayment.objects.select_for_update().get(pk=payment.pk)
            _flag(
                payment,
                _("The order is '%(status)s' but its card payment is '%(payment)s'.")
                % {"status": payment.order.status, "payment": payment.get_status_display()},
            )
            payment.save()
            counts["flagged"] += 1
    counts["orphans_cancelled"], flagged = _orphans_resolve(
        since=now - dt.timedelta(days=2), before=grace
    )
    counts["flagged"] += flagged
    return counts


def _refunds_catch_up(*, since: dt.datetime) -> int:
    """Sync the payments that have a refund at Stripe we have not recorded as it is."""
    try:
        refunds = list(gateway.refunds_since(created_gte=int(since.timestamp())))
    except gateway.GatewayError as exc:
        logger.warning("Reconcile: refunds not listed (%s)", exc)
        return 0
    recorded = dict(
        StripeRefund.objects.filter(refund_id__in=[r["id"] for r in refunds]).values_list(
            "refund_id", "status"
        )
    )
    stale = {
        r.get("payment_intent")
        for r in refunds
        if recorded.get(r["id"]) != r["status"]
        and (r["id"] in recorded or r["status"] in REFUND_DONE)
    }
    synced = 0
    for payment in StripePayment.objects.filter(payment_intent_id__in=stale - {None}):
        try:
            synced += refunds_sync(payment)
        except gateway.GatewayError as exc:
            logger.warning("Reconcile refunds of %s: %s", payment.payment_intent_id, exc)
    return synced


def _orphans_resolve(*, since: dt.datetime, before: dt.datetime) -> tuple[int, int]:
    cancelled = flagged = 0
    try:
        intents = list(gateway.payment_intents_list(created_gte=int(since.timestamp())))
    except gateway.GatewayError as exc:
        logger.warning("Reconcile: PaymentIntents not listed (%s)", exc)
        return 0, 0
    known = set(
        StripePayment.objects.filter(
            payment_intent_id__in=[intent["id"] for intent in intents]
        ).values_list("payment_intent_id", flat=True)
    )
    for intent in intents:
        metadata = intent.get("metadata") or {}
        number = metadata.get("order_number")
        if metadata.get("shop") != settings.STRIPE_SHOP_TAG:
            continue  # another shop or environment on the same Stripe account
        if not number or intent["id"] in known or intent["created"] >= before.timestamp():
            # Not ours, known, or so recent that its order may still be committing.
            continue
        if intent["status"] == PaymentStatus.SUCCEEDED:
            currency = intent["currency"].upper()
            payment = StripePayment(
                order=None,
                order_number=number,
                payment_intent_id=intent["id"],
                amount=from_minor(intent["amount"], currency),
                currency=currency,
                status=intent["status"],
                amount_received=from_minor(intent.get("amount_received") or 0, currency),
            )
            _flag(
                payment, _("Charged at Stripe but no order exists: refund it or contact the payer.")
            )
            payment.save()
            flagged += 1
        elif intent["status"] != PaymentStatus.CANCELED:
            card_payment_abandon(payment_intent_id=intent["id"])
            cancelled += 1
    return cancelled, flagged
