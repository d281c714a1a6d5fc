"""Click & collect inside the checkout: the store step and the slot step (Oscar's loader
finds both in shop/checkout/views.py, which imports them)."""

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views import generic

from shop.shipping.methods import ClickAndCollect
from stores.api.views import BadRequest, parse_near_query
from stores.models import Store
from stores.selectors import (
    Slot,
    chosen_store_for_request,
    haversine_km,
    slot_is_offered,
    slots_available,
    slots_available_for_stores,
    store_can_serve,
    stores_for_basket,
    with_hours,
)

from .forms import PickupSlotForm
from .pickup import basket_use_store_stock, pickup_choice_save
from .session import CheckoutSessionMixin  # the class Oscar's views load too


class PickupStepMixin(CheckoutSessionMixin):
    """What both click & collect steps share: their pre-conditions and the step bar."""

    pre_conditions = [
        "check_basket_is_not_empty",
        "check_basket_is_valid",
        "check_user_email_is_captured",
    ]

    def dispatch(self, request, *args, **kwargs):
        self.now = timezone.now()
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "checkout_flow": "pickup"}


def slot_start_label(*, slot: Slot, store: Store, now: dt.datetime) -> str:
    """When a slot starts, for a shopper: "today 14:30", "tomorrow 09:00", "Sunday 6
    December 10:00", in the store's time zone."""
    starts = timezone.localtime(slot.starts_at, store.tz)
    days = (starts.date() - timezone.localtime(now, store.tz).date()).days
    time = date_format(starts, "H:i")
    if days == 0:
        return _("today %(time)s") % {"time": time}
    if days == 1:
        return _("tomorrow %(time)s") % {"time": time}
    return _("%(day)s %(time)s") % {"day": date_format(starts, "l j F"), "time": time}


@dataclass(frozen=True)
class StoreChoice:
    store: Store
    # From the shopper's browser position; None without one (never from a store).
    distance_km: float | None
    next_slot: Slot | None
    # When next_slot starts, in words ("today 14:30").
    next_slot_label: str
    is_mine: bool


class PickupStoreView(PickupStepMixin, generic.TemplateView):
    """Click & collect, step A: the stores that can prepare the whole basket.

    Each shows its distance from the shopper when their browser gave a position with
    this request (?lat=&lng=, added by stores.js from "Use my location" here or on the
    store locator, which the browser tab keeps; the server never stores it, README
    "Privacy") and its next free slot; choosing one opens its slots (step B). Nothing
    is saved here, so choosing another store never carries a slot over.
    """

    template_name = "oscar/checkout/pickup.html"

    def get(self, request, *args, **kwargs):
        slug = request.GET.get("store")
        if slug:  # the step's former "?store=" links
            return redirect("checkout:pickup-store", slug=slug)
        self.position = None
        if request.GET.get("lat") or request.GET.get("lng"):
            try:
                query = parse_near_query(
                    {"lat": request.GET.get("lat"), "lng": request.GET.get("lng")}
                )
            except BadRequest:
                messages.warning(request, _("We could not use your location."))
            else:
                self.position = (query.lat, query.lng)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        position = getattr(self, "position", None)
        mine = chosen_store_for_request(self.request)
        origin = position or ((mine.latitude, mine.longitude) if mine else (None, None))
        stores = stores_for_basket(
            basket_or_lines=self.request.basket, lat=origin[0], lng=origin[1]
        )
        if position is None and mine is not None:
            # No position: the shopper's store first, the others nearest to it (no
            # distance shown: it would be from the store, not from the shopper).
            stores.sort(key=lambda store: store.pk != mine.pk)
        slots = slots_available_for_stores(stores=stores, now=self.now)
        ctx["choices"] = [
            StoreChoice(
                store=store,
                distance_km=haversine_km(position[0], position[1], store.latitude, store.longitude)
                if position
                else None,
                next_slot=next_slot,
                next_slot_label=slot_start_label(slot=next_slot, store=store, now=self.now)
                if next_slot
                else "",
                is_mine=mine is not None and store.pk == mine.pk,
            )
            for store in stores
            for next_slot in [next(iter(slots[store.pk]), None)]
        ]
        ctx["has_position"] = position is not None
        chosen = self.get_pickup_choice() if self.is_pickup() else None
        ctx["chosen_store"] = chosen.store if chosen else None
        return ctx


@dataclass(frozen=True)
class SlotDay:
    date: dt.date
    slots: list[Slot]


class PickupSlotView(PickupStepMixin, generic.FormView):
    """Click & collect, step B: a slot at the store named in the URL.

    Only this store's slots are offered and accepted; a slot that filled up since
    it was shown is refused with the times still free. Nothing is booked here: the
    slot is taken when the order is placed, in the same transaction.
    """

    template_name = "oscar/checkout/pickup_slot.html"
    form_class = PickupSlotForm

    def get_store(self) -> Store | None:
        if not hasattr(self, "_store"):
            store = (
                with_hours(Store.objects.active().filter(pickup_enabled=True))
                .filter(slug=self.kwargs["slug"])
                .first()
            )
            if store is not None and not store_can_serve(
                store=store, basket_or_lines=self.request.basket
            ):
                store = None
            self._store = store
        return self._store

    def store(self) -> Store:
        """The store of the URL, once get() or post() found that it can serve the basket."""
        store = self.get_store()
        assert store is not None
        return store

    def get(self, request, *args, **kwargs):
        if self.get_store() is None:
            return self.store_unavailable()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if self.get_store() is None:
            return self.store_unavailable()
        return super().post(request, *args, **kwargs)

    def store_unavailable(self):
        messages.error(
            self.request,
            _("That store cannot prepare your whole basket any more; please choose another."),
        )
        return redirect("checkout:pickup")

    def get_slots(self) -> list[Slot]:
        if not hasattr(self, "_slots"):
            self._slots = slots_available(store=self.store(), basket_or_lines=None, now=self.now)
        return self._slots

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "slots": self.get_slots()}

    def get_initial(self):
        # The slot chosen before, if it was at this store and is still free.
        chosen = self.get_pickup_choice() if self.is_pickup() else None
        if (
            chosen
            and chosen.store.pk == self.store().pk
            and any(slot.starts_at == chosen.starts_at for slot in self.get_slots())
        ):
            return {"slot": chosen.starts_at.isoformat()}
        return {}

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        store = self.store()
        days: list[SlotDay] = []
        for slot in self.get_slots():
            day = timezone.localtime(slot.starts_at, store.tz).date()
            if not days or days[-1].date != day:
                days.append(SlotDay(day, []))
            days[-1].slots.append(slot)
        today = timezone.localtime(self.now, store.tz).date()
        selected = ctx["form"]["slot"].value() or ""
        ctx.update(
            store=store,
            slots=self.get_slots(),
            days=days,
            next_slot_label=slot_start_label(slot=days[0].slots[0], store=store, now=self.now)
            if days
            else "",
            today=today,
            tomorrow=today + dt.timedelta(days=1),
            selected_slot=selected,
            selected_day=next(
                (d.date for d in days for s in d.slots if s.starts_at.isoformat() == selected),
                None,
            ),
        )
        return ctx

    def form_valid(self, form):
        store, starts_at = self.store(), form.cleaned_data["slot"]
        if starts_at not in form.slots:
            if slot_is_offered(store=store, starts_at=starts_at, now=self.now):
                when = timezone.localtime(starts_at, store.tz)
                form.add_error(
                    "slot",
                    _(
                        "%(day)s %(time)s is now full at %(store)s. "
                        "Please choose one of the times still free."
                    )
                    % {
                        "day": date_format(when, "D j"),
                        "time": date_format(when, "H:i"),
                        "store": store.name,
                    },
                )
            else:
                form.add_error("slot", _("Please choose a pickup time from the list."))
            return self.form_invalid(form)
        try:
            basket_use_store_stock(basket=self.request.basket, store=store)
        except LookupError:
            return self.store_unavailable()
        pickup_choice_save(checkout_session=self.checkout_session, store=store, starts_at=starts_at)
        self.checkout_session.reset_shipping_data()
        self.checkout_session.use_shipping_method(ClickAndCollect.code)
        # The payment step skips itself when one method is offered (PaymentMethodView.get,
        # shop/checkout/views.py): chosen here, that step's request is saved
        # (bench/README.md, "The checkout round trip").
        methods = self.get_payment_methods()
        if len(methods) == 1:
            self.checkout_session.pay_by(methods[0].code)
            return redirect("checkout:preview")
        return redirect("checkout:payment-method")
