"""Oscar's checkout views, extended for click & collect through Oscar's hooks."""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
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
from shop.payment import gateway
from shop.payment import methods as payment_methods
from shop.payment.services import (
    AWAITING_PAYMENT,
    card_payment_abandon,
    card_payment_record,
    card_payment_start,
)
from shop.payment.views import PAY_SESSION_KEY
from shop.security.ratelimits import POINTS_REDEMPTION, attempt_over_limit, too_many_attempts
from shop.shipping.methods import ClickAndCollect
from stores.models import Store
from stores.selectors import chosen_store, haversine_km, slots_available, stores_for_basket
from stores.services import PickupUnavailable, pickup_create

from .forms import PaymentMethodForm, PickupForm, PointsForm
from .pickup import basket_use_store_stock, pickup_choice_clear, pickup_choice_save

Basket = get_model("basket", "Basket")
Order = get_model("order", "Order")
Source = get_model("payment", "Source")
SourceType = get_model("payment", "SourceType")

# Our mixin (shop.checkout.session), as Oscar's views load it.
CheckoutSessionMixin = get_class("checkout.session", "CheckoutSessionMixin")

LOYALTY_POINTS = ("loyalty-points", "Loyalty points")


class IndexView(oscar_views.IndexView):
    def get_form_kwargs(self):
        # "I am a returning customer, and my password is" signs in through authenticate():
        # with the request, those passwords count towards the login lockout (R36) too.
        return {**super().get_form_kwargs(), "request": self.request}


class ShippingAddressView(oscar_views.ShippingAddressView):
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


class PickupView(CheckoutSessionMixin, generic.FormView):
    """Click & collect: stores that can prepare the whole basket, nearest first, then a slot.

    GET ?store=<slug> shows that store's slots; POST store + slot saves the
    choice and continues to payment. Nothing is booked here: the slot is taken
    when the order is placed, in the same transaction.
    """

    template_name = "oscar/checkout/pickup.html"
    form_class = PickupForm
    pre_conditions = [
        "check_basket_is_not_empty",
        "check_basket_is_valid",
        "check_user_email_is_captured",
    ]

    def dispatch(self, request, *args, **kwargs):
        self.now = timezone.now()
        return super().dispatch(request, *args, **kwargs)

    def get_stores(self) -> list[Store]:
        if not hasattr(self, "_stores"):
            mine = chosen_store(session=self.request.session, user=self.request.user)
            origin = (mine.latitude, mine.longitude) if mine else (None, None)
            self._stores = stores_for_basket(
                basket_or_lines=self.request.basket, lat=origin[0], lng=origin[1]
            )
            self._origin = origin
        return self._stores

    def get_selected_store(self) -> Store | None:
        stores = self.get_stores()
        slug = self.request.POST.get("store") or self.request.GET.get("store")
        if slug:
            return next((s for s in stores if s.slug == slug), None)
        mine = chosen_store(session=self.request.session, user=self.request.user)
        return next((s for s in stores if mine and s.pk == mine.pk), stores[0] if stores else None)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        selected = self.get_selected_store()
        kwargs["stores"] = self.get_stores()
        kwargs["slots"] = (
            slots_available(store=selected, basket_or_lines=None, now=self.now) if selected else []
        )
        return kwargs

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        selected = self.get_selected_store()
        lat, lng = self._origin
        ctx["stores"] = [
            {
                "store": s,
                "distance_km": haversine_km(lat, lng, s.latitude, s.longitude)
                if lat is not None
                else None,
            }
            for s in self.get_stores()
        ]
        ctx["selected_store"] = selected
        ctx["slots"] = ctx["form"].slots.values()
        return ctx

    def form_valid(self, form):
        store, starts_at = form.cleaned_data["store"], form.cleaned_data["slot"]
        if starts_at is None or "choose_store" in self.request.POST:
            # The shopper picked a store: show its slots.
            return redirect(reverse("checkout:pickup") + f"?store={store.slug}")
        if starts_at not in form.slots:
            form.add_error("slot", _("That pickup time is not available any more."))
            return self.form_invalid(form)
        try:
            basket_use_store_stock(basket=self.request.basket, store=store)
        except LookupError:
            messages.error(self.request, _("This store cannot prepare your whole basket."))
            return redirect("checkout:pickup")
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
        """
        basket = kwargs["basket"]
        with transaction.atomic():
            Basket.objects.select_for_update().filter(pk=basket.pk).first()
            placed = Order.objects.filter(basket_id=basket.pk).first()
            if placed is not None:
                return self.land_on(placed)
            return super().submit(**kwargs)

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
            try:
                intent = card_payment_start(
                    order_number=order_number,
                    amount=rest,
                    currency=currency,
                )
            except gateway.CardDeclined as exc:
                raise UnableToTakePayment(exc.message) from exc
            except gateway.GatewayError as exc:
                raise PaymentError(exc.message) from exc
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
            code=LOYALTY_POINTS[0], defaults={"name": LOYALTY_POINTS[1]}
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
        self.add_payment_event(LOYALTY_POINTS[1], value, reference=debit.idempotency_key)
        return value

    def place_order(self, *args, **kwargs):
        """Place the order in one transaction; points spent on it come back if that fails,
        and a PaymentIntent created for it is cancelled (nothing was charged)."""
        if self._payment_intent is not None:
            kwargs["status"] = AWAITING_PAYMENT
        try:
            with transaction.atomic():
                order = self._place_order(*args, **kwargs)
                if self._payment_intent is not None:
                    card_payment_record(order=order, payment_intent=self._payment_intent)
                return order
        except Exception:
            self.give_points_back(kwargs["order_number"])
            if self._payment_intent is not None:
                card_payment_abandon(payment_intent_id=self._payment_intent["id"])
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
