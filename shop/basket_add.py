"""Adding to the basket: one clear message when the quantity asked for cannot be sold.

Oscar checks the basket-wide limit (OSCAR_MAX_BASKET_QUANTITY_THRESHOLD) and the stock
separately and joins their messages ("Due to technical limitations ... Your basket
currently has 0 items", "a maximum of 59 can be bought"). Here the quantity is checked once,
against the lower of the two, and the shopper is told how many they can add.

In a fixed number of queries (bench/README.md, "The basket in a fixed number of queries"):
the product is read with its class, its options' existence and its stock records, the
quantity already in the basket is counted on the lines the basket has read, and after the
addition the lines are read once and the offers of the request applied again
(shop/basket_load.py), except when the addition created the basket or added to a line it
had read (`line_add`): then the basket's lines are known without reading them.
"""

from typing import Any

from django import forms, shortcuts
from django.conf import settings
from django.contrib import messages
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from oscar.apps.basket import forms as oscar_forms
from oscar.apps.basket import views as oscar_views
from oscar.apps.basket.utils import BasketMessageGenerator
from oscar.core.loading import get_model

from shop.basket_load import LINES_UNSHOWN, PRODUCTS_READ, offers_apply

Option = get_model("catalogue", "Option")


def quantity_in_basket(basket: Any, product: Any) -> int:
    """Oscar's `basket.product_quantity`, counted on the lines the basket has read."""
    if basket.id is None:
        return 0
    return sum(line.quantity for line in basket.all_lines() if line.product_id == product.pk)


def _line_add_to_new_basket(basket: Any, product: Any, quantity: int, options: list) -> tuple:
    basket.save()
    basket.vouchers_none = True  # a basket created now has none yet
    info = basket.get_stock_info(product, options)
    if not info.price.exists or info.stockrecord is None:
        return basket.add_product(product, quantity, options)  # Oscar's errors
    price = info.price
    line = basket.lines.create(
        line_reference=basket._create_line_reference(product, info.stockrecord, options),
        product=product,
        stockrecord=info.stockrecord,
        quantity=max(0, quantity),
        price_currency=price.currency,
        price_excl_tax=price.excl_tax,
        tax_code=price.tax_code,
        **({"price_incl_tax": price.incl_tax} if price.is_tax_known else {}),
    )
    for option in options:
        line.attributes.create(option=option["option"], value=option["value"])
    basket.reset_offer_applications()
    basket.lines_known = [line]
    return line, True


def _line_of(basket: Any, product: Any, options: list) -> Any:
    """The line of the basket's lines (as read) that Oscar would add `product` to."""
    info = basket.get_stock_info(product, options)
    if not info.price.exists or info.stockrecord is None or not basket.can_be_edited:
        return None
    if basket.currency and info.price.currency != basket.currency:
        return None
    reference = basket._create_line_reference(product, info.stockrecord, options)
    return next((line for line in basket.all_lines() if line.line_reference == reference), None)


def line_add(basket: Any, product: Any, quantity: int, options: list) -> tuple:
    """Oscar's `Basket.add_product` (the line and whether it was created), without reading
    the lines again (bench/README.md, "The basket in a fixed number of queries").

    A basket this request creates has no line yet: the line is inserted without Oscar's
    get_or_create (a SELECT and a transaction) nor a read of the lines for the basket's
    currency. A line the basket already holds (in the lines it read) has its quantity
    raised in the database (`F()`, so that two additions at once both count). The basket
    then keeps the lines it knows (`lines_known`, shop/basket_load.py) instead of reading
    them again. Anything else (a new line in a basket with lines, a line gone meanwhile,
    Oscar's errors) goes through Oscar's `add_product`, after which the lines are read.
    """
    if basket.id is None:
        return _line_add_to_new_basket(basket, product, quantity, options)
    line = _line_of(basket, product, options)
    if line is not None:
        changed = type(line)._default_manager.filter(pk=line.pk, basket_id=basket.pk)
        if changed.update(quantity=F("quantity") + quantity, date_updated=timezone.now()):
            line.quantity = max(0, line.quantity + quantity)
            known = list(basket.all_lines())
            basket.reset_offer_applications()
            basket.lines_known = known
            return line, False
    return basket.add_product(product, quantity, options)


class AddToBasketForm(oscar_forms.AddToBasketForm):
    def addable_quantity(self) -> int | None:
        """How many more of the product this basket may take (None: no limit)."""
        limits = []
        threshold = settings.OSCAR_MAX_BASKET_QUANTITY_THRESHOLD
        if threshold:
            limits.append(threshold - self.basket.num_items)
        availability = self.basket.strategy.fetch_for_product(self.product).availability
        num_available = getattr(availability, "num_available", None)
        if num_available is not None:
            limits.append(num_available - quantity_in_basket(self.basket, self.product))
        return max(min(limits), 0) if limits else None

    def clean_quantity(self) -> int:
        quantity = self.cleaned_data["quantity"]
        limit = self.addable_quantity()
        if limit is not None and quantity > limit:
            if limit == 0:
                raise forms.ValidationError(
                    _(
                        "You cannot add more of this product: it is out of stock "
                        "or already in your basket."
                    )
                )
            raise forms.ValidationError(
                ngettext(
                    "You can add at most %(max)d of this product.",
                    "You can add at most %(max)d of this product.",
                    limit,
                )
                % {"max": limit}
            )
        return quantity

    def clean_child_id(self):
        # Oscar's, with the variant's stock records read with it (priced three times).
        children = self.parent_product.children.prefetch_related("stockrecords")
        try:
            self.child_product = children.get(id=self.cleaned_data["child_id"])
        except children.model.DoesNotExist:
            raise forms.ValidationError(_("Please select a valid product")) from None
        return self.cleaned_data["child_id"]

    def clean(self):
        if "quantity" in self.errors:
            # The quantity's message is the one to show; Oscar's checks below would add a
            # second one about the same quantity.
            return self.cleaned_data
        # Oscar's checks, with the quantity already in the basket counted on its lines.
        info = self.basket.strategy.fetch_for_product(self.product)
        if not info.price.exists:
            raise forms.ValidationError(
                _(
                    "This product cannot be added to the basket because a "
                    "price could not be determined for it."
                )
            )
        if self.basket.currency and info.price.currency != self.basket.currency:
            raise forms.ValidationError(
                _(
                    "This product cannot be added to the basket as its currency "
                    "isn't the same as other products in your basket"
                )
            )
        desired = quantity_in_basket(self.basket, self.product) + self.cleaned_data.get(
            "quantity", 1
        )
        is_permitted, reason = info.availability.is_purchase_permitted(desired)
        if not is_permitted:
            raise forms.ValidationError(reason)
        return self.cleaned_data

    def cleaned_options(self) -> list[dict]:
        # Oscar reads the options again; a product without any has none to clean.
        if not self.parent_product.has_options:
            return []
        return super().cleaned_options()


class AdditionMessages(BasketMessageGenerator):
    def apply_messages(self, request: Any, offers_before: Any) -> None:
        # Oscar's, with the lines read once and the request's offers (shop/basket_load.py).
        request.basket.reset_offer_applications()
        offers_apply(request, request.basket)
        offers_after = request.basket.applied_offers()
        for level, message in self.get_messages(request.basket, offers_before, offers_after):
            messages.add_message(request, level, message, extra_tags="safe noicon")


class BasketAddView(oscar_views.BasketAddView):
    form_class = AddToBasketForm

    def post(self, request, *args, **kwargs):
        # Oscar's, with the product's class, whether it has options (Oscar's annotations,
        # as its `base_queryset`; a variant's class is its parent's) and stock records.
        option_classes = Q(productclass=OuterRef("product_class")) | Q(
            productclass=OuterRef("parent__product_class")
        )
        products = (
            self.product_model.objects.select_related("product_class", "parent__product_class")
            .annotate(
                has_product_class_options=Exists(Option.objects.filter(option_classes)),
                has_product_options=Exists(Option.objects.filter(product=OuterRef("pk"))),
            )
            .prefetch_related("stockrecords")
        )
        self.product = shortcuts.get_object_or_404(products, pk=kwargs["pk"])
        # The add redirects: the lines it reads are priced, never shown (no images); a
        # line of this product takes it as read here.
        setattr(request, LINES_UNSHOWN, True)
        setattr(request, PRODUCTS_READ, {self.product.pk: self.product})
        return super(oscar_views.BasketAddView, self).post(request, *args, **kwargs)

    def form_valid(self, form):
        # Oscar's, with `AdditionMessages`.
        basket = self.request.basket
        offers_before = basket.applied_offers()
        self.line, self.line_created = line_add(
            basket, form.product, form.cleaned_data["quantity"], form.cleaned_options()
        )
        messages.success(self.request, self.get_success_message(form), extra_tags="safe noicon")
        AdditionMessages().apply_messages(self.request, offers_before)
        self.add_signal.send(
            sender=self, product=form.product, user=self.request.user, request=self.request
        )
        return super(oscar_views.BasketAddView, self).form_valid(form)
