"""Everything the shop holds about a customer, as JSON and CSV in a zip (R43, README
"Export").

`EXPORTED` names every model holding a customer's data with the lookups from it to the
user; `NOT_EXPORTED` names the models that point at a user for another reason (staff
actions) and says why. tests/shop/accounts/test_export.py walks every model with a
foreign key to the user or the loyalty member and fails on one in neither, so a new
model with personal data cannot ship without its export.

The customer asks (`export_request`), a Celery task builds the zip (`export_build`) and
the Dispatcher e-mails a secret link (DATA_EXPORT_READY, never shown to staff) that
works for PRIVACY_EXPORT_DAYS.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import secrets
import zipfile

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import User
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_class

from .models import DataExport

READY_EVENT_CODE = "DATA_EXPORT_READY"

# Model label -> lookups from a row to its customer (a row is theirs if any matches).
EXPORTED: dict[str, tuple[str, ...]] = {
    "address.UserAddress": ("user",),
    "order.Order": ("user",),
    "order.Line": ("order__user",),
    "order.ShippingAddress": ("order__user",),
    "order.BillingAddress": ("order__user",),
    "order.OrderNote": ("order__user",),
    "payment.StripePayment": ("order__user",),
    "payment.Source": ("order__user",),
    "payment.Bankcard": ("user",),
    "stores.Pickup": ("order__user",),
    "stores.SharedPickupPass": ("pickup__order__user",),
    "stores.StorePreference": ("user",),
    "basket.Basket": ("owner",),
    "basket.Line": ("basket__owner",),
    "wishlists.WishList": ("owner",),
    "wishlists.Line": ("wishlist__owner",),
    "customer.ProductAlert": ("user",),
    "reviews.ProductReview": ("user",),
    "reviews.Vote": ("user",),
    "voucher.VoucherApplication": ("user",),
    "analytics.UserRecord": ("user",),
    "analytics.UserProductView": ("user",),
    "analytics.UserSearch": ("user",),
    "communication.Email": ("user",),
    "communication.Notification": ("recipient", "sender"),
    "communication.OutboxMessage": ("user",),
    "communication.NotificationPreference": ("user",),
    "communication.ConsentRecord": ("user",),
    "communication.PushSubscription": ("user",),
    "accounts.EmailChange": ("user",),
    "loyalty.Member": ("user",),
    "loyalty.MemberStats": ("member__user",),
    "loyalty.MemberCategory": ("member__user",),
    "loyalty.PointsEntry": ("member__user",),
    "loyalty.PointsLot": ("member__user",),
    "loyalty.PendingEarn": ("member__user",),
    "loyalty.PointsAdjustment": ("member__user",),
    "loyalty.Redemption": ("member__user",),
    "loyalty.Referral": ("referrer__user", "friend__user"),
    "loyalty.Gift": ("sender__user", "recipient__user"),
    "loyalty.GiftLink": ("sender__user", "recipient__user"),
    "loyalty.CampaignRecipient": ("member__user",),
    "loyalty.CampaignSend": ("member__user",),
    "loyalty.MemberRecommendation": ("member__user",),
    "loyalty.UtmLanding": ("user",),
}

# Models pointing at a user who is not the customer the data is about.
NOT_EXPORTED: dict[str, str] = {
    "admin.LogEntry": "what a member of staff did in the admin",
    "audit.AuditEvent": "what a member of staff did in the dashboard",
    "partner.Partner": "the staff of a store",
    "payment.StripeRefund": "the member of staff who refunded",
    "offer.RangeProductFileUpload": "a file a member of staff uploaded",
    "loyalty.PointsAdjustmentDecision": "the member of staff who decided",
    "loyalty.Segment": "the marketer who created it",
    "loyalty.Campaign": "the marketer who created it",
    "accounts.DataExport": "the exports themselves",
    "token_blacklist.OutstandingToken": "an app's sign-in tokens: credentials (README, API)",
}

# Columns never written to a file: credentials, and what only staff should see.
# A shared pickup pass's nonce is the key to its link and code (stores.sharing); a gift
# link's token is the points it holds (R23).
_LEFT_OUT = {
    "password",
    "token_hash",
    "token",
    "content",
    "claim_token",
    "idempotency_key",
    "nonce",
}
_USER_FIELDS = ("id", "username", "email", "first_name", "last_name", "date_joined", "last_login")


def _rows(model: type[models.Model], user: AbstractBaseUser) -> list[dict]:
    match = Q()
    for lookup in EXPORTED[model._meta.label]:
        match |= Q(**{lookup: user})
    fields = [f.attname for f in model._meta.concrete_fields if f.attname not in _LEFT_OUT]
    return list(model._default_manager.filter(match).distinct().order_by("pk").values(*fields))


def export_collect(*, user: AbstractBaseUser) -> dict[str, list[dict]]:
    """{model label: rows} of everything the shop holds about `user`, "profile" first."""
    User = get_user_model()
    data = {"profile": list(User._default_manager.filter(pk=user.pk).values(*_USER_FIELDS))}
    for label in EXPORTED:
        data[label] = _rows(apps.get_model(label), user)
    return data


def export_zip(*, data: dict[str, list[dict]]) -> bytes:
    """data.json with everything, and one CSV per model."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, cls=DjangoJSONEncoder, indent=2))
        for label, rows in data.items():
            text = io.StringIO()
            columns = list(rows[0]) if rows else []
            writer = csv.DictWriter(text, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow(
                    {
                        key: json.dumps(value, cls=DjangoJSONEncoder)
                        if isinstance(value, dict | list)
                        else value
                        for key, value in row.items()
                    }
                )
            archive.writestr(f"csv/{label}.csv", text.getvalue())
    return buffer.getvalue()


def export_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def export_request(*, user: User) -> DataExport:
    """Record the request; after commit a Celery task builds the zip and mails the link."""
    from .tasks import build_data_export

    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        export = DataExport.objects.create(
            user=user,
            token_hash=export_token_hash(token),
            requested_at=now,
            expires_at=now + dt.timedelta(days=settings.PRIVACY_EXPORT_DAYS),
        )
        transaction.on_commit(lambda: build_data_export.delay(export.pk, token))
    return export


def export_build(*, export_id: int, token: str) -> bool:
    """Build the zip of a pending export and e-mail its link; idempotent (False if there
    was nothing to do: already built, or expired)."""
    with transaction.atomic():
        export = (
            DataExport.objects.select_for_update()
            .select_related("user")
            .filter(pk=export_id, status=DataExport.Status.PENDING)
            .first()
        )
        if export is None or export.token_hash != export_token_hash(token):
            return False
        user = export.user
        export.content = export_zip(data=export_collect(user=user))
        export.status = DataExport.Status.READY
        export.save(update_fields=["content", "status"])
        url = settings.SITE_URL.rstrip("/") + reverse("accounts:export-download", args=[token])
        Dispatcher = get_class("communication.utils", "Dispatcher")
        dispatcher = Dispatcher()
        messages = dispatcher.get_messages(
            READY_EVENT_CODE,
            {
                "shop_name": settings.OSCAR_SHOP_NAME,
                "user": user,
                "download_url": url,
                "expires_at": export.expires_at,
                "days": settings.PRIVACY_EXPORT_DAYS,
            },
        )
        dispatcher.send_email_messages(user.email, messages, user=user)
    return True


def export_for_token(*, user: User, token: str) -> DataExport | None:
    """The user's ready, unexpired export this token names, or None."""
    return DataExport.objects.filter(
        user=user,
        token_hash=export_token_hash(token),
        status=DataExport.Status.READY,
        expires_at__gt=timezone.now(),
    ).first()


def exports_prune(*, now: dt.datetime | None = None) -> int:
    """Delete expired exports (the retention job); returns how many."""
    deleted, _by_model = DataExport.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
