"""R40: a GET changes nothing. Every URL pattern of the whole URLconf, as every role.

The resolver is walked recursively; each pattern's path arguments are filled from objects
made once for the module (a product, a category, the shopper's order and pickup, the
stores, an offer, a voucher, a member...). A pattern that cannot be filled would be listed
in UNFILLABLE with the reason (none is today). For each role (made minimally here), one
client GETs every URL, and the row count of every table is compared before and after each
request that ran an INSERT, UPDATE or DELETE statement (counting every table after every
request would take minutes); only the tables in WRITES_ALLOWED_ON_GET may change, with the
reason each. UPDATEs do not change counts, so write statements are checked as well: the
Oscar views in UPDATES_ON_GET still update on GET (to be made POSTs). After its crawl,
each signed-in role must still be signed in: no GET logged it out.
"""

import contextlib
import datetime as dt
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.contrib.flatpages.models import FlatPage
from django.contrib.sites.models import Site
from django.db import connection, transaction
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import LocalePrefixPattern, RegexPattern, RoutePattern
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from oscar.core.loading import get_model
from oscar.test import factories as oscar_factories

from shop.accounts import services as accounts_services
from shop.accounts.export import export_token_hash
from shop.accounts.models import DataExport, EmailChange
from shop.communication.models import OutboxMessage
from stores.links import pickup_link_token
from stores.sharing import shared_pass_create, shared_pass_token
from tests.factories import category, product
from tests.loyalty.factories import member_factory
from tests.stores.factories import pickup_order, stock, store

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("get-is-safe")]

User = get_user_model()

# Tables a GET may write to, and why that is expected and harmless.
WRITES_ALLOWED_ON_GET = {
    "django_session": "a page may keep something in the visitor's session (e.g. the "
    "language or the chosen store); sessions are the visitor's own state, not the shop's",
    "thumbnail_kvstore": "sorl-thumbnail records the thumbnails it generated while "
    "rendering product images: a cache kept in the database (THUMBNAIL_KVSTORE)",
    "analytics_productrecord": "Oscar's analytics count product views on the product page",
    "analytics_userproductview": "Oscar's analytics record which products a user viewed",
    "analytics_usersearch": "Oscar's analytics record a signed-in user's searches",
    "analytics_userrecord": "Oscar's analytics count a signed-in user's views and searches",
    "loyalty_utmlanding": "a page opened from an address with a campaign's UTM tags records "
    "that landing, once a day (README.md 'Attribution'), as analytics record views",
}

# Patterns no object of the test can fill, with the reason.
UNFILLABLE: dict[str, str] = {}


# Oscar views that UPDATE a row on GET (no row count changes, so the assertion on counts
# lets them through; the statements are checked too). Each is a state change on GET still
# to be made a POST, with why it is tolerated until then. Any other one fails the test.
UPDATES_ON_GET = {
    "customer:alerts-confirm": "Oscar's link e-mailed to a guest confirms their product "
    "alert on GET (the key is secret; confirming an alert is harmless)",
    "customer:alerts-cancel-by-key": "Oscar's link e-mailed with each alert cancels it on GET "
    "(the key is secret)",
    "customer:alerts-cancel-by-pk": "Oscar cancels one's own product alert on GET",
    "customer:notifications-detail": "Oscar marks one's own notification read when it is opened",
    "customer:address-change-status": "Oscar makes one's own address the default on GET",
    "customer:wishlists-move-product-to-another": "Oscar moves a line between one's own "
    "wish lists on GET",
    # Not Oscar's: the tracking of campaign messages (README "Campaigns"), GETs by nature.
    "loyalty:campaign-open": "the open pixel of a campaign email records when it was first "
    "shown (one timestamp of that send, once); an email can only GET an image",
    "loyalty:campaign-click": "a tracked link of a campaign message records its first click "
    "(one timestamp of that send, once) before redirecting; links in messages are GETs",
}

# Patterns whose GET is a server error, with the reason (not a write: rows are still counted).
ERRORS_ON_GET = {
    "customer:order-line": "Oscar's order line view only handles its POST (re-order); a GET "
    "looks for a template Oscar does not ship (order/line_detail.html): 500",
}


@contextlib.contextmanager
def _no_request_logging():
    """The 403s and 404s of the crawl are expected: Django logging each (with its traceback)
    would take most of the crawl's time."""
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


# --- The roles, each made minimally: a staff group with the permissions its work needs ---


def _perms(*specs: str) -> list[Permission]:
    """Permissions by "app_label.codename", or every permission of "app_label.model.*"."""
    found: list[Permission] = []
    for spec in specs:
        app_label, rest = spec.split(".", 1)
        if rest.endswith(".*"):
            query = Permission.objects.filter(
                content_type__app_label=app_label, content_type__model=rest[:-2]
            )
        else:
            query = Permission.objects.filter(content_type__app_label=app_label, codename=rest)
        assert query.exists(), f"no permission {spec}"
        found.extend(query)
    return found


ROLE_PERMISSIONS = {
    "catalogue manager": (
        "catalogue.product.*",
        "catalogue.category.*",
        "catalogue.productclass.*",
        "catalogue.productattribute.*",
        "catalogue.option.*",
        "catalogue.attributeoptiongroup.*",
        "partner.stockrecord.*",
        "reviews.productreview.*",
    ),
    "marketer": (
        "offer.conditionaloffer.*",
        "offer.range.*",
        "voucher.voucher.*",
        "voucher.voucherset.*",
        "communication.communicationeventtype.*",
        "flatpages.flatpage.*",
        "loyalty.earningrule.*",
        "loyalty.multiplier.*",
        "loyalty.tierlevel.*",
        "loyalty.reward.*",
    ),
    "support": (
        "order.order.*",
        "auth.view_user",
        "auth.change_user",
        "communication.view_outboxmessage",
        "communication.change_outboxmessage",
        "loyalty.view_member",
    ),
}
ROLES = [
    "superuser",
    "catalogue manager",
    "marketer",
    "support",
    "store A staff",
    "store B staff",
    "shopper",
    "anonymous",
]


def _role_users(store_a, store_b, shopper) -> dict:
    users = {"shopper": shopper, "anonymous": None}
    users["superuser"] = User.objects.create_superuser("root", "root@example.com", "pw")
    for role, specs in ROLE_PERMISSIONS.items():
        group = Group.objects.create(name=f"crawl {role}")
        group.permissions.set(_perms(*specs))
        user = User.objects.create_user(
            role.replace(" ", "-"), f"{role[:3]}@example.com", "pw", is_staff=True
        )
        user.groups.add(group)
        users[role] = user
    staff_group = Group.objects.create(name="crawl store staff")
    staff_group.permissions.set(_perms("partner.dashboard_access"))
    for role, shop in (("store A staff", store_a), ("store B staff", store_b)):
        user = User.objects.create_user(role.replace(" ", "-"), f"{shop.slug}@example.com", "pw")
        user.groups.add(staff_group)
        shop.partner.users.add(user)
        users[role] = user
    return users


# --- The objects whose keys fill the URLs --------------------------------------------------


def _world() -> SimpleNamespace:
    from loyalty.models import Multiplier, Reward, RewardKind, TierLevel
    from loyalty.services.gift_links import gift_link_create
    from loyalty.services.ledger import points_credit
    from loyalty.services.segments import segment_save
    from loyalty.services.tiers import tier_levels_ensure
    from shop.payment.models import StripePayment

    w = SimpleNamespace()
    w.store_a, w.store_b = store("Centre"), store("Gare")
    w.category = category("Mugs")
    w.subcategory = category("Tea", parent=w.category)
    w.product = product("Blue mug", categories=[w.subcategory])
    stock(w.store_a, w.product, 5)
    w.product_class = w.product.get_product_class()
    w.range = oscar_factories.RangeFactory(name="Mugs range", slug="mugs-range")
    w.offer = oscar_factories.ConditionalOfferFactory(name="Mug offer", slug="mug-offer")
    w.voucher = oscar_factories.VoucherFactory(code="CRAWL10")
    w.voucher_set = oscar_factories.VoucherSetFactory(name="Crawl set", count=1)
    w.option = oscar_factories.OptionFactory(name="Engraving")
    w.option_group = oscar_factories.AttributeOptionGroupFactory(name="Colours")
    w.flatpage = FlatPage.objects.create(url="/about/", title="About", content="Hi")
    w.flatpage.sites.add(Site.objects.get_current())
    w.band = oscar_factories.create_shipping_weight_band(upper_limit=5, charge=3)
    w.shipping_method = w.band.method

    member = member_factory(email="shopper@example.com", username="shopper")
    w.shopper = member.user
    w.member = member
    w.pickup = pickup_order(w.store_a, user=w.shopper)
    # A pass shared with a friend, and a link holding points for a friend: the GET of the
    # friend's pages (and of the forms behind them) must write nothing either.
    w.shared_pass_token = shared_pass_token(
        shared=shared_pass_create(
            pickup=w.pickup, user=w.shopper, friend_name="Paul", language="en", now=timezone.now()
        )
    )
    points_credit(member=member, amount=500, reason="Order", idempotency_key="crawl-points")
    w.gift_link = gift_link_create(sender=member, points=50, key="crawl-gift-link")
    w.order = w.pickup.order
    w.line = w.order.lines.first()
    w.note = w.order.notes.create(user=w.shopper, message="Ring twice")
    w.review = oscar_factories.ProductReviewFactory(product=w.product, user=w.shopper)
    w.address = oscar_factories.UserAddressFactory(user=w.shopper)
    w.alert = oscar_factories.ProductAlertFactory(product=w.product, user=w.shopper)
    # A guest's alert, confirmed and cancelled by the key sent to their address.
    w.guest_alert = oscar_factories.ProductAlertFactory(
        product=w.product, user=None, email="guest@example.com"
    )
    w.wishlist = oscar_factories.WishListFactory(owner=w.shopper, visibility="Public")
    w.wishlist.add(w.product)
    w.wishlist_line = w.wishlist.lines.get()
    w.other_wishlist = oscar_factories.WishListFactory(owner=w.shopper, name="Other")
    w.email = get_model("communication", "Email").objects.create(
        user=w.shopper, email=w.shopper.email, subject="Hi", body_text="Hello"
    )
    w.notification = get_model("communication", "Notification").objects.create(
        recipient=w.shopper, subject="Your order"
    )
    w.outbox = OutboxMessage.objects.filter(user=w.shopper).first() or (
        OutboxMessage.objects.create(
            channel="email",
            recipient=w.shopper.email,
            subject="Hello",
            max_attempts=1,
            next_attempt_at=w.order.date_placed,
        )
    )
    w.payment = StripePayment.objects.create(
        order=w.order,
        order_number=w.order.number,
        payment_intent_id="pi_crawl",
        amount=w.order.total_incl_tax,
        currency=w.order.currency,
        status="succeeded",
        amount_received=w.order.total_incl_tax,
    )
    w.reward = Reward.objects.create(name="Mug", kind=RewardKind.DISCOUNT, points_cost=100, value=5)
    w.multiplier = Multiplier.objects.create(name="Mugs x2", factor=2, category=w.category)
    tier_levels_ensure()
    w.tier = TierLevel.objects.order_by("pk").first()
    w.segment = segment_save(name="Everyone", rules={})
    w.campaign, w.campaign_token = _campaign_sent_to(w.segment, member)
    w.event_code = "EMAIL_CHANGED"  # created by shop.accounts' data migration

    absolute = "http://testserver{}".format
    undone = accounts_services.email_change_request(
        user=w.shopper, new_email="later@example.com", absolute=absolute
    )
    EmailChange.objects.filter(pk=undone.pk).update(status=EmailChange.Status.CONFIRMED)
    w.undo_token = accounts_services.undo_token(undone)
    pending = accounts_services.email_change_request(
        user=w.shopper, new_email="new@example.com", absolute=absolute
    )
    w.confirm_token = accounts_services.confirm_token(pending)
    # A ready export of the shopper's data: its GET serves the zip, writing nothing.
    w.export_token = "crawl-export-token"
    DataExport.objects.create(
        user=w.shopper,
        token_hash=export_token_hash(w.export_token),
        status=DataExport.Status.READY,
        expires_at=timezone.now() + dt.timedelta(days=1),
        content=b"PK",
    )
    w.basket = get_model("basket", "Basket").objects.create(owner=w.shopper)
    w.basket.vouchers.add(w.voucher)  # for basket:vouchers-remove
    return w


def _campaign_sent_to(segment, member) -> tuple:
    """A campaign with its email to `member`, and the token of that email's links."""
    from loyalty.campaign_messages import SendKey, send_token
    from loyalty.models import Campaign, CampaignSend

    campaign = Campaign.objects.create(
        name="Spring", segment=segment, channels=["email"], utm_campaign="spring-crawl"
    )
    CampaignSend.objects.create(campaign=campaign, member=member, channel="email", status="sent")
    return campaign, send_token(SendKey(campaign.pk, member.pk, "email"))


def _kwargs(w: SimpleNamespace) -> dict[str, Callable[[], dict]]:
    """Path arguments per pattern name (namespace:name), from the module's objects."""
    p, o = w.product, w.order
    product = {"product_slug": p.slug, "product_pk": p.pk}
    return {
        "stores-api:detail": lambda: {"slug": w.store_a.slug},
        "api:product": lambda: {"pk": p.pk},
        "api:store-choose": lambda: {"slug": w.store_a.slug},
        "api:loyalty-redeem": lambda: {"pk": w.reward.pk},
        "api:order": lambda: {"number": o.number},
        "api:order-here": lambda: {"number": o.number},
        "pwa-manifest": lambda: {"language": "fr"},
        "stores-api:inventory-csv": lambda: {"slug": w.store_a.slug},
        "stores-api:inventory-json": lambda: {"slug": w.store_b.slug},
        "stores:pickup-here": lambda: {"number": o.number},
        "stores:pickup-share": lambda: {"number": o.number},
        "stores:pickup-share-revoke": lambda: {"number": o.number},
        "stores:friend-pass": lambda: {"token": w.shared_pass_token},
        **{
            f"loyalty:{name}": (lambda: {"token": w.gift_link.token})
            for name in ("gift-link", "gift-link-accept", "gift-link-cancel")
        },
        "stores:pickup-status": lambda: {"token": pickup_link_token(order_number=o.number)},
        "stores:detail": lambda: {"slug": w.store_a.slug},
        "stores:choose": lambda: {"slug": w.store_a.slug},
        "loyalty:redeem": lambda: {"pk": w.reward.pk},
        "loyalty:referral": lambda: {"code": w.member.referral_code},
        "loyalty_dashboard:loyalty-multiplier-update": lambda: {"pk": w.multiplier.pk},
        "loyalty_dashboard:loyalty-multiplier-delete": lambda: {"pk": w.multiplier.pk},
        "loyalty_dashboard:loyalty-tier-update": lambda: {"pk": w.tier.pk},
        "loyalty_dashboard:loyalty-segment-update": lambda: {"pk": w.segment.pk},
        "loyalty_dashboard:loyalty-segment-delete": lambda: {"pk": w.segment.pk},
        "loyalty_dashboard:loyalty-reward-update": lambda: {"pk": w.reward.pk},
        "loyalty_dashboard:loyalty-reward-status": lambda: {"pk": w.reward.pk},
        **{
            f"loyalty_dashboard:loyalty-campaign-{page}": (lambda: {"pk": w.campaign.pk})
            for page in (
                "detail",
                "update",
                "preview",
                "test-send",
                "status",
                "attribution",
                "attribution-csv",
            )
        },
        **{
            f"loyalty:campaign-{link}": (lambda: {"token": w.campaign_token})
            for link in ("unsubscribe", "open", "click")
        },
        # No adjustment waits: the page's 404 is as much a GET as its form.
        "loyalty_dashboard:loyalty-adjustment-decide": lambda: {"pk": 999999},
        "stores-dashboard:stock-edit": lambda: {"pk": w.pickup.order.lines.first().stockrecord_id},
        "stores-dashboard:store": lambda: {"pk": w.store_a.pk},
        "stores-dashboard:detail": lambda: {"pk": w.pickup.pk},
        "stores-dashboard:status": lambda: {"pk": w.pickup.pk},
        "payment-dashboard:refund": lambda: {"pk": w.payment.pk},
        "payment-dashboard:resolve": lambda: {"pk": w.payment.pk},
        "communication:dashboard-detail": lambda: {"pk": w.outbox.pk},
        "communication:dashboard-retry": lambda: {"pk": w.outbox.pk},
        "communication:dashboard-templates": lambda: {"code": w.event_code},
        "accounts:email-confirm": lambda: {"token": w.confirm_token},
        "accounts:email-undo": lambda: {"token": w.undo_token},
        "accounts:export-download": lambda: {"token": w.export_token},
        "communication:consent-withdraw": lambda: {"channel": "email"},
        "catalogue:reviews-detail": lambda: {**product, "pk": w.review.pk},
        "catalogue:reviews-add": lambda: product,
        "catalogue:reviews-vote": lambda: {**product, "pk": w.review.pk},
        "catalogue:reviews-list": lambda: product,
        "catalogue:detail": lambda: {"product_slug": p.slug, "pk": p.pk},
        "catalogue:category": lambda: {
            "category_slug": w.subcategory.full_slug,
            "pk": w.subcategory.pk,
        },
        "catalogue:range": lambda: {"slug": w.range.slug},
        "basket:add": lambda: {"pk": p.pk},
        "basket:vouchers-remove": lambda: {"pk": w.voucher.pk},
        "checkout:pickup-store": lambda: {"slug": w.store_a.slug},
        "checkout:user-address-update": lambda: {"pk": w.address.pk},
        "checkout:user-address-delete": lambda: {"pk": w.address.pk},
        "checkout:pay": lambda: {"order_number": o.number},
        "checkout:pay-return": lambda: {"order_number": o.number},
        "checkout:pay-cancel": lambda: {"order_number": o.number},
        "customer:anon-order-form": lambda: {"order_number": o.number, "hash": "x"},
        "customer:anon-order": lambda: {
            "order_number": o.number,
            "hash": o.verification_hash(),
        },
        "customer:order": lambda: {"order_number": o.number},
        "customer:order-line": lambda: {"order_number": o.number, "line_id": w.line.pk},
        "customer:address-detail": lambda: {"pk": w.address.pk},
        "customer:address-delete": lambda: {"pk": w.address.pk},
        "customer:address-change-status": lambda: {
            "pk": w.address.pk,
            "action": "default_for_billing",
        },
        "customer:email-detail": lambda: {"email_id": w.email.pk},
        "customer:notifications-detail": lambda: {"pk": w.notification.pk},
        "customer:alert-create": lambda: {"pk": p.pk},
        "customer:alerts-confirm": lambda: {"key": w.guest_alert.key},
        "customer:alerts-cancel-by-key": lambda: {"key": w.guest_alert.key},
        "customer:alerts-cancel-by-pk": lambda: {"pk": w.alert.pk},
        "customer:wishlists-add-product": lambda: {"key": w.wishlist.key, "product_pk": p.pk},
        "customer:wishlists-create-with-product": lambda: {"product_pk": p.pk},
        "customer:wishlists-detail": lambda: {"key": w.wishlist.key},
        "customer:wishlists-update": lambda: {"key": w.wishlist.key},
        "customer:wishlists-delete": lambda: {"key": w.wishlist.key},
        "customer:wishlists-remove-product": lambda: {
            "key": w.wishlist.key,
            "line_pk": w.wishlist_line.pk,
            "product_pk": p.pk,
        },
        "customer:wishlists-move-product-to-another": lambda: {
            "key": w.wishlist.key,
            "line_pk": w.wishlist_line.pk,
            "to_key": w.other_wishlist.key,
        },
        "dashboard:catalogue-product": lambda: {"pk": p.pk},
        "dashboard:catalogue-product-create": lambda: {"product_class_slug": w.product_class.slug},
        "dashboard:catalogue-product-create-child": lambda: {"parent_pk": p.pk},
        "dashboard:catalogue-product-delete": lambda: {"pk": p.pk},
        "dashboard:catalogue-category-detail-list": lambda: {"pk": w.category.pk},
        "dashboard:catalogue-category-create-child": lambda: {"parent": w.category.pk},
        "dashboard:catalogue-category-update": lambda: {"pk": w.category.pk},
        "dashboard:catalogue-category-delete": lambda: {"pk": w.category.pk},
        "dashboard:catalogue-class-update": lambda: {"pk": w.product_class.pk},
        "dashboard:catalogue-class-delete": lambda: {"pk": w.product_class.pk},
        "dashboard:catalogue-attribute-option-group-update": lambda: {"pk": w.option_group.pk},
        "dashboard:catalogue-attribute-option-group-delete": lambda: {"pk": w.option_group.pk},
        "dashboard:catalogue-option-update": lambda: {"pk": w.option.pk},
        "dashboard:catalogue-option-delete": lambda: {"pk": w.option.pk},
        "dashboard:order-detail": lambda: {"number": o.number},
        "dashboard:order-detail-note": lambda: {"number": o.number, "note_id": w.note.pk},
        "dashboard:order-line-detail": lambda: {"number": o.number, "line_id": w.line.pk},
        "dashboard:order-shipping-address": lambda: {"number": o.number},
        "dashboard:user-detail": lambda: {"pk": w.shopper.pk},
        "dashboard:user-password-reset": lambda: {"pk": w.shopper.pk},
        "dashboard:user-alert-delete": lambda: {"pk": w.alert.pk},
        "dashboard:user-alert-update": lambda: {"pk": w.alert.pk},
        "dashboard:page-update": lambda: {"pk": w.flatpage.pk},
        "dashboard:page-delete": lambda: {"pk": w.flatpage.pk},
        "dashboard:partner-manage": lambda: {"pk": w.store_a.partner.pk},
        "dashboard:partner-delete": lambda: {"pk": w.store_a.partner.pk},
        "dashboard:partner-user-create": lambda: {"partner_pk": w.store_a.partner.pk},
        "dashboard:partner-user-select": lambda: {"partner_pk": w.store_a.partner.pk},
        "dashboard:partner-user-link": lambda: {
            "partner_pk": w.store_a.partner.pk,
            "user_pk": w.shopper.pk,
        },
        "dashboard:partner-user-unlink": lambda: {
            "partner_pk": w.store_a.partner.pk,
            "user_pk": w.store_a.partner.users.first().pk,
        },
        "dashboard:partner-user-update": lambda: {
            "partner_pk": w.store_a.partner.pk,
            "user_pk": w.store_a.partner.users.first().pk,
        },
        **{
            f"dashboard:offer-{step}": (lambda: {"pk": w.offer.pk})
            for step in ("metadata", "condition", "benefit", "restrictions", "delete", "detail")
        },
        **{
            f"dashboard:range-{step}": (lambda: {"pk": w.range.pk})
            for step in ("update", "delete", "products", "reorder")
        },
        "dashboard:reviews-update": lambda: {"pk": w.review.pk},
        "dashboard:reviews-delete": lambda: {"pk": w.review.pk},
        **{
            f"dashboard:voucher-{step}": (lambda: {"pk": w.voucher.pk})
            for step in ("update", "delete", "stats")
        },
        **{
            f"dashboard:voucher-set-{step}": (lambda: {"pk": w.voucher_set.pk})
            for step in ("update", "detail", "download", "delete")
        },
        "dashboard:comms-update": lambda: {"slug": w.event_code},
        "dashboard:shipping-method-detail": lambda: {"pk": w.shipping_method.pk},
        "dashboard:shipping-method-edit": lambda: {"pk": w.shipping_method.pk},
        "dashboard:shipping-method-delete": lambda: {"pk": w.shipping_method.pk},
        "dashboard:shipping-method-band-edit": lambda: {
            "method_pk": w.shipping_method.pk,
            "pk": w.band.pk,
        },
        "dashboard:shipping-method-band-delete": lambda: {
            "method_pk": w.shipping_method.pk,
            "pk": w.band.pk,
        },
        "offer:detail": lambda: {"slug": w.offer.slug},
        "wishlists:detail": lambda: {"key": w.wishlist.key},
        "password-reset-confirm": lambda: {
            "uidb64": urlsafe_base64_encode(force_bytes(w.shopper.pk)),
            "token": default_token_generator.make_token(w.shopper),
        },
        # Django's admin. Its per-model pages take the first object of their model (below);
        # the others: an app's index, "view on site", treebeard's category children, and
        # the catch-all (a 404 or a redirect to the login).
        "admin:": lambda: {
            "app_label": "catalogue",
            "content_type_id": ContentType.objects.get_for_model(p).pk,
            "object_id": p.pk,
            "id": w.shopper.pk,  # UserAdmin's password page
            "parent_id": w.category.pk,
            "url": "no-such-page/",
        },
        # Uploaded files served in the demo and the tests (SERVE_MEDIA).
        r":^media/(?P<path>.*)$": lambda: {"path": "no-such-file.jpg"},
        # Oscar's partner-user-link, POST only (config/urls.py).
        ":dashboard/partners/<int:partner_pk>/users/<int:user_pk>/link/": lambda: {
            "partner_pk": w.store_a.partner.pk,
            "user_pk": w.shopper.pk,
        },
        "accounts:wishlists-add-product": lambda: {"key": w.wishlist.key, "product_pk": p.pk},
        # Oscar's basket add with one clear quantity message, POST only (config/urls.py).
        ":basket/add/<int:pk>/": lambda: {"pk": p.pk},
    }


# --- Walking the URLconf -------------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    name: str  # namespace:name; "admin:" for unnamed admin ones, ":<route>" at the root
    pieces: tuple  # the pattern objects from the root down to this one
    callback: Callable

    @property
    def route(self) -> str:
        return "".join(_describe(piece) for piece in self.pieces)


def _describe(pattern) -> str:
    if isinstance(pattern, LocalePrefixPattern):
        return ""
    return str(pattern)


def patterns(resolver: URLResolver | None = None, pieces=(), namespaces=()) -> Iterator[Pattern]:
    """Every URL pattern under `resolver` (the whole URLconf by default), recursively."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from patterns(entry, (*pieces, entry.pattern), inner)
        else:
            assert isinstance(entry, URLPattern)
            if entry.name:
                name = ":".join((*namespaces, entry.name))
            elif namespaces:
                name = ":".join(namespaces) + ":"
            else:
                name = ":" + str(entry.pattern)  # unnamed, at the root: by its route
            yield Pattern(name, (*pieces, entry.pattern), entry.callback)


def _regex_fill(regex: str, values: dict) -> str:
    """`regex` (Django's RegexPattern) with each named group replaced by its value."""
    out, i = [], 0
    regex = regex.removeprefix("^").removesuffix("$")
    while i < len(regex):
        if regex.startswith("(?P<", i):
            name = regex[i + 4 : regex.index(">", i)]
            depth, j = 0, i
            while True:
                if regex[j] == "\\":
                    j += 2
                    continue
                depth += {"(": 1, ")": -1}.get(regex[j], 0)
                j += 1
                if depth == 0:
                    break
            out.append(str(values[name]))
            i = j
        else:
            out.append(regex[i])
            i += 1
    return "".join(out)


def _route_fill(route: str, values: dict) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)


def url_for(pattern: Pattern, fill: dict[str, Callable[[], dict]]) -> str:
    """The URL of `pattern`, its arguments filled; KeyError if it needs one not known."""
    admin = getattr(pattern.callback, "model_admin", None)
    values: dict = {}
    needs_values = any(
        (isinstance(p, RoutePattern) and "<" in str(p))
        or (isinstance(p, RegexPattern) and "(?P<" in str(p))
        for p in pattern.pieces
    )
    if needs_values and pattern.name.startswith("admin:"):
        values = fill["admin:"]()
        if admin is not None:
            obj = admin.model._default_manager.order_by("pk").first()
            values["object_id"] = values["id"] = obj.pk if obj else 0
    elif needs_values:
        values = fill[pattern.name]()
    parts = []
    for piece in pattern.pieces:
        if isinstance(piece, RegexPattern):
            parts.append(_regex_fill(str(piece), values))
        else:
            parts.append(_route_fill(_describe(piece), values))
    return "/" + "".join(parts)


# --- Counting rows ------------------------------------------------------------------------


def _row_counter() -> Callable[[], dict[str, int]]:
    """A function giving the row count of every table but WRITES_ALLOWED_ON_GET."""
    tables = sorted(
        t for t in connection.introspection.table_names() if t not in WRITES_ALLOWED_ON_GET
    )
    quote = connection.ops.quote_name
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(t)})" for t in tables)

    def counts() -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return dict(zip(tables, cursor.fetchone(), strict=True))

    return counts


class WriteStatements:
    """Django's connection wrapper that notes the tables each INSERT, UPDATE or DELETE
    statement names (but WRITES_ALLOWED_ON_GET): counting every table after every request
    is the assertion, but it is only worth doing after a request that wrote something."""

    _WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.I)

    def __init__(self) -> None:
        self.tables: set[str] = set()

    def __call__(self, execute, sql, params, many, context):
        match = self._WRITE.match(sql)
        if match and match.group(1) not in WRITES_ALLOWED_ON_GET:
            self.tables.add(match.group(1))
        return execute(sql, params, many, context)


# --- The module's data, made once ---------------------------------------------------------


@pytest.fixture(scope="module")
def crawl(django_db_setup, django_db_blocker):
    """The world, the role users and every URL to GET; rolled back after the module."""
    with django_db_blocker.unblock(), translation.override("en"):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            w = _world()
            users = _role_users(w.store_a, w.store_b, w.shopper)
            # Oscar's basket middleware gives a signed-in user an open basket on their first
            # page; the users start with one, as anybody who has seen a page has.
            for user in users.values():
                if user is not None:
                    get_model("basket", "Basket").open.get_or_create(owner=user)
            fill = _kwargs(w)
            urls, unfilled = [], []
            for pattern in patterns():
                if pattern.name in UNFILLABLE:
                    continue
                try:
                    urls.append((pattern, url_for(pattern, fill)))
                except KeyError:
                    unfilled.append(f"{pattern.name} {pattern.route}")
            yield SimpleNamespace(world=w, users=users, urls=urls, unfilled=unfilled)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def test_every_pattern_is_filled_or_listed_with_a_reason(crawl):
    assert crawl.unfilled == []
    assert len(crawl.urls) > 600
    names = {pattern.name for pattern in patterns()}
    listed = set(UNFILLABLE) | set(UPDATES_ON_GET) | set(ERRORS_ON_GET)
    assert sorted(listed - names) == []  # no stale entries


def test_every_filled_url_resolves_to_its_own_pattern(crawl):
    wrong = []
    for pattern, url in crawl.urls:
        try:
            match = resolve(url)
        except Resolver404:
            wrong.append(f"{url} -> nothing (expected {pattern.route})")
            continue
        if match.func is not pattern.callback:
            wrong.append(f"{url}: {match.view_name} instead of {pattern.name}")
    # Patterns shadowed by an earlier one on the same path resolve to the earlier one: our
    # home page replaces Oscar's, shop.accounts three of Oscar's customer views. Nothing else
    # (the basket's page and add view are the basket app's own: shop/security/apps.py).
    w = crawl.world
    partner, product = w.store_a.partner.pk, w.product.pk
    assert sorted(wrong) == sorted(
        [
            "/: home instead of home",
            "/accounts/logout/: accounts:logout instead of customer:logout",
            "/accounts/profile/edit/: accounts:profile-update instead of customer:profile-update",
            "/accounts/profile/delete/: accounts:profile-delete instead of customer:profile-delete",
            f"/accounts/wishlists/add/{product}/: accounts:wishlists-add-product "
            "instead of customer:wishlists-add-product",
            f"/accounts/wishlists/{w.wishlist.key}/add/{product}/: "
            "accounts:wishlists-add-product instead of customer:wishlists-add-product",
            f"/dashboard/partners/{partner}/users/{w.shopper.pk}/link/: "
            "oscar.apps.dashboard.partners.views.PartnerUserLinkView "
            "instead of dashboard:partner-user-link",
        ]
    )


@pytest.mark.parametrize("role", ROLES)
def test_r40_no_get_writes_a_row_and_nobody_is_logged_out(crawl, role):
    user = crawl.users[role]
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    counts, statements = _row_counter(), WriteStatements()
    before = counts()
    writes, updates, errors = [], [], []

    with connection.execute_wrapper(statements), _no_request_logging():
        for pattern, url in crawl.urls:
            statements.tables.clear()
            response = client.get(url)
            if response.status_code >= 500 and pattern.name not in ERRORS_ON_GET:
                errors.append(f"{response.status_code} {url}")
            if not statements.tables:
                continue
            if pattern.name not in UPDATES_ON_GET:
                updates.append(f"GET {url} ({pattern.name}): {sorted(statements.tables)}")
            after = counts()
            if after != before:
                changed = {t: after[t] - before[t] for t in after if after[t] != before[t]}
                writes.append(f"GET {url} ({pattern.name}): {changed}")
                before = after

        # Rows written by statements the wrapper did not recognise still show here.
        after = counts()
        if after != before:
            changed = {t: after[t] - before[t] for t in after if after[t] != before[t]}
            writes.append(f"the crawl as a whole: {changed}")

    assert writes == []
    assert updates == []
    assert errors == []
    if user is not None:
        assert client.session.get(SESSION_KEY) == str(user.pk)
        assert client.get("/accounts/profile/").status_code == 200
