"""Erasing a customer's account by anonymisation (R44, README "Erasure").

`account_erase` is the one service that does it, in one transaction. What the books need
stays: orders and their lines, totals, payments, the points ledger. What says who the
customer was goes: names, e-mail addresses, phone numbers, postal addresses, push
endpoints, reviews and other free text. The user row stays as an inactive tombstone with no
personal data (`erased-<id>`), so every record that must be kept still points at one
account, and the login is gone (no usable password, inactive, no address to reset to).

Pending pickups are cancelled through stores' service (stock and slot released, points of
the order voided by loyalty's receiver); loyalty forfeits the rest of the points through
its ledger (loyalty.services.members.member_erase). Consent records are append-only and
hold no personal data beyond the user's id: erasure appends a withdrawal per channel.
"""

from __future__ import annotations

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from oscar.core.loading import get_model
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from loyalty.services.members import member_erase
from shop.communication.models import (
    Channel,
    DeliveryAttempt,
    Email,
    Notification,
    NotificationPreference,
    OutboxMessage,
    PushSubscription,
)
from shop.communication.outbox import CONTENT_ERASED, messages_cancel
from shop.communication.preferences import consents_update
from stores.models import Pickup, PickupStatus, SharedPickupPass, StorePreference
from stores.services import PickupTransitionError, pickup_cancel

from .models import DataExport, EmailChange

Order = get_model("order", "Order")
OrderNote = get_model("order", "OrderNote")
ShippingAddress = get_model("order", "ShippingAddress")
BillingAddress = get_model("order", "BillingAddress")
UserAddress = get_model("address", "UserAddress")
Basket = get_model("basket", "Basket")
Bankcard = get_model("payment", "Bankcard")
ProductReview = get_model("reviews", "ProductReview")
Vote = get_model("reviews", "Vote")
ProductAlert = get_model("customer", "ProductAlert")
WishList = get_model("wishlists", "WishList")
UserRecord = get_model("analytics", "UserRecord")
UserProductView = get_model("analytics", "UserProductView")
UserSearch = get_model("analytics", "UserSearch")

OPEN_PICKUP = (PickupStatus.NEW, PickupStatus.PREPARING, PickupStatus.READY)
ERASED_SOURCE = "account-erased"


def erased_email(user_pk: int) -> str:
    # .invalid can never be delivered to (RFC 2606): nobody can reset a password with it.
    return f"erased-{user_pk}@erased.invalid"


def _text_fields(model: type[models.Model]) -> list[str]:
    """Every free-text column of `model` (char and text, not choices, not keys)."""
    return [
        field.name
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField)
        and not field.choices
        and not field.primary_key
        and not field.is_relation
    ]


def blank_text(queryset: models.QuerySet) -> int:
    return queryset.update(**dict.fromkeys(_text_fields(queryset.model), ""))


@transaction.atomic
def account_erase(*, user: AbstractBaseUser) -> None:
    """Anonymise `user`'s account as described in the module docstring; idempotent.

    Must not be called for staff: their actions are audited under their name.
    """
    User = get_user_model()
    user = User._default_manager.select_for_update().get(pk=user.pk)
    if user.is_staff or user.is_superuser:
        raise ValueError("staff accounts are not erased by the customer flow")
    email = user.email
    mine = Q(user=user) | Q(guest_email__iexact=email) if email else Q(user=user)
    orders = Order.objects.filter(
        pk__in=list(Order.objects.filter(mine).values_list("pk", flat=True))
    )

    # Orders the customer will not collect: stock and slot back, points voided.
    now = timezone.now()
    for pickup in Pickup.objects.filter(order__in=orders, status__in=OPEN_PICKUP).order_by("pk"):
        try:
            pickup_cancel(pickup=pickup, now=now)
        except PickupTransitionError:
            continue  # closed meanwhile
    # Passes shared with friends: none works any more, and the friends' names go.
    shared = SharedPickupPass.objects.filter(pickup__order__in=orders)
    shared.filter(revoked_at__isnull=True, collected_at__isnull=True).update(revoked_at=now)
    shared.update(friend_name="")
    member_erase(user=user)

    # The books keep the orders, without the person.
    blank_text(ShippingAddress.objects.filter(pk__in=orders.values("shipping_address_id")))
    blank_text(BillingAddress.objects.filter(pk__in=orders.values("billing_address_id")))
    OrderNote.objects.filter(order__in=orders).delete()
    orders.update(guest_email="")

    # Messages: pending ones are not sent; every one forgets its recipient and content.
    addresses = {value for value in (email,) if value}
    preference = NotificationPreference.objects.filter(user=user).first()
    if preference is not None and preference.phone_number:
        addresses.add(preference.phone_number)
    addresses |= set(PushSubscription.objects.filter(user=user).values_list("endpoint", flat=True))
    messages = OutboxMessage.objects.filter(Q(user=user) | Q(recipient__in=addresses))
    messages_cancel(message_ids=messages.values_list("pk", flat=True))
    DeliveryAttempt.objects.filter(message__in=messages).update(error="")
    messages.update(**CONTENT_ERASED, recipient="", last_error="", updated_at=now)
    Email.objects.filter(Q(user=user) | Q(email__in=addresses)).delete()
    Notification.objects.filter(Q(recipient=user) | Q(sender=user)).delete()
    consents_update(user=user, wanted=dict.fromkeys(Channel.values, False), source=ERASED_SOURCE)
    NotificationPreference.objects.filter(user=user).delete()
    PushSubscription.objects.filter(user=user).delete()
    # The apps' sign-ins (README "API"): every refresh token still out is refused from now
    # on, whatever else checks the account.
    BlacklistedToken.objects.bulk_create(
        [
            BlacklistedToken(token=token)
            for token in OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
        ]
    )

    # What the account held for itself.
    UserAddress.objects.filter(user=user).delete()
    Bankcard.objects.filter(user=user).delete()
    for review in ProductReview.objects.filter(Q(user=user) | Q(email__in=addresses)):
        review.delete()  # one by one: Oscar recomputes the product's rating
    Vote.objects.filter(user=user).delete()
    ProductAlert.objects.filter(Q(user=user) | Q(email__in=addresses)).delete()
    WishList.objects.filter(owner=user).delete()
    Basket.objects.filter(owner=user).delete()
    for model in (UserRecord, UserProductView, UserSearch):
        model.objects.filter(user=user).delete()
    EmailChange.objects.filter(user=user).delete()
    DataExport.objects.filter(user=user).delete()
    StorePreference.objects.filter(user=user).delete()
    if email:
        for model in (AccessAttempt, AccessFailureLog, AccessLog):
            model.objects.filter(username__iexact=email).delete()
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
    ).update(object_repr=f"erased-{user.pk}", change_message="")

    # The login: no name, no address, no password, inactive.
    user.username = f"erased-{user.pk}"
    user.first_name = ""
    user.last_name = ""
    user.email = erased_email(user.pk)
    user.is_active = False
    user.set_unusable_password()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
