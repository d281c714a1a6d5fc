"""Writes about stores: my store, slot bookings, pickups. Each function is one transaction."""

import datetime as dt
import secrets
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.db.models import F, Q
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from oscar.apps.partner.abstract_models import AbstractStockRecord

from .messages import (
    READY_EVENT_CODE,
    REMINDER_EVENT_CODE,
    pickup_event_type,
    pickup_message_context,
)
from .models import (
    ACTIVE,
    ALLOWED_FROM,
    Pickup,
    PickupSlot,
    PickupStatus,
    Store,
    StorePreference,
)
from .selectors import (
    SESSION_STORE_KEY,
    slots_available,
    stock_prices_settable_by,
    stockrecords_visible_to,
    store_next_change,
)
from .signals import pickup_cancelled, pickup_collected
from .stock import stock_consume_lines, stock_release_lines

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from oscar.apps.order.models import Order


class PickupUnavailable(Exception):
    """The pickup cannot be booked as asked; the message is for the shopper."""


def store_choose(*, session: SessionBase, user: "User | AnonymousUser", store: Store) -> None:
    """Remember `store` as the shopper's store: in the session, and on the profile if signed in."""
    session[SESSION_STORE_KEY] = store.pk
    if user.is_authenticated:
        with transaction.atomic():
            StorePreference.objects.update_or_create(user=user, defaults={"store": store})


@transaction.atomic
def pickup_slot_book(*, store: Store, starts_at: dt.datetime, now: dt.datetime) -> PickupSlot:
    """Take one place in the slot starting at `starts_at`, or raise PickupUnavailable.

    The slot must be one the store offers at `now` (in opening hours, after
    the preparation time, not past). The place is taken by a conditional
    UPDATE (`booked < capacity`), so concurrent bookings of the last place
    cannot both succeed; a CHECK constraint backs it. The counter row is
    created on first use; a concurrent creation is resolved by the unique
    (store, starts_at) constraint inside get_or_create.
    """
    offered = {
        slot.starts_at: slot for slot in slots_available(store=store, basket_or_lines=None, now=now)
    }
    wanted = offered.get(starts_at)
    if wanted is None:
        # Either outside the hours / too soon, or full at the time of asking.
        raise PickupUnavailable(
            _("That pickup time is no longer available at %(store)s; please choose another.")
            % {"store": store.name}
        )
    slot, _created = PickupSlot.objects.get_or_create(
        store=store,
        starts_at=starts_at,
        defaults={"ends_at": wanted.ends_at, "capacity": store.slot_capacity},
    )
    taken = PickupSlot.objects.filter(pk=slot.pk, booked__lt=F("capacity")).update(
        booked=F("booked") + 1
    )
    if not taken:
        raise PickupUnavailable(
            _("That pickup time has just been fully booked at %(store)s; please choose another.")
            % {"store": store.name}
        )
    slot.refresh_from_db(fields=["booked"])
    return slot


@transaction.atomic
def pickup_create(
    *, order: "Order", store: Store, starts_at: dt.datetime, now: dt.datetime
) -> Pickup:
    """Book the slot and record the order's pickup; call inside the order's transaction."""
    slot = pickup_slot_book(store=store, starts_at=starts_at, now=now)
    return Pickup.objects.create(order=order, store=store, slot=slot)


# --- Pickup lifecycle --------------------------------------------------------------------

# Transitions (models.ALLOWED_FROM) are conditional UPDATEs on the current status,
# so two members of staff clicking at once cannot both move a pickup (the second
# gets PickupTransitionError).

QR_PREFIX = "SOLOMO-PICKUP"


class PickupTransitionError(Exception):
    """The pickup is not in a state that allows this change (someone else moved it)."""


class PickupCodeInvalid(Exception):
    """The code given at handover does not match the pickup's."""


def pickup_qr_payload(*, pickup: Pickup) -> str:
    return f"{QR_PREFIX}:{pickup.order.number}:{pickup.code}"


def _transition(pickup: Pickup, to: PickupStatus, **fields: object) -> Pickup:
    updated = Pickup.objects.filter(pk=pickup.pk, status__in=ALLOWED_FROM[to]).update(
        status=to, **fields
    )
    if not updated:
        pickup.refresh_from_db(fields=["status"])
        raise PickupTransitionError(
            _("This pickup is %(status)s; it cannot become %(to)s.")
            % {"status": pickup.get_status_display(), "to": to.label}
        )
    pickup.refresh_from_db()
    return pickup


def _notify(pickup_id: int, event_code: str) -> None:
    """Send the customer the event's messages through Oscar's order dispatcher (recorded).

    OrderDispatcher wraps `get_class("communication.utils", "Dispatcher")`,
    which picks the channels from the customer's preferences, and records a
    CommunicationEvent on the order.
    """
    from oscar.core.loading import get_class

    OrderDispatcher = get_class("order.utils", "OrderDispatcher")
    pickup = Pickup.objects.select_related("order", "store", "slot").get(pk=pickup_id)
    pickup_event_type(event_code)  # created with our default wording on first use
    dispatcher = OrderDispatcher()
    # The communication Dispatcher renders the event and tags the messages with its code,
    # so the outbox rows say which event they belong to.
    messages = dispatcher.dispatcher.get_messages(
        event_code, {"order": pickup.order, **pickup_message_context(order=pickup.order)}
    )
    dispatcher.dispatch_order_messages(pickup.order, messages, event_code)


@transaction.atomic
def pickup_mark_preparing(*, pickup: Pickup) -> Pickup:
    return _transition(pickup, PickupStatus.PREPARING)


@transaction.atomic
def pickup_mark_ready(*, pickup: Pickup, now: dt.datetime) -> Pickup:
    """Ready for collection; the customer is notified once this commits."""
    _transition(pickup, PickupStatus.READY, ready_at=now)
    transaction.on_commit(lambda: _notify(pickup.pk, READY_EVENT_CODE))
    return pickup


def _code_matches(pickup: Pickup, given: str) -> bool:
    given = given.strip()
    if given.startswith(f"{QR_PREFIX}:"):
        expected = pickup_qr_payload(pickup=pickup)
    else:
        expected = pickup.code
    return secrets.compare_digest(given.encode(), expected.encode())


@transaction.atomic
def pickup_hand_over(*, pickup: Pickup, code: str, now: dt.datetime) -> Pickup:
    """Collected, if `code` is the pickup code or its QR payload; the stock leaves the store."""
    if not _code_matches(pickup, code):
        raise PickupCodeInvalid(_("That is not this order's pickup code."))
    # "Customer is here" ends with the hand-over.
    _transition(
        pickup, PickupStatus.COLLECTED, collected_at=now, closed_at=now, customer_arrived_at=None
    )
    stock_consume_lines(lines=_order_lines(pickup))
    pickup_collected.send(sender=Pickup, pickup=pickup, order=pickup.order, collected_at=now)
    return pickup


def _order_lines(pickup: Pickup) -> list:
    # stores/stock.py touches their stock rows in stock-record id order, as at checkout (R14).
    return list(pickup.order.lines.select_related("stockrecord", "product__product_class"))


@transaction.atomic
def pickup_cancel(
    *, pickup: Pickup, now: dt.datetime, status: PickupStatus = PickupStatus.CANCELLED
) -> Pickup:
    """Cancelled (or uncollected): the stock allocation and the slot place are released,
    then `pickup_cancelled` is sent, for what other apps give back."""
    pickup_release(pickup=pickup, now=now, status=status)
    pickup_cancelled.send(sender=Pickup, pickup=pickup, order=pickup.order, status=status)
    return pickup


def pickup_release(
    *, pickup: Pickup, now: dt.datetime, status: PickupStatus = PickupStatus.CANCELLED
) -> Pickup:
    """The pickup closes and its stock allocation and slot place are released, sending no
    signal: for a caller that gives back the rest itself (the shop's order cancellation)."""
    _transition(pickup, status, closed_at=now, customer_arrived_at=None)
    stock_release_lines(lines=_order_lines(pickup))
    PickupSlot.objects.filter(pk=pickup.slot_id, booked__gt=0).update(booked=F("booked") - 1)
    return pickup


class PickupArrivalTooEarly(Exception):
    """ "I'm here" before the arrival window or while the store is closed; the message says
    from when it will work."""


def pickup_arrival_opens(*, pickup: Pickup, now: dt.datetime) -> dt.datetime | None:
    """When "I'm here" is accepted for this pickup: from STORES_ARRIVAL_EARLY_MINUTES before
    its slot, while the store is open. `now` (or earlier) if it is accepted now; None if
    the store does not open again within two weeks."""
    earliest = max(
        now, pickup.slot.starts_at - dt.timedelta(minutes=settings.STORES_ARRIVAL_EARLY_MINUTES)
    )
    state = store_next_change(store=pickup.store, at=earliest)
    return earliest if state.is_open else state.next_change


def _arrival_refusal(pickup: Pickup, opens: dt.datetime | None) -> str:
    if opens is None:
        return _("%(store)s is closed; please ask the store when to come.") % {
            "store": pickup.store.name
        }
    local = timezone.localtime(opens, pickup.store.tz)
    return _(
        "It is too early to tell %(store)s you are here: “I'm here” works from %(time)s on %(day)s."
    ) % {
        "store": pickup.store.name,
        "time": dateformat.format(local, "H:i"),
        "day": dateformat.format(local, "l j F"),
    }


@transaction.atomic
def pickup_customer_arrived(*, pickup: Pickup, now: dt.datetime) -> Pickup:
    """The customer tapped "I'm here": shown in the store's queue.

    Accepted only from STORES_ARRIVAL_EARLY_MINUTES before the slot and while the
    store is open (PickupArrivalTooEarly otherwise), so a customer far from their
    slot never jumps the queue.
    """
    if pickup.status not in ACTIVE:
        raise PickupTransitionError(_("This pickup is closed."))
    opens = pickup_arrival_opens(pickup=pickup, now=now)
    if opens is None or opens > now:
        raise PickupArrivalTooEarly(_arrival_refusal(pickup, opens))
    updated = Pickup.objects.filter(pk=pickup.pk, status__in=ACTIVE).update(customer_arrived_at=now)
    if not updated:
        raise PickupTransitionError(_("This pickup is closed."))
    pickup.refresh_from_db()
    return pickup


def pickups_sweep(*, now: dt.datetime) -> tuple[int, int]:
    """Remind customers of pickups ready for STORES_PICKUP_REMIND_DAYS, cancel them after
    STORES_PICKUP_CANCEL_DAYS (releasing the stock). Returns (reminded, cancelled).

    Each pickup is handled in its own transaction, so one failure does not
    undo the others, and a second run finds nothing left to do.
    """
    from django.conf import settings

    cancel_before = now - dt.timedelta(days=settings.STORES_PICKUP_CANCEL_DAYS)
    remind_before = now - dt.timedelta(days=settings.STORES_PICKUP_REMIND_DAYS)
    cancelled = 0
    for pickup in Pickup.objects.filter(status=PickupStatus.READY, ready_at__lt=cancel_before):
        try:
            pickup_cancel(pickup=pickup, now=now, status=PickupStatus.UNCOLLECTED)
            cancelled += 1
        except PickupTransitionError:
            continue  # collected meanwhile
    reminded = 0
    for pickup in Pickup.objects.filter(
        status=PickupStatus.READY, ready_at__lt=remind_before, reminded_at__isnull=True
    ):
        with transaction.atomic():
            if Pickup.objects.filter(pk=pickup.pk, reminded_at__isnull=True).update(
                reminded_at=now
            ):
                transaction.on_commit(partial(_notify, pickup.pk, REMINDER_EVENT_CODE))
                reminded += 1
    return reminded, cancelled


# --- Store stock ---------------------------------------------------------------------------

# Bounds of what the Stock page accepts (README, "Store stock and catalogue content").
STOCK_MAX = 100_000
PRICE_MAX = Decimal("99999.99")


class StockChangeRefused(Exception):
    """The stock change is not allowed or out of bounds; the message is for staff.

    `field` names the form field it is about ("num_in_stock", "price"), or is None.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class StockRecordNotFound(Exception):
    """No such stock record among those `user` may change (a view answers 404)."""


@transaction.atomic
def stock_set(
    *,
    stockrecord_id: int,
    num_in_stock: int,
    price: Decimal | None = None,
    user: "User | AnonymousUser",
) -> AbstractStockRecord:
    """Set a stock record's quantity in stock, and its price when `price` is given.

    `user` must be allowed the record (stores.selectors.stockrecords_visible_to), and the
    price (stock_prices_settable_by), else StockRecordNotFound / StockChangeRefused.
    Bounds: 0 <= num_in_stock <= STOCK_MAX and never below what orders hold
    (num_allocated); 0 <= price <= PRICE_MAX.

    One conditional UPDATE writes only `num_in_stock` (and `price`): an allocation
    committed meanwhile is never overwritten, and PostgreSQL re-checks the condition on
    the row as that allocation left it, so a concurrent checkout either allocates first
    (and this is refused if it no longer fits) or waits and allocates against the new
    quantity. The CHECKs of shop.partner are the last line. Sends the record's post_save
    signal afterwards, as Oscar's own stock writes do (low-stock and back-in-stock alerts).
    Returns the stock record as saved.
    """
    if isinstance(num_in_stock, bool) or not isinstance(num_in_stock, int):
        raise StockChangeRefused(_("Enter a whole number."), field="num_in_stock")
    if not 0 <= num_in_stock <= STOCK_MAX:
        raise StockChangeRefused(
            _("The quantity in stock must be between 0 and %(max)d.") % {"max": STOCK_MAX},
            field="num_in_stock",
        )
    changes: dict[str, object] = {"num_in_stock": num_in_stock}
    if price is not None:
        if not stock_prices_settable_by(user=user):
            raise StockChangeRefused(
                _("Prices are set by the head office in this shop."), field="price"
            )
        if not price.is_finite() or not Decimal(0) <= price <= PRICE_MAX:
            raise StockChangeRefused(
                _("The price must be between 0 and %(max)s.") % {"max": PRICE_MAX},
                field="price",
            )
        changes["price"] = price
    records = stockrecords_visible_to(user=user)
    if not records.filter(pk=stockrecord_id).exists():
        raise StockRecordNotFound(stockrecord_id)
    updated = (
        records.model.objects.filter(pk=stockrecord_id)
        .filter(Q(num_allocated__isnull=True) | Q(num_allocated__lte=num_in_stock))
        .update(**changes)
    )
    record = records.get(pk=stockrecord_id)
    if not updated:
        raise StockChangeRefused(
            _(
                "%(allocated)d units are allocated to orders not yet shipped or collected: "
                "stock can't be set below that. Cancel or fulfil those orders first."
            )
            % {"allocated": record.num_allocated},
            field="num_in_stock",
        )
    record.post_save_signal()
    return record
