"""Oscar's checkout views, extended for click & collect through Oscar's hooks."""

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import generic
from oscar.apps.checkout import views as oscar_views
from oscar.apps.order.exceptions import UnableToPlaceOrder
from oscar.apps.payment.exceptions import UnableToTakePayment
from oscar.core.loading import get_class, get_model

from loyalty.models import Member
from loyalty.services.errors import LoyaltyError
from loyalty.services.redemption import (
    order_points_redeem,
    points_value,
    redeem_check,
    redeem_max_points,
    redemption_give_back,
)
from shop.shipping.methods import ClickAndCollect
from stores.models import Store
from stores.selectors import chosen_store, haversine_km, slots_available, stores_for_basket
from stores.services import PickupUnavailable, pickup_create

from .forms import PickupForm, PointsForm
from .pickup import basket_use_store_stock, pickup_choice_clear, pickup_choice_save

Source = get_model("payment", "Source")
SourceType = get_model("payment", "SourceType")

# Our mixin (shop.checkout.session), as Oscar's views load it.
CheckoutSessionMixin = get_class("checkout.session", "CheckoutSessionMixin")

PAY_AT_PICKUP = ("pay-at-pickup", "Pay at pickup")
LOYALTY_POINTS = ("loyalty-points", "Loyalty points")


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
        ctx["points_min"] = settings.LOYALTY_REDEEM_MIN_POINTS
        ctx.setdefault("points_form", PointsForm(initial={"points": points or None}))
        return ctx

    # --- Oscar's hooks ---------------------------------------------------------------

    def handle_payment(self, order_number, total, **kwargs):
        used = self.redeem_points(order_number, total)
        if self.is_pickup():
            # Paid in the store: what the points did not pay (allocated, not yet debited).
            source_type, _created = SourceType.objects.get_or_create(
                code=PAY_AT_PICKUP[0], defaults={"name": PAY_AT_PICKUP[1]}
            )
            self.add_payment_source(
                Source(
                    source_type=source_type,
                    currency=total.currency,
                    amount_allocated=max(total.incl_tax - used, Decimal("0.00")),
                )
            )
            return
        super().handle_payment(order_number, total, **kwargs)

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
        """Place the order in one transaction; points spent on it come back if that fails."""
        try:
            with transaction.atomic():
                return self._place_order(*args, **kwargs)
        except Exception:
            if self._points_debit is not None:
                redemption_give_back(
                    debit=self._points_debit,
                    reason=_("Order %(number)s not placed") % {"number": kwargs["order_number"]},
                )
                self._points_debit = None
            raise

    def handle_successful_order(self, order):
        self.checkout_session._unset("loyalty", "points")
        return super().handle_successful_order(order)

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
