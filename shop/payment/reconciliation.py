"""Reconciliation (R5) and holds (R15): make our payments and refunds agree with Stripe
when an answer or a webhook was lost, end the holds nobody paid, and deal with
PaymentIntents whose order was never placed. Run by beat (tasks.py)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shop.constants import AWAITING_PAYMENT, CANCELLED

from . import gateway
from .intents import card_payment_abandon
from .messages import payment_expired_notify
from .models import PaymentStatus, StripePayment, StripeRefund
from .money import from_minor
from .refunds import (
    REFUND_DONE,
    UNCONFIRMED,
    RefundRefused,
    refund_attempt_complete,
    refund_record,
)
from .settlement import FINAL, payment_apply, payment_cancel, payment_flag, payment_refresh

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefundsAtStripe:
    """What Stripe says about a payment's refunds, read before any row is locked."""

    payment: StripePayment
    intent: dict | None  # the PaymentIntent, when ours was not known to be paid yet
    refunds: list[dict]  # oldest first


def refunds_read(payment: StripePayment) -> RefundsAtStripe:
    """Step 1 of a refund sync: ask Stripe, with no transaction open (raises GatewayError)."""
    intent = None
    if payment.status != PaymentStatus.SUCCEEDED:
        # A refund proves the payment succeeded; its own event may not have arrived yet.
        intent = gateway.payment_intent_retrieve(payment.payment_intent_id)
    refunds = sorted(
        gateway.refunds_list(payment_intent_id=payment.payment_intent_id),
        key=lambda r: r["created"],
    )
    return RefundsAtStripe(payment=payment, intent=intent, refunds=refunds)


@transaction.atomic
def refunds_write(read: RefundsAtStripe) -> int:
    """Step 2: record what Stripe said under the payment's row lock; how many refunds
    were added or changed. Each refund is recorded once, whoever records it first."""
    if read.intent is not None:
        payment_apply(payment_intent=read.intent, authoritative=True)
    payment = StripePayment.objects.select_for_update().get(pk=read.payment.pk)
    if payment.status != PaymentStatus.SUCCEEDED:
        return 0
    known = set(payment.refunds.values_list("refund_id", "status"))
    for refund in read.refunds:
        refund_record(payment, refund, reason=_("Refunded at Stripe"))
    payment.save()
    added = len(set(payment.refunds.values_list("refund_id", "status")) - known)
    return added


def refunds_sync(payment: StripePayment) -> int:
    """Record refunds made at Stripe (its dashboard, or ours before a timeout); how many."""
    return refunds_write(refunds_read(payment))


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
            payment = payment_refresh(payment).payment
            counts["refreshed"] += 1
            # A payment already processing (money on its way, e.g. a bank debit) is left
            # to finish: the hold only ends payments nobody completed.
            expired = (
                payment.status not in FINAL | {PaymentStatus.PROCESSING}
                and payment.created_at < now - hold
            )
            if expired and payment_cancel(payment).payment.status == PaymentStatus.CANCELED:
                counts["released"] += 1
                payment_expired_notify(payment.order)
        except gateway.GatewayError as exc:
            logger.warning("Reconcile %s: %s", payment.payment_intent_id, exc)
    # Refunds made or changed at Stripe whose webhook we never got (Stripe's dashboard).
    counts["refunds_synced"] = _refunds_catch_up(since=now - dt.timedelta(days=2))
    # Refunds whose answer was lost: asking again with the same key replays them.
    # An attempt still "sending" is one whose process died before recording the answer.
    attempts = StripeRefund.objects.filter(
        status__in=UNCONFIRMED, created_at__lt=grace
    ).select_related("payment")
    for attempt in attempts:
        try:
            refund_attempt_complete(attempt)
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
            order = payment.order
            assert order is not None  # order__isnull=False above
            payment_flag(
                payment,
                _("The order is '%(status)s' but its card payment is '%(payment)s'.")
                % {"status": order.status, "payment": payment.get_status_display()},
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
            payment_flag(
                payment, _("Charged at Stripe but no order exists: refund it or contact the payer.")
            )
            payment.save()
            flagged += 1
        elif intent["status"] != PaymentStatus.CANCELED:
            card_payment_abandon(payment_intent_id=intent["id"])
            cancelled += 1
    return cancelled, flagged
