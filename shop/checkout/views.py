"""Oscar's checkout views, extended for click & collect through Oscar's hooks."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import generic
from oscar.apps.checkout import views as oscar_views
from oscar.apps.order.exceptions import UnableToPlaceOrder
from oscar.core.loading import get_class, get_model

from shop.shipping.methods import ClickAndCollect
from stores.models import Store
from stores.selectors import chosen_store, haversine_km, slots_available, stores_for_basket
from stores.services import PickupUnavailable, pickup_create

from .forms import PickupForm
from .pickup import basket_use_store_stock, pickup_choice_clear, pickup_choice_save

Source = get_model("payment", "Source")
SourceType = get_model("payment", "SourceType")

# Our mixin (shop.checkout.session), as Oscar's views load it.
CheckoutSessionMixin = get_class("checkout.session", "CheckoutSessionMixin")

PAY_AT_PICKUP = ("pay-at-pickup", "Pay at pickup")


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
    def handle_payment(self, order_number, total, **kwargs):
        if self.is_pickup():
            # Paid in the store; recorded so the order shows how it will be paid.
            source_type, _created = SourceType.objects.get_or_create(
                code=PAY_AT_PICKUP[0], defaults={"name": PAY_AT_PICKUP[1]}
            )
            self.add_payment_source(
                Source(source_type=source_type, currency=total.currency, amount_allocated=0)
            )
            return
        super().handle_payment(order_number, total, **kwargs)

    def place_order(self, *args, **kwargs):
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
