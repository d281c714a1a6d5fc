"""The pay page of an order awaiting card payment, Stripe's return to it, and giving up.

The order already exists ("Pending payment", stock, slot and points held). The page
mounts Stripe's Payment Element (card data only ever in Stripe's iframe, R35); Stripe.js
confirms the payment, runs 3-D Secure when the bank asks, and sends the browser back to
the return URL, which reads the PaymentIntent from Stripe and applies it. If the browser
never comes back, the webhook or the reconciliation job does the same (R4, R5).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import generic
from django.views.decorators.cache import never_cache
from oscar.core.loading import get_model

from shop.constants import AWAITING_PAYMENT

from . import gateway
from .models import PaymentStatus, StripePayment
from .settlement import payment_apply, payment_cancel, payment_refresh

if TYPE_CHECKING:
    from oscar.apps.order.models import Order
else:
    Order = get_model("order", "Order")

PAY_SESSION_KEY = "payment_orders"


def order_of(payment: StripePayment) -> Order:
    """The order of a payment found through its order (so never an orphan's None)."""
    assert payment.order is not None
    return payment.order


class OrderPaymentMixin:
    """The order in the URL, if this browser placed it (session) or its customer is signed in."""

    request: HttpRequest
    kwargs: dict[str, Any]

    def get_payment(self) -> StripePayment:
        number = self.kwargs["order_number"]
        payment = (
            StripePayment.objects.select_related("order", "order__user")
            .filter(order__number=number)
            .first()
        )
        if payment is None:
            raise Http404
        user = self.request.user
        mine = user.is_authenticated and order_of(payment).user_id == user.pk
        if not (mine or number in self.request.session.get(PAY_SESSION_KEY, [])):
            raise Http404
        return payment

    def thank_you(self, payment: StripePayment):
        self.request.session["checkout_order_id"] = payment.order_id
        return redirect("checkout:thank-you")


@method_decorator(csp_update(settings.PAYMENT_PAGE_CSP), name="dispatch")
@method_decorator(never_cache, name="dispatch")  # it carries the PaymentIntent's secret
class PayView(OrderPaymentMixin, generic.TemplateView):
    """The one page whose policy lets Stripe.js run (R35): scripts from self and Stripe."""

    template_name = "oscar/checkout/pay.html"

    def get(self, request, *args, **kwargs):
        payment = self.get_payment()
        intent, unavailable = None, ""
        if payment.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED):
            try:
                intent = gateway.payment_intent_retrieve(payment.payment_intent_id)
            except gateway.GatewayError as exc:
                unavailable = exc.message
            else:
                # Paid or cancelled meanwhile (the webhook may be late): say so, not a form.
                applied = payment_apply(payment_intent=intent, authoritative=True)
                payment = applied.payment if applied else payment
        if payment.is_paid and order_of(payment).status != AWAITING_PAYMENT:
            return self.thank_you(payment)
        if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED):
            intent = None
        return self.render_to_response(
            self.get_context_data(payment=payment, intent=intent, unavailable=unavailable)
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        payment, intent = ctx["payment"], ctx["intent"]
        ctx["order"] = order_of(payment)
        ctx["hold_until"] = payment.created_at + dt.timedelta(minutes=settings.PAYMENT_HOLD_MINUTES)
        if intent is not None:
            ctx["stripe"] = {
                "publishable_key": gateway.publishable_key(),
                "client_secret": intent["client_secret"],
                "return_url": self.request.build_absolute_uri(
                    reverse("checkout:pay-return", kwargs={"order_number": payment.order_number})
                ),
            }
        return ctx


class PayReturnView(OrderPaymentMixin, generic.View):
    """Where Stripe.js sends the browser after confirming (3-D Secure included).

    A GET that only applies what Stripe says the PaymentIntent is now: the same, safe,
    idempotent step the webhook and reconciliation take, so it needs no CSRF token.
    """

    def get(self, request, *args, **kwargs):
        payment = self.get_payment()
        try:
            payment = payment_refresh(payment).payment
        except gateway.GatewayError:
            messages.warning(
                request,
                _(
                    "We could not confirm your payment with the bank yet. If it went "
                    "through, your order is confirmed within minutes and you will get an "
                    "email; you will not be charged twice."
                ),
            )
            return redirect("checkout:pay", order_number=payment.order_number)
        if payment.status == PaymentStatus.SUCCEEDED:
            return self.thank_you(payment)
        if payment.status == PaymentStatus.PROCESSING:
            messages.info(
                request,
                _("Your payment is being processed; we email you as soon as it is confirmed."),
            )
            return self.thank_you(payment)
        if payment.status == PaymentStatus.REQUIRES_PAYMENT_METHOD and payment.last_error:
            messages.error(
                request,
                _("Your payment did not go through: %(reason)s Please try another card.")
                % {"reason": payment.last_error},
            )
        return redirect("checkout:pay", order_number=payment.order_number)


class PayCancelView(OrderPaymentMixin, generic.View):
    """The shopper gives up: the PaymentIntent is cancelled and the order released."""

    def post(self, request, *args, **kwargs):
        payment = self.get_payment()
        try:
            cancelled = payment_cancel(payment, reason="requested_by_customer")
        except gateway.GatewayError as exc:
            messages.error(request, exc.message)
            return redirect("checkout:pay", order_number=payment.order_number)
        payment = cancelled.payment
        if payment.status == PaymentStatus.SUCCEEDED:
            messages.info(request, _("This order was already paid, so it was not cancelled."))
            return self.thank_you(payment)
        if payment.status != PaymentStatus.CANCELED:
            # Stripe does not cancel a payment already on its way (processing).
            messages.info(
                request,
                _(
                    "Your payment is already being processed, so this order cannot be "
                    "cancelled now; we email you as soon as it is confirmed."
                ),
            )
            return redirect("checkout:pay", order_number=payment.order_number)
        # Only the request that cancelled it puts the items back (not a second click).
        restored = self.restore_basket(order_of(payment)) if cancelled.transitioned else 0
        messages.success(
            request,
            _("Order %(number)s is cancelled and nothing was charged.")
            % {"number": payment.order_number}
            + (" " + _("Its items are back in your basket.") if restored else ""),
        )
        return redirect("basket:summary")

    def restore_basket(self, order: Order) -> int:
        """Put the cancelled order's lines back in the shopper's basket (what is still sold)."""
        basket, added = self.request.basket, 0  # type: ignore[attr-defined]  # Oscar's middleware
        for line in order.lines.select_related("product"):
            product = line.product
            info = basket.strategy.fetch_for_product(product) if product else None
            if info is None or not info.availability.is_available_to_buy:
                continue
            if basket.id is None:
                basket.save()
            basket.add_product(product, line.quantity)
            added += 1
        return added
