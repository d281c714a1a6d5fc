"""Oscar's checkout views, extended for click & collect through Oscar's hooks."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views import generic
from oscar.apps.checkout import views as oscar_views
from oscar.apps.checkout.exceptions import FailedPreCondition
from oscar.apps.order.exceptions import UnableToPlaceOrder
from oscar.apps.payment.exceptions import PaymentError, UnableToTakePayment
from oscar.core.loading import get_class, get_model

from loyalty.models import Member
from loyalty.selectors import redemption_rule
from loyalty.services.errors import LoyaltyError
from loyalty.services.redemption import (
    order_points_redeem,
    points_value,
    redeem_check,
    redeem_max_points,
    redemption_give_back,
)
from shop.constants import AWAITING_PAYMENT
from shop.offer.exceptions import OfferUnavailable, VoucherUnavailable
from shop.offer.usage import basket_discounts_lock, basket_reprice
from shop.payment import gateway
from shop.payment import methods as payment_methods
from shop.payment.constants import POINTS_SOURCE_NAME, POINTS_SOURCE_TYPE
from shop.payment.intents import (
    card_payment_abandon,
    card_payment_record,
    card_payment_start,
)
from shop.payment.models import StripePayment
from shop.payment.money import to_minor
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
from stores.services import PickupUnavailable, pickup_create

from .forms import PaymentMethodForm, PickupSlotForm, PointsForm
from .pickup import basket_use_store_stock, pickup_choice_clear, pickup_choice_save

Basket = get_model("basket", "Basket")
Country = get_model("address", "Country")
Order = get_model("order", "Order")
Source = get_model("payment", "Source")
SourceType = get_model("payment", "SourceType")

# Our mixin (shop.checkout.session), as Oscar's views load it.
CheckoutSessionMixin = get_class("checkout.session", "CheckoutSessionMixin")


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
                distance_km=haversine_km(*position, store.latitude, store.longitude)
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
            self._slots = slots_available(
                store=self.get_store(), basket_or_lines=None, now=self.now
            )
        return self._slots

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "slots": self.get_slots()}

    def get_initial(self):
        # The slot chosen before, if it was at this store and is still free.
        chosen = self.get_pickup_choice() if self.is_pickup() else None
        if (
            chosen
            and chosen.store.pk == self.get_store().pk
            and any(slot.starts_at == chosen.starts_at for slot in self.get_slots())
        ):
            return {"slot": chosen.starts_at.isoformat()}
        return {}

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        store = self.get_store()
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
        store, starts_at = self.get_store(), form.cleaned_data["slot"]
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
    # The card order's PaymentIntent, created before any row is locked (submit), or the
    # GatewayError creating it raised; take_rest uses it.
    _card_intent: dict | gateway.GatewayError | None = None

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
        return int(self.checkout_session._get("loyalty", "points") or 0)

    def set_points_chosen(self, points: int) -> None:
        self.checkout_session._set("loyalty", "points", points)

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

    def submit(self, **kwargs):
        """Oscar's submit, once per basket (R7).

        Concurrent "place order" posts of one basket queue on the basket's row; the first
        places the order, the others find it and land where it did (the pay page or the
        thank-you page) instead of an error.

        Stripe is never called while a row is locked (docs/architecture.md, "Lock
        order"): a card order's PaymentIntent is created before the basket's row is
        locked (its key is deterministic, so concurrent posts get the same one), and
        cancelled after the transaction if no order was placed with it.
        """
        basket = kwargs["basket"]
        self._card_intent = self.card_intent_create(basket, kwargs["order_total"])
        try:
            with transaction.atomic():
                Basket.objects.select_for_update().filter(pk=basket.pk).first()
                placed = Order.objects.filter(basket_id=basket.pk).first()
                if placed is not None:
                    return self.land_on(placed)
                return super().submit(**kwargs)
        finally:
            self.card_intent_abandon_unused()

    def card_intent_create(self, basket, total) -> dict | gateway.GatewayError | None:
        """The PaymentIntent of a card order about to be placed (none for another method,
        nothing left to pay, or a basket already ordered), or the error creating it."""
        if self.get_payment_method() != payment_methods.CARD:
            return None
        if Order.objects.filter(basket_id=basket.pk).exists():
            return None  # placed by an earlier post: submit lands on it
        rest = self.rest_to_pay(total)
        if rest <= 0:
            return None
        try:
            return card_payment_start(
                order_number=self.generate_order_number(basket),
                amount=rest,
                currency=total.currency,
            )
        except gateway.GatewayError as exc:
            return exc  # raised by take_rest, where Oscar expects payment errors

    def card_intent_abandon_unused(self) -> None:
        """Cancel the PaymentIntent created for this post if no order recorded it (the
        order could not be placed, or points could not be spent): nothing was charged."""
        intent, self._card_intent = self._card_intent, None
        if not isinstance(intent, dict):
            return
        if not StripePayment.objects.filter(payment_intent_id=intent["id"]).exists():
            card_payment_abandon(payment_intent_id=intent["id"])

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

    def handle_payment(self, order_number, total, **kwargs):
        """Points first, then the rest by the chosen method.

        Card: the PaymentIntent is created here (deterministic idempotency key, R6); the
        card is charged on the pay page once the order exists, so a failure to place the
        order never leaves a charge without an order.
        """
        method = self.get_payment_method()
        if method is None:
            raise UnableToTakePayment(_("Please choose how you want to pay."))
        used = self.redeem_points(order_number, total)
        rest = max(total.incl_tax - used, Decimal("0.00"))
        try:
            self.take_rest(method, order_number, rest, total.currency)
        except Exception:
            self.give_points_back(order_number)
            raise

    def rest_to_pay(self, total) -> Decimal:
        """What is left to pay once the chosen points are spent (redeem_points)."""
        points, member = self.get_points_chosen(), self.get_member()
        used = points_value(points) if points and member is not None else Decimal("0.00")
        return max(total.incl_tax - used, Decimal("0.00"))

    def take_rest(self, method, order_number, rest, currency):
        source_type, _created = SourceType.objects.get_or_create(
            code=method.source_code, defaults={"name": method.source_name}
        )
        if rest <= 0:
            return
        if method == payment_methods.AT_PICKUP:
            # Paid in the store: allocated now, debited by staff at handover.
            self.add_payment_source(
                Source(source_type=source_type, currency=currency, amount_allocated=rest)
            )
        elif method == payment_methods.TEST:
            self.add_payment_source(
                Source(
                    source_type=source_type,
                    currency=currency,
                    amount_allocated=rest,
                    amount_debited=rest,
                    label=str(method.name),
                )
            )
            self.add_payment_event(method.source_name, rest, reference=order_number)
        elif method == payment_methods.CARD:
            intent = self._card_intent  # created by submit, before the basket was locked
            if isinstance(intent, gateway.CardDeclined):
                raise UnableToTakePayment(intent.message) from intent
            if isinstance(intent, gateway.GatewayError):
                raise PaymentError(intent.message) from intent
            if intent is None or intent["amount"] != to_minor(rest, currency):
                raise PaymentError(f"Order {order_number}: no PaymentIntent for {rest}")
            self._payment_intent = intent
            self.add_payment_source(
                Source(
                    source_type=source_type,
                    currency=currency,
                    amount_allocated=rest,
                    reference=intent["id"],
                )
            )
        else:  # pragma: no cover - methods.ALL is exhaustive
            raise UnableToTakePayment(_("Please choose how you want to pay."))

    def give_points_back(self, order_number):
        if self._points_debit is not None:
            redemption_give_back(
                debit=self._points_debit,
                reason=_("Order %(number)s not placed") % {"number": order_number},
            )
            self._points_debit = None

    def redeem_points(self, order_number, total) -> Decimal:
        """Spend the chosen points on this order; their money value (0 without points)."""
        points, member = self.get_points_chosen(), self.get_member()
        if not points or member is None:
            return Decimal("0.00")
        try:
            debit = order_points_redeem(
                member=member, order_number=order_number, points=points, order_total=total.incl_tax
            )
        except LoyaltyError as exc:
            # Oscar shows the message on the payment page; nothing was taken.
            raise UnableToTakePayment(exc.message) from exc
        self._points_debit = debit
        value = points_value(points)
        source_type, _created = SourceType.objects.get_or_create(
            code=POINTS_SOURCE_TYPE, defaults={"name": POINTS_SOURCE_NAME}
        )
        self.add_payment_source(
            Source(
                source_type=source_type,
                currency=total.currency,
                amount_allocated=value,
                amount_debited=value,
                reference=debit.idempotency_key,
                label=_("%(points)s points") % {"points": points},
            )
        )
        self.add_payment_event(POINTS_SOURCE_NAME, value, reference=debit.idempotency_key)
        return value

    def place_order(self, *args, **kwargs):
        """Place the order in one transaction; points spent on it come back if that fails,
        and a PaymentIntent created for it is cancelled once the basket's transaction is
        over (submit; nothing was charged).

        The basket's vouchers and offers are locked and checked first (README "Lock
        order"): one that a concurrent order used up is refused, the basket re-priced,
        and Oscar shows the preview again with the reason (R16, R17).
        """
        if self._payment_intent is not None:
            kwargs["status"] = AWAITING_PAYMENT
        try:
            with transaction.atomic():
                basket_discounts_lock(basket=kwargs["basket"], user=kwargs["user"])
                order = self._place_order(*args, **kwargs)
                if self._payment_intent is not None:
                    card_payment_record(order=order, payment_intent=self._payment_intent)
                return order
        except Exception as exc:
            self.give_points_back(kwargs["order_number"])
            if isinstance(exc, OfferUnavailable | VoucherUnavailable):
                basket_reprice(basket=kwargs["basket"], user=kwargs["user"], request=self.request)
            raise

    def handle_successful_order(self, order):
        self.checkout_session._unset("loyalty", "points")
        if order.status != AWAITING_PAYMENT:
            return super().handle_successful_order(order)
        # The card is charged on the pay page; the confirmation is sent once it is paid.
        self.checkout_session.flush()
        response = redirect(self.pay_url(order))
        self.send_signal(self.request, response, order)
        return response

    def _place_order(self, *args, **kwargs):
        """The order, its stock allocation and the pickup slot booking, in one transaction."""
        choice = self.get_pickup_choice() if self.is_pickup() else None
        if choice is None:
            return super().place_order(*args, **kwargs)
        basket = kwargs["basket"]
        if any(
            line.stockrecord.partner_id != choice.store.partner_id for line in basket.all_lines()
        ):
            # A line was added after the store was chosen: it would come from elsewhere.
            raise UnableToPlaceOrder(
                _("Your basket changed since you chose %(store)s; please choose your pickup again.")
                % {"store": choice.store.name}
            )
        try:
            with transaction.atomic():
                order = super().place_order(*args, **kwargs)
                pickup_create(
                    order=order, store=choice.store, starts_at=choice.starts_at, now=timezone.now()
                )
        except PickupUnavailable as exc:
            raise UnableToPlaceOrder(str(exc)) from exc
        return order
