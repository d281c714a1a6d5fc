"""Oscar's checkout views, extended for click & collect through Oscar's hooks."""

import datetime as dt
import logging
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import generic
from oscar.apps.checkout import views as oscar_views
from oscar.apps.checkout.exceptions import FailedPreCondition
from oscar.apps.order.exceptions import UnableToPlaceOrder
from oscar.apps.payment.exceptions import PaymentError, UnableToTakePayment
from oscar.core.loading import get_model

from loyalty.models import Member
from loyalty.selectors import redemption_rule
from loyalty.services.errors import LoyaltyError
from loyalty.services.redemption import points_value, redeem_check, redeem_max_points
from shop.constants import AWAITING_PAYMENT
from shop.orders.placement import PaymentChoice, Shipping, order_place
from shop.payment import methods as payment_methods
from shop.payment.views import PAY_SESSION_KEY
from shop.security.ratelimits import POINTS_REDEMPTION, attempt_over_limit, too_many_attempts
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

from .forms import PaymentMethodForm, PickupSlotForm, PointsForm
from .pickup import basket_use_store_stock, pickup_choice_clear, pickup_choice_save
from .session import CheckoutSessionMixin  # the class Oscar's views load too

logger = logging.getLogger("oscar.checkout")

Country = get_model("address", "Country")

# Oscar's own words for a failure the shopper cannot fix (translated by Oscar).
PAYMENT_PROBLEM = _lazy(
    "A problem occurred while processing payment for this "
    "order - no payment has been taken.  Please "
    "contact customer services if this problem persists"
)
PLACEMENT_PROBLEM = _lazy(
    "A problem occurred while placing this order. Please contact customer services."
)


class IndexView(oscar_views.IndexView):
    # After the e-mail (or at once when signed in): collect in store or home delivery.
    success_url = reverse_lazy("checkout:delivery")

    def get_form_kwargs(self):
        # "I am a returning customer, and my password is" signs in through authenticate():
        # with the request, those passwords count towards the login lockout (R36) too.
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        response = super().form_valid(form)
        if form.is_new_account_checkout():
            # Oscar sends a new customer back to the address form after signing up; the
            # first step is collect in store or home delivery.
            query = urlencode(
                {"next": reverse("checkout:delivery"), "email": form.cleaned_data["username"]}
            )
            return redirect(f"{reverse('customer:register')}?{query}")
        return response


class DeliveryChoiceView(CheckoutSessionMixin, generic.TemplateView):
    """The first step: collect in store (free) or home delivery, two equal choices.

    Both are links to their own step (checkout:pickup, checkout:shipping-address);
    nothing is chosen until that step is completed.
    """

    template_name = "oscar/checkout/delivery.html"
    pre_conditions = [
        "check_basket_is_not_empty",
        "check_basket_is_valid",
        "check_user_email_is_captured",
    ]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["pickup_store_count"] = len(stores_for_basket(basket_or_lines=self.request.basket))
        ctx["delivery_payable"] = bool(payment_methods.methods_available(pickup=False))
        ctx["checkout_flow"] = ""
        return ctx


class ShippingAddressView(oscar_views.ShippingAddressView):
    def get_initial(self):
        # A new address starts in the shop's country (SHOP_COUNTRY), not the first one
        # of the list.
        initial = super().get_initial() or {}
        if "country" not in initial:
            country = Country.objects.filter(
                iso_3166_1_a2=settings.SHOP_COUNTRY, is_shipping_country=True
            ).first()
            if country is not None:
                initial = {**initial, "country": country}
        return initial

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "checkout_flow": "delivery"}

    def form_valid(self, form):
        # An address means home delivery: forget any pickup chosen before.
        pickup_choice_clear(checkout_session=self.checkout_session)
        self.checkout_session.use_shipping_method("")
        return super().form_valid(form)


class ShippingMethodView(oscar_views.ShippingMethodView):
    def form_valid(self, form):
        if form.cleaned_data["method_code"] == ClickAndCollect.code:
            return redirect("checkout:pickup")
        return super().form_valid(form)


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
        return redirect("checkout:payment-method")


class PaymentMethodView(oscar_views.PaymentMethodView):
    """Card, pay at pickup or (local demo) test payment; skipped when only one is offered."""

    template_name = "oscar/checkout/payment_method.html"
    success_url = "checkout:preview"

    def get_success_url(self):
        return reverse("checkout:preview")

    def get(self, request, *args, **kwargs):
        methods = self.get_payment_methods()
        if not methods:
            # No way to pay this checkout: back to the step that can change it, with the
            # reason (raised outside Oscar's pre-condition check, so handled here).
            try:
                self.check_payment_method_is_chosen(request)
            except FailedPreCondition as exc:
                for message in exc.messages:
                    messages.warning(request, message)
                return redirect(exc.url)
        if len(methods) == 1:
            self.checkout_session.pay_by(methods[0].code)
            return self.get_success_response()
        chosen = self.get_payment_method()
        form = PaymentMethodForm(methods=methods, initial={"method": chosen and chosen.code})
        return self.render_to_response(self.get_context_data(form=form))

    def post(self, request, *args, **kwargs):
        form = PaymentMethodForm(request.POST, methods=self.get_payment_methods())
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        self.checkout_session.pay_by(form.cleaned_data["method"])
        return self.get_success_response()


class PaymentDetailsView(oscar_views.PaymentDetailsView):
    """Payment: loyalty points for part of the order, the rest at pickup (or by card).

    The points are chosen on the preview page (POST action=use_points, kept in the
    checkout session), shown there with the amount left to pay, and spent in
    handle_payment, Oscar's hook that runs before the order exists, keyed on the
    order number (loyalty.services.redemption). If placing the order then fails,
    place_order gives them back; a cancelled order gets them back via loyalty's
    order_status_changed receiver.
    """

    _points_debit = None
    _payment_intent = None

    pre_conditions = [
        *oscar_views.PaymentDetailsView.pre_conditions,
        "check_payment_method_is_chosen",
    ]

    def get(self, request, *args, **kwargs):
        # Nothing is entered on Oscar's payment-details step: the method was chosen
        # before, card details go into Stripe's own form after the order is placed.
        if not self.preview:
            return redirect("checkout:preview")
        return super().get(request, *args, **kwargs)

    # --- Choosing points -------------------------------------------------------------

    def get_member(self) -> Member | None:
        if not self.request.user.is_authenticated:
            return None
        if not hasattr(self, "_member"):
            self._member = Member.objects.filter(user=self.request.user).first()
        return self._member

    def get_points_chosen(self) -> int:
        if self.get_member() is None:
            return 0
        return self.checkout_session.points_chosen()

    def set_points_chosen(self, points: int) -> None:
        self.checkout_session.points_choose(points)

    def handle_payment_details_submission(self, request):
        if request.POST.get("action") != "use_points":
            return super().handle_payment_details_submission(request)
        wait = attempt_over_limit(request, POINTS_REDEMPTION)  # R37
        if wait is not None:
            return too_many_attempts(
                request, POINTS_REDEMPTION, wait_seconds=wait, back_url=reverse("checkout:preview")
            )
        form = PointsForm(request.POST)
        member = self.get_member()
        if member is None:
            return redirect("checkout:preview")
        if form.is_valid():
            points = form.cleaned_data["points"] or 0
            try:
                if points:
                    total = self.get_order_totals(self.request.basket, **self._charges())
                    redeem_check(balance=member.balance, points=points, order_total=total.incl_tax)
            except LoyaltyError as exc:
                form.add_error("points", ValidationError(exc.message))
            else:
                self.set_points_chosen(points)
                return redirect("checkout:preview")
        return self.render_preview(request, points_form=form)

    def _charges(self) -> dict:
        basket = self.request.basket
        address = self.get_shipping_address(basket)
        method = self.get_shipping_method(basket, address)
        return {"shipping_charge": method.calculate(basket)}

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        member = self.get_member()
        total = ctx.get("order_total")
        if member is None or total is None:
            return ctx
        points = self.get_points_chosen()
        ctx["loyalty_member"] = member
        ctx["points_used"] = points
        ctx["points_used_value"] = points_value(points)
        ctx["amount_left_to_pay"] = max(total.incl_tax - points_value(points), 0)
        ctx["points_max"] = redeem_max_points(balance=member.balance, order_total=total.incl_tax)
        ctx["points_min"] = redemption_rule().min_points
        ctx.setdefault("points_form", PointsForm(initial={"points": points or None}))
        return ctx

    # --- Oscar's hooks ---------------------------------------------------------------

    def submit(
        self,
        user,
        basket,
        shipping_address,
        shipping_method,
        shipping_charge,
        billing_address,
        order_total,
        payment_kwargs=None,
        order_kwargs=None,
        surcharges=None,
    ):
        """Oscar's submit: "Place order" goes to shop.orders' order_place (once per basket,
        R7), and its outcome to Oscar's pages as Oscar's submit shows them.

        Concurrent "place order" posts of one basket queue on the basket's row; the first
        places the order, the others find it and land where it did (the pay page or the
        thank-you page) instead of an error.
        """
        payment_kwargs = payment_kwargs or {}
        order_number = self.generate_order_number(basket)
        self.checkout_session.set_order_number(order_number)
        self.checkout_session.set_submitted_basket(basket)
        try:
            placed = order_place(
                basket=basket,
                user=user,
                order_number=order_number,
                total=order_total,
                shipping=Shipping(
                    method=shipping_method,
                    charge=shipping_charge,
                    address=shipping_address,
                    billing_address=billing_address,
                    surcharges=surcharges,
                ),
                payment=PaymentChoice(
                    method=self.get_payment_method(),
                    member=self.get_member(),
                    points=self.get_points_chosen(),
                ),
                pickup=self.get_pickup_choice() if self.is_pickup() else None,
                guest_email=(order_kwargs or {}).get("guest_email") or "",
                request=self.request,
            )
        except Exception as exc:
            return self.render_submit_error(order_number, exc, payment_kwargs)
        if not placed.created:
            return self.land_on(placed.order)
        return self.handle_successful_order(placed.order)

    def render_submit_error(self, order_number, exc: Exception, payment_kwargs: dict):
        """The page Oscar's submit shows for each failure (nothing is left taken)."""
        if isinstance(exc, UnableToTakePayment):
            # Anticipated (points no longer there, card declined): the reason is shown.
            logger.warning("Order #%s: unable to take payment (%s)", order_number, exc)
            return self.render_payment_details(self.request, error=str(exc), **payment_kwargs)
        if isinstance(exc, UnableToPlaceOrder):
            logger.error("Order #%s: unable to place order - %s", order_number, exc)
            return self.render_preview(self.request, error=str(exc), **payment_kwargs)
        if isinstance(exc, PaymentError):
            logger.error("Order #%s: payment error (%s)", order_number, exc, exc_info=True)
            error = PAYMENT_PROBLEM
        else:
            logger.exception("Order #%s: unhandled exception (%s)", order_number, exc)
            error = PLACEMENT_PROBLEM
        return self.render_preview(self.request, error=error, **payment_kwargs)

    def land_on(self, order):
        self.checkout_session.flush()
        if order.status == AWAITING_PAYMENT:
            return redirect(self.pay_url(order))
        self.request.session["checkout_order_id"] = order.id
        return redirect(self.get_success_url())

    def pay_url(self, order) -> str:
        pay_orders = self.request.session.get(PAY_SESSION_KEY, [])
        if str(order.number) not in pay_orders:
            self.request.session[PAY_SESSION_KEY] = [*pay_orders[-4:], str(order.number)]
        return reverse("checkout:pay", kwargs={"order_number": order.number})

    def handle_successful_order(self, order):
        self.checkout_session.points_forget()
        if order.status != AWAITING_PAYMENT:
            return super().handle_successful_order(order)
        # The card is charged on the pay page; the confirmation is sent once it is paid.
        self.checkout_session.flush()
        response = redirect(self.pay_url(order))
        self.send_signal(self.request, response, order)
        return response
