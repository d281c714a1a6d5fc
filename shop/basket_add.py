"""Adding to the basket: one clear message when the quantity asked for cannot be sold.

Oscar checks the basket-wide limit (OSCAR_MAX_BASKET_QUANTITY_THRESHOLD) and the stock
separately and joins their messages ("Due to technical limitations ... Your basket
currently has 0 items", "a maximum of 59 can be bought"). Here the quantity is checked once,
against the lower of the two, and the shopper is told how many they can add.
"""

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from oscar.apps.basket import forms as oscar_forms
from oscar.apps.basket import views as oscar_views


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
            limits.append(num_available - self.basket.product_quantity(self.product))
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

    def clean(self):
        if "quantity" in self.errors:
            # The quantity's message is the one to show; Oscar's checks below would add a
            # second one about the same quantity.
            return self.cleaned_data
        return super().clean()


class BasketAddView(oscar_views.BasketAddView):
    form_class = AddToBasketForm
