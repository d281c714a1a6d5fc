from typing import TYPE_CHECKING

from django import forms
from django.conf import settings
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext_lazy as _
from oscar.apps.dashboard.catalogue import forms as oscar_forms
from oscar.forms import widgets as oscar_widgets

from shop.rich_text import rich_text_clean

if TYPE_CHECKING:
    # What the mixin is mixed into, for the type checker only.
    _ModelForm = forms.ModelForm
else:
    _ModelForm = object


class RichTextField(forms.CharField):
    """A textarea whose HTML is reduced to the catalogue's allow-list on save
    (shop/rich_text.py); what the manager sees after saving is what the page shows."""

    widget = forms.Textarea

    def to_python(self, value):
        return rich_text_clean(super().to_python(value))


def _attr_richtext_field(attribute):
    return RichTextField(label=attribute.name, required=attribute.required)


# The shop's languages; each translated field has a column per language
# (shop/catalogue/translation.py, README "Languages").
LANGUAGE_LABELS = dict(settings.LANGUAGES)


def _per_language(fields: list[str], translated: tuple[str, ...]) -> list[str]:
    """`fields` with each translated field replaced by its columns, one per language."""
    return [
        f"{name}_{code}" if name in translated else name
        for name in fields
        for code in (LANGUAGE_LABELS if name in translated else [None])
    ]


def _each_language(field: str, value) -> dict:
    return {f"{field}_{code}": value for code in LANGUAGE_LABELS}


class PerLanguageFieldsMixin(_ModelForm):
    """Labels the per-language fields "Title (French)" and so on; the English text is the
    one every language falls back to."""

    translated_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.translated_fields:
            label = self._meta.model._meta.get_field(name).verbose_name
            for code, language in LANGUAGE_LABELS.items():
                field = self.fields.get(f"{name}_{code}")
                if field is not None:
                    field.label = format_lazy("{} ({})", capfirst(label), language)
        for code in LANGUAGE_LABELS:
            field = self.fields.get(f"{self.translated_fields[0]}_{code}")
            if code != settings.MODELTRANSLATION_DEFAULT_LANGUAGE and field is not None:
                field.help_text = _("Leave blank to show the English text in this language.")


class ProductForm(PerLanguageFieldsMixin, oscar_forms.ProductForm):
    """Oscar's product form with the title and description in each language; the
    descriptions and rich-text attributes are sanitised."""

    FIELD_FACTORIES = {**oscar_forms.ProductForm.FIELD_FACTORIES, "richtext": _attr_richtext_field}
    translated_fields = ("title", "description")

    class Meta(oscar_forms.ProductForm.Meta):
        fields = _per_language(oscar_forms.ProductForm.Meta.fields, ("title", "description"))
        field_classes = _each_language("description", RichTextField)
        widgets = {
            **oscar_forms.ProductForm.Meta.widgets,
            **_each_language("title", forms.TextInput(attrs={"autocomplete": "off"})),
        }

    def delete_non_child_fields(self):
        super().delete_non_child_fields()
        for code in LANGUAGE_LABELS:
            self.fields.pop(f"description_{code}", None)


class CategoryForm(PerLanguageFieldsMixin, oscar_forms.CategoryForm):
    """Oscar's category form with the name and description in each language; the
    descriptions are sanitised."""

    translated_fields = ("name", "description")

    class Meta(oscar_forms.CategoryForm.Meta):
        fields = _per_language(oscar_forms.CategoryForm.Meta.fields, ("name", "description"))
        field_classes = _each_language("description", RichTextField)


class StockRecordForm(oscar_forms.StockRecordForm):
    """Refuses stock below what orders already hold, and a negative price, with a message
    instead of a 500.

    The database CHECKs (num_allocated <= num_in_stock, price >= 0, shop.partner) stay
    the last line, e.g. against a concurrent allocation between this check and the save.
    """

    def clean_price(self):
        price = self.cleaned_data.get("price")
        if price is not None and price < 0:
            raise forms.ValidationError(_("A price can't be negative."), code="price_negative")
        return price

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
