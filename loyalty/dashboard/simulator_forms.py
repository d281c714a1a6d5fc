"""The cost simulator's forms (README.md "Cost simulator"): a proposed earning rule or reward,
and how many months of orders to replay it over. Submitted by GET: nothing is saved."""

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model

from loyalty.models import EarningRule, Reward, RewardKind


class MonthsForm(forms.Form):
    months = forms.IntegerField(
        label=_("Months of orders to replay"), min_value=1, max_value=24, initial=6
    )


class SimulatedRuleForm(forms.ModelForm):
    """The earning rule's fields that decide what an order earns, and the point value."""

    class Meta:
        model = EarningRule
        fields = [
            "points_per_unit",
            "rounding",
            "click_collect_bonus",
            "first_order_bonus",
            "point_value",
        ]


class SimulatedRewardForm(forms.ModelForm):
    """A reward as it would be offered: its cost, what it gives, its limits."""

    class Meta:
        model = Reward
        fields = ["kind", "points_cost", "value", "product", "stock", "per_member_limit"]
        labels = {
            "points_cost": _("Cost in points"),
            "value": _("Amount off (for a fixed discount)"),
            "product": _("Free product (for a free product)"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        product_model = get_model("catalogue", "Product")
        cast(
            forms.ModelChoiceField, self.fields["product"]
        ).queryset = product_model.objects.exclude(structure=product_model.PARENT).order_by("title")

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("kind") == RewardKind.DISCOUNT and not cleaned.get("value"):
            self.add_error("value", _("Enter the amount off, more than zero."))
        if cleaned.get("kind") == RewardKind.FREE_PRODUCT and not cleaned.get("product"):
            self.add_error("product", _("Choose the product the member gets for free."))
        return cleaned
