from django import forms
from django.utils.translation import gettext_lazy as _
from oscar.apps.dashboard.catalogue import forms as oscar_forms
from oscar.forms import widgets as oscar_widgets


class StockRecordForm(oscar_forms.StockRecordForm):
    """Refuses stock below what orders already hold, with a message instead of a 500.

    The database CHECK (num_allocated <= num_in_stock, shop.partner) stays the
    last line against a concurrent allocation between this check and the save.
    """

    def clean_num_in_stock(self):
        num_in_stock = self.cleaned_data.get("num_in_stock")
        allocated = self.instance.num_allocated or 0 if self.instance.pk else 0
        if num_in_stock is not None and num_in_stock < allocated:
            raise forms.ValidationError(
                _(
                    "%(allocated)d units are allocated to orders not yet shipped or collected: "
                    "stock can't be set below that. Cancel or fulfil those orders first."
                ),
                code="below_allocated",
                params={"allocated": allocated},
            )
        return num_in_stock


class ImageInput(oscar_widgets.ImageInput):
    """Oscar's image upload widget without its inline onload/onerror handlers (CSP).

    shop/js/dashboard.js does what they did: hide the upload button once a
    chosen image previews, show it and say so when the file is not an image.
    """

    template_name = "shop/forms/widgets/image_input.html"


class ProductImageForm(oscar_forms.ProductImageForm):
    class Meta(oscar_forms.ProductImageForm.Meta):
        widgets = {**oscar_forms.ProductImageForm.Meta.widgets, "original": ImageInput()}
