"""The marketers' reward form (README, "Rewards")."""

from typing import cast

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model

from loyalty.models import Reward, RewardKind

# The largest value a PostgreSQL integer column holds.
INTEGER_MAX = 2_147_483_647
MOMENT_FORMAT = "%Y-%m-%dT%H:%M"


class MomentInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self):
        super().__init__(format=MOMENT_FORMAT)


class RewardForm(forms.ModelForm):
    # The stock as the page showed it: redemptions take from it while the marketer edits,
    # so the service writes the stock only when the marketer changed it (reward_save).
    stock_seen = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Reward
        fields = [
            "name",
            "kind",
            "points_cost",
            "value",
            "product",
            "stock",
            "per_member_limit",
            "valid_from",
            "valid_until",
            "voucher_valid_days",
            "is_active",
        ]
        labels = {
            "points_cost": _("Cost in points"),
            "value": _("Amount off (for a fixed discount)"),
            "product": _("Free product (for a free product)"),
            "is_active": _("Active (members can redeem it)"),
        }
        help_texts = {
            "valid_from": _("Empty: from now on."),
            "valid_until": _("Empty: no end."),
            "voucher_valid_days": _("Days the member has to use the voucher."),
        }
        widgets = {"valid_from": MomentInput(), "valid_until": MomentInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        product_model = get_model("catalogue", "Product")
        # Parents cannot be bought: a free product is a standalone or a child product.
        cast(
            forms.ModelChoiceField, self.fields["product"]
        ).queryset = product_model.objects.exclude(structure=product_model.PARENT).order_by("title")
        self.fields["product"].required = False
        for name in ("valid_from", "valid_until"):
            cast(forms.DateTimeField, self.fields[name]).input_formats = [
                MOMENT_FORMAT,
                "%Y-%m-%d %H:%M",
                "%Y-%m-%d",
            ]
        for name in ("points_cost", "stock", "per_member_limit", "voucher_valid_days"):
            least = 0 if name == "stock" else 1
            field = self.fields[name]
            # The model field already refuses a negative number.
            field.validators += [MaxValueValidator(INTEGER_MAX)] + (
                [MinValueValidator(least)] if least else []
            )
            field.widget.attrs.update(min=least, max=INTEGER_MAX, inputmode="numeric")
        if not self.is_bound:
            self.initial["stock_seen"] = self.instance.stock

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        # Mirrors the database constraints, with messages a marketer understands.
        kind = cleaned.get("kind")
        if kind == RewardKind.DISCOUNT:
            value = cleaned.get("value")
            if value is None or value <= 0:
                self.add_error("value", _("Enter the amount off, more than zero."))
            cleaned["product"] = None
        elif kind == RewardKind.FREE_PRODUCT:
            if cleaned.get("product") is None:
                self.add_error("product", _("Choose the product the member gets for free."))
            cleaned["value"] = None
        elif kind == RewardKind.FREE_DELIVERY:
            cleaned["value"] = None
            cleaned["product"] = None
        starts, ends = cleaned.get("valid_from"), cleaned.get("valid_until")
        if starts and ends and ends <= starts:
            self.add_error("valid_until", _("The end must come after the start."))
        return cleaned

    def fields_to_save(self) -> list[str]:
        """Every field of the form, but the stock only if the marketer changed it from
        what the page showed (not from what redemptions left since)."""
        fields = [name for name in self.Meta.fields if name != "stock"]
        if self.cleaned_data.get("stock") != self.cleaned_data.get("stock_seen"):
            fields.append("stock")
        return fields
