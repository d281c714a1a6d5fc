"""Loyalty: points, redemption, segments, campaigns and recommendations."""

from decimal import Decimal

from django.core.exceptions import ImproperlyConfigured

from shop import constants as status

from .core import env

LOYALTY_POINTS_EXPIRY_DAYS = env.int("LOYALTY_POINTS_EXPIRY_DAYS", default=365)
LOYALTY_EXPIRY_NOTICE_DAYS = env.int("LOYALTY_EXPIRY_NOTICE_DAYS", default=30)
LOYALTY_RETURN_WINDOW_DAYS = env.int("LOYALTY_RETURN_WINDOW_DAYS", default=14)
LOYALTY_VOID_ORDER_STATUSES = env.list("LOYALTY_VOID_ORDER_STATUSES", default=[status.CANCELLED])
# The statuses of the past orders the synthetic population writes (loyalty/population/batch.py):
# loyalty never imports shop, so it takes shop/constants.py's names from here.
LOYALTY_COMPLETE_ORDER_STATUS = status.COMPLETE
LOYALTY_CANCELLED_ORDER_STATUS = status.CANCELLED
if min(LOYALTY_POINTS_EXPIRY_DAYS, LOYALTY_EXPIRY_NOTICE_DAYS, LOYALTY_RETURN_WINDOW_DAYS) < 0:
    raise ImproperlyConfigured("LOYALTY_*_DAYS settings must be zero or more days.")
# Redeeming points at checkout: initial values of the earning rule's redemption fields
# (loyalty.models.EarningRule, when its row is created); marketers change them in the
# dashboard, and loyalty.services.redemption reads them from there.
LOYALTY_POINT_VALUE = Decimal(env.str("LOYALTY_POINT_VALUE", default="0.01"))
LOYALTY_REDEEM_MIN_POINTS = env.int("LOYALTY_REDEEM_MIN_POINTS", default=100)
LOYALTY_REDEEM_MAX_SHARE = Decimal(env.str("LOYALTY_REDEEM_MAX_SHARE", default="0.5"))
if LOYALTY_POINT_VALUE <= 0 or not 0 <= LOYALTY_REDEEM_MAX_SHARE <= 1:
    raise ImproperlyConfigured("LOYALTY_POINT_VALUE must be > 0, LOYALTY_REDEEM_MAX_SHARE 0-1.")
# Segments (README.md "Segments"): member statistics refreshed hourly (incremental); a
# member's one-to-one offer membership is cached this long, and re-read at once when the
# segment's rules change.
LOYALTY_SEGMENT_CACHE_SECONDS = env.int("LOYALTY_SEGMENT_CACHE_SECONDS", default=300)
# Campaigns (README.md "Campaigns"): members per send batch; how often beat starts due
# campaigns, restarts stalled fan-outs and copies delivery outcomes; a fan-out whose last
# batch is older than LOYALTY_CAMPAIGN_STALL_AFTER is restarted (a killed worker).
LOYALTY_CAMPAIGN_BATCH_SIZE = env.int("LOYALTY_CAMPAIGN_BATCH_SIZE", default=500)
LOYALTY_CAMPAIGN_SWEEP_EVERY = env.float("LOYALTY_CAMPAIGN_SWEEP_EVERY", default=60.0)
LOYALTY_CAMPAIGN_STALL_AFTER = env.float("LOYALTY_CAMPAIGN_STALL_AFTER", default=120.0)
# Links in campaign messages (unsubscribe, opens, clicks) stay valid this long.
LOYALTY_CAMPAIGN_LINK_DAYS = env.int("LOYALTY_CAMPAIGN_LINK_DAYS", default=365)
if LOYALTY_CAMPAIGN_BATCH_SIZE < 1 or LOYALTY_CAMPAIGN_STALL_AFTER <= 0:
    raise ImproperlyConfigured(
        "LOYALTY_CAMPAIGN_BATCH_SIZE must be at least 1, LOYALTY_CAMPAIGN_STALL_AFTER > 0."
    )
# Gift links (R23): days a link may be accepted; then beat gives its points back.
LOYALTY_GIFT_LINK_DAYS = env.int("LOYALTY_GIFT_LINK_DAYS", default=14)
if LOYALTY_GIFT_LINK_DAYS < 1:
    raise ImproperlyConfigured("LOYALTY_GIFT_LINK_DAYS must be at least 1.")
# Recommendations (README.md "Recommendations"): partners kept per product, products kept
# per member, the member's strongest categories drawn from; the beat job runs hourly
# (incremental) and nightly (full); shoppers' candidate lists are cached this long.
LOYALTY_RECOMMENDATION_PAIRS = env.int("LOYALTY_RECOMMENDATION_PAIRS", default=20)
LOYALTY_RECOMMENDATIONS_PER_MEMBER = env.int("LOYALTY_RECOMMENDATIONS_PER_MEMBER", default=12)
LOYALTY_RECOMMENDATION_CATEGORIES = env.int("LOYALTY_RECOMMENDATION_CATEGORIES", default=3)
LOYALTY_RECOMMENDATION_CACHE_SECONDS = env.int("LOYALTY_RECOMMENDATION_CACHE_SECONDS", default=600)
# Seconds a rendered product card is kept (shop/catalogue/cards.py): changes through the
# ORM retire it at once; this bounds what a write bypassing the signals can leave shown.
PRODUCT_CARD_CACHE_SECONDS = env.int("PRODUCT_CARD_CACHE_SECONDS", default=600)
# Seconds the site, tier and segment offers are kept (shop/offer/cache.py): changes through
# the ORM are seen at once; this bounds what a write bypassing the signals can leave applied.
OFFER_CACHE_SECONDS = env.int("OFFER_CACHE_SECONDS", default=300)
if (
    min(
        LOYALTY_RECOMMENDATION_PAIRS,
        LOYALTY_RECOMMENDATIONS_PER_MEMBER,
        LOYALTY_RECOMMENDATION_CATEGORIES,
    )
    < 1
):
    raise ImproperlyConfigured("LOYALTY_RECOMMENDATION* settings must be at least 1.")
