"""Customer accounts: privacy (export, erasure, retention) and e-mail address changes."""

from django.core.exceptions import ImproperlyConfigured

from .core import env

# --- Privacy (README "Export", "Erasure", "Retention") -------------------------------------
# Days a customer's data export link works; the zip is deleted afterwards.
PRIVACY_EXPORT_DAYS = env.int("PRIVACY_EXPORT_DAYS", default=7)
if PRIVACY_EXPORT_DAYS < 1:
    raise ImproperlyConfigured("PRIVACY_EXPORT_DAYS must be at least 1 day.")
# Days each delivery attempt (its outcome and provider error) is kept.
PRIVACY_DELIVERY_ATTEMPT_DAYS = env.int("PRIVACY_DELIVERY_ATTEMPT_DAYS", default=90)
# Years a guest order keeps its e-mail and addresses; the order and its amounts stay.
PRIVACY_GUEST_ORDER_YEARS = env.int("PRIVACY_GUEST_ORDER_YEARS", default=3)
if PRIVACY_DELIVERY_ATTEMPT_DAYS < 1 or PRIVACY_GUEST_ORDER_YEARS < 1:
    raise ImproperlyConfigured(
        "PRIVACY_DELIVERY_ATTEMPT_DAYS and PRIVACY_GUEST_ORDER_YEARS must be at least 1."
    )


# --- E-mail address changes (R39; shop.accounts) ------------------------------------------
ACCOUNT_EMAIL_CONFIRM_HOURS = env.int("ACCOUNT_EMAIL_CONFIRM_HOURS", default=24)
ACCOUNT_EMAIL_UNDO_DAYS = env.int("ACCOUNT_EMAIL_UNDO_DAYS", default=7)
if ACCOUNT_EMAIL_CONFIRM_HOURS < 1 or ACCOUNT_EMAIL_UNDO_DAYS < 1:
    raise ImproperlyConfigured(
        "ACCOUNT_EMAIL_CONFIRM_HOURS and ACCOUNT_EMAIL_UNDO_DAYS must be at least 1."
    )
