"""Retention jobs the privacy page promises (README "Retention"); run daily by beat.

Message bodies and Oscar's stored e-mail copies are pruned by shop.communication
(NOTIFY_BODY_RETENTION_DAYS), failed logins by shop.security (SECURITY_ACCESS_ATTEMPT_DAYS).
This module does the rest: delivery attempts, guest orders' contact data, expired exports.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from oscar.core.loading import get_model

from shop.communication.models import DeliveryAttempt

from .erasure import blank_text
from .export import exports_prune

Order = get_model("order", "Order")
ShippingAddress = get_model("order", "ShippingAddress")
BillingAddress = get_model("order", "BillingAddress")


def privacy_prune(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete delivery attempts older than PRIVACY_DELIVERY_ATTEMPT_DAYS, blank the e-mail
    and addresses of guest orders placed more than PRIVACY_GUEST_ORDER_YEARS ago (the order
    and its amounts stay for the books), delete expired data exports. Idempotent."""
    now = now or timezone.now()
    attempts_before = now - dt.timedelta(days=settings.PRIVACY_DELIVERY_ATTEMPT_DAYS)
    attempts, _by_model = DeliveryAttempt.objects.filter(started_at__lt=attempts_before).delete()
    guests_before = now - dt.timedelta(days=365 * settings.PRIVACY_GUEST_ORDER_YEARS)
    with transaction.atomic():
        old_guests = Order.objects.filter(user__isnull=True, date_placed__lt=guests_before)
        shipping = blank_text(
            ShippingAddress.objects.filter(pk__in=old_guests.values("shipping_address_id")).exclude(
                line1="", first_name="", last_name=""
            )
        )
        blank_text(BillingAddress.objects.filter(pk__in=old_guests.values("billing_address_id")))
        guests = old_guests.exclude(guest_email="").update(guest_email="")
    return {
        "delivery_attempts": attempts,
        "guest_orders": guests,
        "guest_addresses": shipping,
        "exports": exports_prune(now=now),
    }
