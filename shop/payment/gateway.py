"""The one module that talks to Stripe.

Everything else in the project calls these functions, gets plain dicts back (Stripe's
JSON) and sees only the exceptions defined here. Every POST carries a deterministic
idempotency key (R6), so a retry after a timeout, by the stripe library or by us,
replays the first request at Stripe instead of creating a second PaymentIntent or refund.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterator

import stripe
from django.conf import settings

logger = logging.getLogger(__name__)


class GatewayError(Exception):
    """Stripe refused or could not be reached; `message` is safe to show a shopper."""

    def __init__(self, message: str, *, code: str = "", transient: bool = False):
        super().__init__(message)
        self.message = message
        self.code = code
        self.transient = transient


class CardDeclined(GatewayError):
    """The card was declined; the shopper can try another."""


class SignatureInvalid(Exception):
    """A webhook whose signature, timestamp or body does not check out (R1)."""


def enabled() -> bool:
    """Card payment is offered only when both keys are configured."""
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_PUBLISHABLE_KEY)


def publishable_key() -> str:
    return settings.STRIPE_PUBLISHABLE_KEY


@functools.lru_cache(maxsize=4)
def _client_for(api_key: str, api_base: str, timeout: float, retries: int) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def _client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise GatewayError("Card payment is not configured.", code="not_configured")
    return _client_for(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE,
        float(settings.STRIPE_TIMEOUT),
        int(settings.STRIPE_MAX_NETWORK_RETRIES),
    )


def _call(fn, *args, **kwargs) -> dict:
    """Run one Stripe call; Stripe's errors become GatewayError, objects become dicts."""
    try:
        result = fn(*args, **kwargs)
    except stripe.CardError as exc:
        raise CardDeclined(
            exc.user_message or str(exc.error.message if exc.error else exc),
            code=exc.code or "card_declined",
        ) from exc
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        logger.warning("Stripe unreachable: %s", exc)
        raise GatewayError(
            "The payment service did not answer; nothing was charged. Please try again.",
            code="connection",
            transient=True,
        ) from exc
    except stripe.StripeError as exc:
        # Stripe's own text is for developers (API key hints, parameter names): logged,
        # never shown. Only a card decline's message is written for the card holder.
        status = exc.http_status or 0
        code = exc.code or type(exc).__name__
        logger.warning("Stripe error %s (%s): %s", status, code, exc.user_message or exc)
        raise GatewayError(
            "The payment service refused the request; nothing was charged. Please try "
            "again, or choose another way to pay.",
            code=code,
            transient=status >= 500 or status == 409,
        ) from exc
    return result.to_dict() if hasattr(result, "to_dict") else result


# --- PaymentIntents ------------------------------------------------------------------------


def payment_intent_key(
    *, order_number: str, amount_minor: int, currency: str, attempt: int = 1
) -> str:
    """R6: the same order, amount, currency (and attempt) always give the same PaymentIntent.

    `attempt` > 1 only after the PaymentIntent of an earlier attempt was cancelled (its
    order could not be placed): the same basket placed again needs a payable one.
    """
    key = f"pi:{order_number}:{amount_minor}:{currency.lower()}"
    return key if attempt == 1 else f"{key}:{attempt}"


def _replayed(result) -> bool:
    response = getattr(result, "last_response", None)
    return bool(response is not None and response.headers.get("Idempotent-Replayed") == "true")


def payment_intent_create(
    *,
    order_number: str,
    amount_minor: int,
    currency: str,
    description: str,
    metadata: dict | None = None,
    attempt: int = 1,
) -> dict:
    """The PaymentIntent as it is now: a replayed create answers Stripe's first response,
    so the PaymentIntent is read again (it may have been cancelled since).

    Everything sent under the key is fixed by the order number, amount and currency
    (no e-mail, no translated text): a retry after the shopper changed something else
    must replay, not be refused as the same key with other parameters.
    """
    params: dict = {
        "amount": amount_minor,
        "currency": currency.lower(),
        "automatic_payment_methods": {"enabled": True},
        "description": description,
        "metadata": {
            "order_number": order_number,
            "shop": settings.STRIPE_SHOP_TAG,
            **(metadata or {}),
        },
    }
    key = payment_intent_key(
        order_number=order_number, amount_minor=amount_minor, currency=currency, attempt=attempt
    )
    replayed = []

    def create(**kwargs):
        result = _client().v1.payment_intents.create(**kwargs)
        replayed.append(_replayed(result))
        return result

    intent = _call(create, params=params, options={"idempotency_key": key})
    if replayed and replayed[-1]:
        intent = payment_intent_retrieve(intent["id"])
    return intent


def payment_intent_retrieve(payment_intent_id: str) -> dict:
    return _call(_client().v1.payment_intents.retrieve, payment_intent_id)


def payment_intent_cancel(payment_intent_id: str, *, reason: str = "abandoned") -> dict:
    return _call(
        _client().v1.payment_intents.cancel,
        payment_intent_id,
        params={"cancellation_reason": reason},
        options={"idempotency_key": f"pi-cancel:{payment_intent_id}"},
    )


def payment_intents_list(*, created_gte: int) -> Iterator[dict]:
    """Every PaymentIntent created since `created_gte` (a Unix time), newest first."""
    page = _call(
        _client().v1.payment_intents.list, params={"limit": 100, "created": {"gte": created_gte}}
    )
    while True:
        yield from page["data"]
        if not page.get("has_more") or not page["data"]:
            return
        page = _call(
            _client().v1.payment_intents.list,
            params={
                "limit": 100,
                "created": {"gte": created_gte},
                "starting_after": page["data"][-1]["id"],
            },
        )


# --- Refunds -------------------------------------------------------------------------------


def refund_create(
    *, payment_intent_id: str, amount_minor: int, idempotency_key: str, metadata: dict
) -> dict:
    return _call(
        _client().v1.refunds.create,
        params={
            "payment_intent": payment_intent_id,
            "amount": amount_minor,
            "metadata": metadata,
        },
        options={"idempotency_key": idempotency_key},
    )


def refunds_since(*, created_gte: int) -> Iterator[dict]:
    """Every refund created since `created_gte` (a Unix time), newest first."""
    params: dict = {"limit": 100, "created": {"gte": created_gte}}
    while True:
        page = _call(_client().v1.refunds.list, params=params)
        yield from page["data"]
        if not page.get("has_more") or not page["data"]:
            return
        params = {**params, "starting_after": page["data"][-1]["id"]}


def refunds_list(*, payment_intent_id: str) -> list[dict]:
    page = _call(
        _client().v1.refunds.list, params={"payment_intent": payment_intent_id, "limit": 100}
    )
    return list(page["data"])


# --- Webhooks ------------------------------------------------------------------------------


def webhook_event(payload: bytes, signature: str | None, *, now: float | None = None) -> dict:
    """The event in `payload` if its Stripe-Signature header checks out (R1).

    stripe's own verification checks the HMAC on the raw body and refuses timestamps
    older than the tolerance; a timestamp that far in the future is refused here too.
    """
    secret = settings.STRIPE_WEBHOOK_SECRET
    tolerance = settings.STRIPE_WEBHOOK_TOLERANCE
    if not secret:
        raise SignatureInvalid("Webhooks are not configured (STRIPE_WEBHOOK_SECRET is unset).")
    if not signature:
        raise SignatureInvalid("Missing Stripe-Signature header.")
    now = time.time() if now is None else now
    try:
        timestamp = int(next(part[2:] for part in signature.split(",") if part.startswith("t=")))
    except (StopIteration, ValueError):
        raise SignatureInvalid("Malformed Stripe-Signature header.") from None
    if timestamp > now + tolerance:
        raise SignatureInvalid("Signature timestamp is in the future.")
    if timestamp < now - tolerance:
        raise SignatureInvalid("Signature timestamp is too old.")
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret, tolerance)
    except stripe.SignatureVerificationError as exc:
        raise SignatureInvalid(str(exc.user_message or "Invalid signature.")) from None
    except (ValueError, TypeError, AttributeError, KeyError):
        raise SignatureInvalid("The body is not a Stripe event.") from None
    event = event.to_dict() if hasattr(event, "to_dict") else event
    data = event.get("data") if isinstance(event, dict) else None
    if not (
        isinstance(event.get("id"), str)
        and isinstance(event.get("type"), str)
        and isinstance(event.get("created"), int)
        and isinstance(data, dict)
        and isinstance(data.get("object"), dict)
    ):
        raise SignatureInvalid("The body is not a Stripe event.")
    return event
