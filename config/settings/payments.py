"""Payments (shop.payment): Stripe and how long an order awaiting payment is held."""

from django.core.exceptions import ImproperlyConfigured

from .core import env

# Card payments go through Stripe (PaymentIntents + Payment Element); without both keys
# card payment is hidden and click & collect orders are paid at pickup. Only
# shop/payment/gateway.py imports stripe.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_TIMEOUT = env.float("STRIPE_TIMEOUT", default=10.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
# Written on every PaymentIntent; reconciliation only touches PaymentIntents carrying it,
# so shops or environments sharing one Stripe account leave each other's payments alone.
STRIPE_SHOP_TAG = env.str("STRIPE_SHOP_TAG", default="solomo")
# Webhook signatures: older than this, or this far in the future, is refused (R1).
STRIPE_WEBHOOK_TOLERANCE = 300
if bool(STRIPE_SECRET_KEY) != bool(STRIPE_PUBLISHABLE_KEY):
    raise ImproperlyConfigured("Set both STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY, or neither.")
PAYMENT_HOLD_MINUTES = env.int("PAYMENT_HOLD_MINUTES", default=30)
PAYMENT_RECONCILE_INTERVAL = env.float("PAYMENT_RECONCILE_INTERVAL", default=600.0)
PAYMENT_TEST_METHOD = False  # local.py may turn it on; production.py refuses it
if PAYMENT_HOLD_MINUTES < 5:
    raise ImproperlyConfigured("PAYMENT_HOLD_MINUTES must be at least 5 minutes.")
