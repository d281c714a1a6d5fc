"""Oscar's payment models, plus what card payments through Stripe need to be exact.

StripePayment mirrors one PaymentIntent (one per order); its status only moves
forward (R3) and its refunds never exceed what was received (R10, CHECK below).
StripeEvent stores each webhook event id once, in the transaction of its effect (R2).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .constants import REFUND_CANCELED, REFUND_FAILED


class PaymentStatus(models.TextChoices):
    """Stripe's PaymentIntent statuses (https://docs.stripe.com/payments/paymentintents/lifecycle)."""

    REQUIRES_PAYMENT_METHOD = "requires_payment_method", _("Awaiting payment")
    REQUIRES_CONFIRMATION = "requires_confirmation", _("Awaiting confirmation")
    REQUIRES_ACTION = "requires_action", _("Awaiting authentication")
    PROCESSING = "processing", _("Processing")
    REQUIRES_CAPTURE = "requires_capture", _("Authorised")
    SUCCEEDED = "succeeded", _("Paid")
    CANCELED = "canceled", _("Cancelled")


class StripePayment(models.Model):
    """The PaymentIntent of an order paid by card (or an orphan PaymentIntent under review)."""

    order = models.OneToOneField(
        "order.Order",
        on_delete=models.PROTECT,
        related_name="stripe_payment",
        null=True,
        blank=True,
        help_text=_("Empty for a PaymentIntent found at Stripe without an order (R5)."),
    )
    order_number = models.CharField(_("Order number"), max_length=128, db_index=True)
    payment_intent_id = models.CharField(max_length=255, unique=True)
    amount = models.DecimalField(_("Amount"), max_digits=12, decimal_places=3)
    currency = models.CharField(_("Currency"), max_length=3)
    status = models.CharField(
        _("Status"),
        max_length=32,
        choices=PaymentStatus.choices,
        default=PaymentStatus.REQUIRES_PAYMENT_METHOD,
    )
    amount_received = models.DecimalField(
        _("Received"), max_digits=12, decimal_places=3, default=Decimal("0")
    )
    amount_refunded = models.DecimalField(
        _("Refunded"), max_digits=12, decimal_places=3, default=Decimal("0")
    )
    last_error = models.CharField(_("Last payment error"), max_length=500, blank=True)
    needs_review = models.BooleanField(_("Needs review"), default=False, db_index=True)
    review_reason = models.CharField(_("Why it needs review"), max_length=500, blank=True)
    # The language the customer placed the order in: the confirmation sent when Stripe's
    # webhook settles it (in no language of its own) is written in it.
    language = models.CharField(_("Language"), max_length=10, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("card payment")
        verbose_name_plural = _("card payments")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_refunded__gte=0)
                & models.Q(amount_refunded__lte=models.F("amount_received")),
                name="stripepayment_refunds_within_received",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment_intent_id} ({self.get_status_display()})"

    @property
    def refundable(self) -> Decimal:
        return self.amount_received - self.amount_refunded

    @property
    def is_paid(self) -> bool:
        return self.status == PaymentStatus.SUCCEEDED

    @property
    def is_canceled(self) -> bool:
        return self.status == PaymentStatus.CANCELED


class StripeRefund(models.Model):
    """A refund at Stripe, recorded once whoever made it (our dashboard or Stripe's).

    A refund we asked for whose answer was lost (timeout) is kept as "requested" with its
    idempotency key: asking again replays that same refund at Stripe, never a second one.
    """

    # Our attempt, before Stripe's answer is recorded (shop/payment/refunds.py): "sending"
    # from the moment it is committed, "requested" once its answer was lost.
    SENDING = "sending"
    REQUESTED = "requested"

    payment = models.ForeignKey(StripePayment, on_delete=models.PROTECT, related_name="refunds")
    refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    idempotency_key = models.CharField(max_length=255, unique=True, null=True, blank=True)
    amount = models.DecimalField(_("Amount"), max_digits=12, decimal_places=3)
    status = models.CharField(max_length=32)
    reason = models.CharField(_("Reason"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.refund_id or self.idempotency_key}: {self.amount}"

    @property
    def is_unconfirmed(self) -> bool:
        """Our attempt, whose answer from Stripe is not recorded yet."""
        return self.status in (self.SENDING, self.REQUESTED)

    @property
    def is_failed(self) -> bool:
        return self.status in (REFUND_FAILED, REFUND_CANCELED)


class StripeEvent(models.Model):
    """A webhook event id, stored UNIQUE in the same transaction as its effect (R2)."""

    id = models.CharField(primary_key=True, max_length=255)
    type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=255, blank=True, db_index=True)
    created = models.DateTimeField(help_text=_("When Stripe created the event."))
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.id} {self.type}"


from oscar.apps.payment.models import *  # noqa: E402, F403
