"""The static beat schedule: every periodic task, in one place (every task is idempotent, so
a late or repeated run is harmless)."""

from celery.schedules import crontab

from .loyalty import LOYALTY_CAMPAIGN_SWEEP_EVERY
from .notifications import NOTIFY_SWEEP_INTERVAL
from .payments import PAYMENT_RECONCILE_INTERVAL

_DAILY = {"schedule": 86400.0, "options": {"expires": 80000}}
_HOURLY = {"schedule": 3600.0, "options": {"expires": 3000}}

CELERY_BEAT_SCHEDULE: dict = {
    "shop-heartbeat": {
        "task": "shop.tasks.heartbeat",
        "schedule": 300.0,
        "options": {"expires": 240},
    },
    # Remind, then cancel, click & collect orders left uncollected (stock released).
    "stores-pickups-sweep": {"task": "stores.tasks.pickups_sweep", **_HOURLY},
    # Local inventory feeds (README "Open data for local search"), made again as often as
    # their Cache-Control max-age (15 minutes) lets a reader come back.
    "stores-inventory-feeds": {
        "task": "stores.tasks.inventory_feeds_refresh",
        "schedule": 900.0,
        "options": {"expires": 840},
    },
    # Product page views and basket additions counted in Redis, written to Oscar's
    # analytics tables (shop/catalogue/product_views.py).
    "catalogue-product-views-flush": {
        "task": "shop.catalogue.tasks.product_views_flush",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    # Re-sends outbox messages the broker never got (Redis down at commit) or lost.
    "communication-sweep-outbox": {
        "task": "shop.communication.tasks.sweep_outbox",
        "schedule": NOTIFY_SWEEP_INTERVAL,
        "options": {"expires": NOTIFY_SWEEP_INTERVAL},
    },
    # What messages said is personal data: erased daily once older than
    # NOTIFY_BODY_RETENTION_DAYS (R46).
    "communication-prune-message-bodies": {
        "task": "shop.communication.tasks.prune_message_bodies",
        **_DAILY,
    },
    "privacy-prune-personal-data": {"task": "shop.accounts.tasks.prune_personal_data", **_DAILY},
    # Failed-login records, SECURITY_ACCESS_ATTEMPT_DAYS after the cool-off.
    "security-prune-access-attempts": {
        "task": "shop.security.tasks.prune_access_attempts",
        **_DAILY,
    },
    "loyalty-confirm-pending-points": {"task": "loyalty.tasks.confirm_pending_points", **_HOURLY},
    "loyalty-expire-points": {"task": "loyalty.tasks.expire_points", **_DAILY},
    "loyalty-birthday-bonuses": {"task": "loyalty.tasks.award_birthday_bonuses", **_DAILY},
    "loyalty-review-tiers": {"task": "loyalty.tasks.review_tiers", **_DAILY},
    # Gift links (R23) nobody accepted in time give their points back.
    "loyalty-expire-gift-links": {"task": "loyalty.tasks.expire_gift_links", **_HOURLY},
    # Segments (README.md "Segments"): member statistics refreshed hourly (incremental).
    "loyalty-refresh-member-stats": {"task": "loyalty.tasks.refresh_member_stats", **_HOURLY},
    # Campaigns (README.md "Campaigns"): start due campaigns, restart stalled fan-outs and
    # copy delivery outcomes.
    "loyalty-campaigns-sweep": {
        "task": "loyalty.tasks.sweep_campaigns",
        "schedule": LOYALTY_CAMPAIGN_SWEEP_EVERY,
        "options": {"expires": LOYALTY_CAMPAIGN_SWEEP_EVERY},
    },
    # Triggered campaigns (birthday, N days after the last order...) add the day's members.
    "loyalty-campaigns-triggers": {
        "task": "loyalty.tasks.resolve_triggered_campaigns",
        **_HOURLY,
    },
    # Recommendations (README.md "Recommendations"): hourly (incremental) and nightly (full).
    "loyalty-refresh-recommendations": {"task": "loyalty.tasks.refresh_recommendations", **_HOURLY},
    "loyalty-refresh-recommendations-full": {
        "task": "loyalty.tasks.refresh_recommendations",
        "schedule": crontab(hour=3, minute=30),
        "kwargs": {"full": True},
        "options": {"expires": 80000},
    },
    # R5: PaymentIntents and orders that disagree are resolved or flagged to staff;
    # orders awaiting payment longer than PAYMENT_HOLD_MINUTES are released (R15).
    "payment-reconcile": {
        "task": "shop.payment.tasks.payments_reconcile",
        "schedule": PAYMENT_RECONCILE_INTERVAL,
        "options": {"expires": PAYMENT_RECONCILE_INTERVAL * 0.9},
    },
}
