"""POST /checkout/stripe/webhook/: Stripe's events, verified on the raw body (R1), each
applied once (R2)."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import gateway
from .models import StripeEvent, StripePayment
from .reconciliation import RefundsAtStripe, refunds_read, refunds_write
from .settlement import payment_apply

logger = logging.getLogger(__name__)


@csrf_exempt  # authenticated by Stripe's signature instead (R40's one exception)
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        event = gateway.webhook_event(request.body, request.headers.get("Stripe-Signature"))
    except gateway.SignatureInvalid as exc:
        # Nothing is read from or written to the database for a rejected request.
        logger.warning("Stripe webhook refused: %s", exc)
        return HttpResponseBadRequest(str(exc), content_type="text/plain")
    try:
        outcome = webhook_process(event)
    except gateway.GatewayError as exc:
        # Nothing was recorded (the event id neither): Stripe delivers it again later.
        logger.warning("Stripe webhook %s not applied yet: %s", event.get("id"), exc)
        return HttpResponse("Stripe could not be reached; retry later.", status=503)
    return JsonResponse({"received": True, "outcome": outcome})


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
    """Apply one verified event, once (R2): 'applied', 'duplicate' or 'ignored'.

    A refund event is not trusted as it is: the payment's refunds are read from Stripe
    first, before the transaction that records the event and locks the payment, so no row
    is locked while Stripe is called (docs/architecture.md, "Lock order").
    """
    obj = event["data"]["object"]
    at_stripe = _refunds_at_stripe(event) if event["type"] in REFUND_EVENTS else None
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
            applied = payment_apply(payment_intent=obj) is not None
        elif event["type"] in REFUND_EVENTS:
            applied = at_stripe is not None
            if at_stripe is not None:
                refunds_write(at_stripe)
        else:
            return "ignored"
    return "applied" if applied else "ignored"


def _refunds_at_stripe(event: dict) -> RefundsAtStripe | None:
    """The refunds of the payment a refund event is about, read from Stripe; None when the
    payment is not ours, or the event was applied already (nothing is asked then)."""
    if StripeEvent.objects.filter(pk=event["id"]).exists():
        return None
    pi_id = event["data"]["object"].get("payment_intent") or ""
    payment = StripePayment.objects.filter(payment_intent_id=pi_id).first()
    return refunds_read(payment) if payment is not None else None
