"""Oscar: every override of Oscar's settings, after `from oscar.defaults import *`; the
order status pipeline is built from shop/constants.py (docs/architecture.md, "Constants")."""

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from oscar.defaults import *  # noqa: F403  (Oscar's settings, overridden below)

# Plain names, importing nothing (docs/architecture.md, "Constants"); imported as a
# lower-case module so that its names do not become settings.
from shop import constants as status

from .core import DEFAULT_FROM_EMAIL, SITE_URL, country_from_env, currency_from_env, env

OSCAR_SHOP_NAME = env.str("SHOP_NAME", default="Solomo")
# Oscar's e-mails build links as OSCAR_URL_SCHEMA://<Site domain><path>; both follow SITE_URL.
OSCAR_URL_SCHEMA = SITE_URL.split("://")[0]
OSCAR_HOMEPAGE = reverse_lazy("home")
OSCAR_SHOP_TAGLINE = _("Buy on your phone, pick up near you")
OSCAR_DEFAULT_CURRENCY = currency_from_env()
# The shop's country: a new delivery address starts there (shop.checkout).
SHOP_COUNTRY = country_from_env()
OSCAR_ALLOW_ANON_CHECKOUT = True
OSCAR_ALLOW_ANON_REVIEWS = False
# Reviews wait for a moderator (dashboard, Reviews) before they are published, and only an
# approved review earns loyalty's review bonus (once per review).
OSCAR_MODERATE_REVIEWS = True
OSCAR_PRODUCTS_PER_PAGE = 24
OSCAR_THUMBNAILER = "oscar.core.thumbnails.SorlThumbnail"
OSCAR_FROM_EMAIL = DEFAULT_FROM_EMAIL
OSCAR_REQUIRED_ADDRESS_FIELDS = ("first_name", "last_name", "line1", "line4", "postcode", "country")

# The notification outbox (shop.communication) sits next to Oscar's email templates.
# Its URLs are not an Oscar dashboard app's, so the menu items say who may see them
# (README "Notifications").
OSCAR_DASHBOARD_NAVIGATION = [dict(section) for section in OSCAR_DASHBOARD_NAVIGATION]
for _section in OSCAR_DASHBOARD_NAVIGATION:
    if any(c.get("url_name") == "dashboard:comms-list" for c in _section.get("children", [])):
        _section["children"] = [
            *_section["children"],
            {
                "label": _("Messages"),
                "url_name": "communication:dashboard-list",
                "access_fn": lambda user, *args, **kwargs: user.has_perm(
                    "communication.view_outboxmessage"
                ),
            },
            {
                "label": _("Message templates"),
                "url_name": "communication:dashboard-template-list",
                "access_fn": lambda user, *args, **kwargs: user.has_perm(
                    "communication.change_communicationeventtype"
                ),
            },
        ]

# Dashboard menu per role (README, "Roles and permissions"): Oscar's entries follow their
# app's permissions (shop/dashboard/access.py); store staff, whose dashboard starts on
# their pickup queue (shop/dashboard/views.py), get their store's pages instead of the index.
for _section in OSCAR_DASHBOARD_NAVIGATION:
    if _section.get("url_name") == "dashboard:index":
        _section["access_fn"] = lambda user, *args, **kwargs: user.is_staff


def _store_pages_access(user, *args, **kwargs) -> bool:
    """Who opens stores' dashboard pages (stores/dashboard/views.py: HQ or partner users)."""
    return user.has_perm("partner.dashboard_access") or (
        user.is_staff and user.has_perm("stores.change_pickup")
    )


def _stock_page_access(user, *args, **kwargs) -> bool:
    """Who opens the Stock page (stores.selectors.stockrecords_visible_to): store staff for
    their store, catalogue managers and superusers for every store."""
    return user.has_perm("partner.dashboard_access") or (
        user.is_staff and user.has_perm("partner.change_stockrecord")
    )


OSCAR_DASHBOARD_NAVIGATION.insert(
    1,
    {
        "label": _("My store"),
        "icon": "fas fa-store",
        "access_fn": lambda user, *args, **kwargs: (
            _store_pages_access(user) or _stock_page_access(user)
        ),
        "children": [
            {
                "label": _("Pickups"),
                "url_name": "stores-dashboard:queue",
                "access_fn": _store_pages_access,
            },
            {
                "label": _("Hours and closures"),
                "url_name": "stores-dashboard:stores",
                "access_fn": _store_pages_access,
            },
            {
                "label": _("Stock"),
                "url_name": "stores-dashboard:stock",
                "access_fn": _stock_page_access,
            },
            {
                "label": _("Pickup messages"),
                "url_name": "communication:dashboard-store",
                "access_fn": lambda user, *args, **kwargs: user.has_perm(
                    "partner.dashboard_access"
                ),
            },
        ],
    },
)

# Loyalty's marketer pages; they belong to an Oscar dashboard app, so Oscar's own
# access function checks each page's permissions.
for _section in OSCAR_DASHBOARD_NAVIGATION:
    if any(c.get("url_name") == "dashboard:order-list" for c in _section.get("children", [])):
        _section["children"] = [
            *_section["children"],
            {
                "label": _("Card payments to review"),
                "url_name": "payment-dashboard:review",
                "access_fn": lambda user, *args, **kwargs: user.has_perm(
                    "payment.change_stripepayment"
                ),
            },
        ]
OSCAR_DASHBOARD_NAVIGATION.append(
    {
        "label": _("Loyalty"),
        "icon": "fas fa-star",
        "children": [
            {"label": _("Earning rules"), "url_name": "loyalty_dashboard:loyalty-rules"},
            {"label": _("Multipliers"), "url_name": "loyalty_dashboard:loyalty-multiplier-list"},
            {"label": _("Tiers"), "url_name": "loyalty_dashboard:loyalty-tier-list"},
            {"label": _("Member counter"), "url_name": "loyalty_dashboard:loyalty-counter"},
            {
                "label": _("Adjustments to approve"),
                "url_name": "loyalty_dashboard:loyalty-adjustment-list",
            },
            {"label": _("Counter limits"), "url_name": "loyalty_dashboard:loyalty-counter-limits"},
            {"label": _("Segments"), "url_name": "loyalty_dashboard:loyalty-segment-list"},
            {"label": _("Rewards"), "url_name": "loyalty_dashboard:loyalty-reward-list"},
            {"label": _("Campaigns"), "url_name": "loyalty_dashboard:loyalty-campaign-list"},
            {
                "label": _("Recommendations"),
                "url_name": "loyalty_dashboard:loyalty-recommendations",
            },
        ],
    }
)
OSCAR_DASHBOARD_NAVIGATION.append(
    {
        "label": _("Audit log"),
        "icon": "fas fa-clipboard-list",
        "url_name": "audit:log",
        "access_fn": lambda user, *args, **kwargs: user.is_superuser,
    }
)

# Browsing and search run on the database (shop.search); Haystack stays
# installed because Oscar imports it, but indexes nothing.
HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}
HAYSTACK_SIGNAL_PROCESSOR = "haystack.signals.BaseSignalProcessor"

THUMBNAIL_DEBUG = False
THUMBNAIL_FORMAT = "WEBP"
THUMBNAIL_QUALITY = 80
THUMBNAIL_PRESERVE_FORMAT = False
THUMBNAIL_KVSTORE = "sorl.thumbnail.kvstores.cached_db_kvstore.KVStore"


# Order statuses (Oscar's pipeline). A card order waits in "Pending payment" with its stock,
# slot and points held; the payment confirms it ("Pending") or its cancellation releases
# everything ("Cancelled"). A payment whose amount or currency differs is held for review.
# The names are defined once in shop/constants.py (docs/architecture.md, "Constants").
OSCAR_INITIAL_ORDER_STATUS = status.PAID
OSCAR_INITIAL_LINE_STATUS = status.PAID
OSCAR_ORDER_STATUS_PIPELINE = {
    status.AWAITING_PAYMENT: (status.PAID, status.PAYMENT_REVIEW, status.CANCELLED),
    status.PAYMENT_REVIEW: (status.PAID, status.CANCELLED),
    status.PAID: (status.BEING_PROCESSED, status.CANCELLED),
    status.BEING_PROCESSED: (status.COMPLETE, status.CANCELLED),
    status.COMPLETE: (),
    status.CANCELLED: (),
}
OSCAR_LINE_STATUS_PIPELINE = {
    status.PAID: (status.BEING_PROCESSED, status.CANCELLED),
    status.BEING_PROCESSED: (status.COMPLETE, status.CANCELLED),
    status.COMPLETE: (),
    status.CANCELLED: (),
}
OSCAR_ORDER_STATUS_CASCADE = {status.CANCELLED: status.CANCELLED}
