"""Staff pages for card payments: refunds from the order page, and payments to review.

Least privilege: refunding needs the "payment.add_striperefund" permission, the review
list and resolving "payment.change_stripepayment" (superusers have both; give them to
the finance group, not to store staff). Every change is a POST with CSRF (R40).
"""

from decimal import Decimal
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from shop.constants import PAYMENT_REVIEW

from .models import StripePayment
from .money import money_display
from .refunds import RefundRefused, refund_create


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label=gettext_lazy("Amount to refund"), min_value=Decimal("0.01"), decimal_places=3
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=255)
    # One per form shown (payment_tags.refund_token): the refund's idempotency key.
    token = forms.RegexField(regex=r"^[0-9a-f]{32}$", required=False)

    def __init__(self, *args, payment: StripePayment, **kwargs):
        super().__init__(*args, **kwargs)
        self.payment = payment


def staff_with(perm: str):
    """Signed in (else the login page), staff, and holding `perm` (else 403)."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not (request.user.is_staff and request.user.has_perm(perm)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorate


def _order_url(payment: StripePayment) -> str:
    if payment.order_id is None:
        return reverse("payment-dashboard:review")
    return reverse("dashboard:order-detail", kwargs={"number": payment.order_number})


@require_POST
@staff_with("payment.add_striperefund")
def refund(request, pk: int):
    payment = get_object_or_404(StripePayment.objects.select_related("order"), pk=pk)
    form = RefundForm(request.POST, payment=payment)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(_order_url(payment))
    try:
        result = refund_create(
            payment=payment,
            amount=form.cleaned_data["amount"],
            user=request.user,
            reason=form.cleaned_data["reason"],
            token=form.cleaned_data["token"],
        )
    except RefundRefused as exc:
        messages.error(request, exc.message)
    else:
        amount = money_display(result.refund.amount, payment.currency)
        if result.completed_earlier:
            messages.warning(
                request,
                _(
                    "The earlier refund of %(amount)s, which Stripe had not "
                    "confirmed, is now done. Nothing else was refunded: check the total, "
                    "then refund again if more is due."
                )
                % {"amount": amount},
            )
        else:
            messages.success(request, _("Refunded %(amount)s.") % {"amount": amount})
    return redirect(_order_url(payment))


@require_POST
@staff_with("payment.change_stripepayment")
def resolve(request, pk: int):
    with transaction.atomic():
        payment = get_object_or_404(StripePayment.objects.select_for_update(), pk=pk)
        note = request.POST.get("note", "").strip()
        if not note:
            messages.error(request, _("Say what was done, so the next person knows."))
            return redirect(reverse("payment-dashboard:review"))
        if payment.order is not None:
            payment.order.notes.create(
                user=request.user,
                note_type=PAYMENT_REVIEW,
                message=f"{payment.review_reason} -> {note}",
            )
        payment.needs_review = False
        payment.review_reason = f"Resolved by {request.user.get_username()}: {note}"[:500]
        payment.save(update_fields=["needs_review", "review_reason", "updated_at"])
    messages.success(request, _("Marked as resolved."))
    return redirect(reverse("payment-dashboard:review"))


@require_GET
@staff_with("payment.change_stripepayment")
def review(request):
    payments = StripePayment.objects.filter(needs_review=True).select_related("order")
    return render(request, "payment/dashboard/review.html", {"payments": payments})


app_name = "payment-dashboard"
urlpatterns = [
    path("review/", review, name="review"),
    path("<int:pk>/refund/", refund, name="refund"),
    path("<int:pk>/resolve/", resolve, name="resolve"),
]
