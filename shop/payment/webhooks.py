"""POST /checkout/stripe/webhook/: Stripe's events, verified on the raw body (R1)."""

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import gateway, services

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
        outcome = services.webhook_process(event)
    except gateway.GatewayError as exc:
        # Nothing was recorded (the event id neither): Stripe delivers it again later.
        logger.warning("Stripe webhook %s not applied yet: %s", event.get("id"), exc)
        return HttpResponse("Stripe could not be reached; retry later.", status=503)
    return JsonResponse({"received": True, "outcome": outcome})
