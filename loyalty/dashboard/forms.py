from typing import cast

from django import forms
from django.apps import apps
from django.db import models
from django.utils.translation import gettext_lazy as _

from loyalty.models import (
    AdjustmentCategory,
    AdjustmentDirection,
    EarningRule,
    Multiplier,
    TierLevel,
)
from loyalty.selectors import earning_rule
from loyalty.services.members import member_number_is_valid


class EarningRuleForm(forms.ModelForm):
    class Meta:
        model = EarningRule
        fields = [
            "points_per_unit",
            "rounding",
            "click_collect_bonus",
            "signup_bonus",
            "first_order_bonus",
            "review_bonus",
            "birthday_bonus",
            "point_value",
            "redeem_min_points",
            "redeem_max_share",
            "gift_sent_daily_points",
            "gift_sent_monthly_points",
            "gift_received_daily_points",
            "gift_received_monthly_points",
        ]

    # Shown under their own heading (rules.html); the model validates them, with messages
    # that say what to enter, and the database refuses what slips past.
    REDEMPTION_FIELDS = ("point_value", "redeem_min_points", "redeem_max_share")
    # Gifts between members (R23).
    GIFT_FIELDS = (
        "gift_sent_daily_points",
        "gift_sent_monthly_points",
        "gift_received_daily_points",
        "gift_received_monthly_points",
    )

    def earning_fields(self):
        return [
            field for field in self if field.name not in self.REDEMPTION_FIELDS + self.GIFT_FIELDS
        ]

    def redemption_fields(self):
        return [self[name] for name in self.REDEMPTION_FIELDS]

    def gift_fields(self):
        return [self[name] for name in self.GIFT_FIELDS]


class MultiplierForm(forms.ModelForm):
    class Meta:
        model = Multiplier
        fields = ["name", "category", "range", "factor", "is_active"]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        # Mirrors the database constraint, with a message a marketer understands.
        if bool(cleaned.get("category")) == bool(cleaned.get("range")):
            raise forms.ValidationError(_("Choose either a category or a range, not both."))
        return cleaned


class TierLevelForm(forms.ModelForm):
    class Meta:
        model = TierLevel
        fields = ["min_spend", "min_points", "points_multiplier", "discount_percent"]


class MemberLookupForm(forms.Form):
    number = forms.CharField(
        label=_("Member number"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autofocus": True, "inputmode": "numeric", "autocomplete": "off"}
        ),
        help_text=_("Scan the member card or type the number."),
    )

    def clean_number(self):
        # Scanners and people add spaces; the Luhn digit catches a mistyped number.
        number = "".join(self.cleaned_data["number"].split())
        if not member_number_is_valid(number):
            raise forms.ValidationError(_("This is not a valid member number."))
        return number


# The largest value a PostgreSQL integer column holds: anything above is a form error
# long before the marketers' bound (EarningRule.counter_max_points) is even looked at.
INT_MAX = 2**31 - 1


class CounterAdjustForm(forms.Form):
    """Award or take points at the counter (loyalty.services.adjustments)."""

    number = forms.CharField(widget=forms.HiddenInput, max_length=20)
    direction = forms.ChoiceField(label=_("Action"), choices=AdjustmentDirection.choices)
    points = forms.IntegerField(label=_("Points"), min_value=1, max_value=INT_MAX)
    category = forms.ChoiceField(label=_("Reason category"), choices=AdjustmentCategory.choices)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("What happened, in a few words: the receipt number, the complaint…"),
    )
    store: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Store"), queryset=None, required=False, empty_label=_("Head office")
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        partner_model = apps.get_model("partner", "Partner")
        store = cast(forms.ModelChoiceField, self.fields["store"])
        if user.is_staff:
            store.queryset = partner_model.objects.order_by("name")
        else:
            # Store staff adjust only at the counter of a store they work for.
            store.queryset = user.partners.order_by("name")
            store.required = True
            store.empty_label = None
        self.rule = earning_rule()
        self.fields["points"].help_text = _(
            "At most %(max)s; above %(threshold)s a second person must approve."
        ) % {
            "max": self.rule.counter_max_points,
            "threshold": self.rule.counter_approval_threshold,
        }

    def clean_points(self):
        points = self.cleaned_data["points"]
        if points > self.rule.counter_max_points:
            raise forms.ValidationError(
                _("At most %(max)s points per adjustment.") % {"max": self.rule.counter_max_points}
            )
        return points

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Give a reason for this adjustment."))
        return reason


class AdjustmentDecisionForm(forms.Form):
    APPROVE, REJECT = "approve", "reject"
    action = forms.ChoiceField(choices=[(APPROVE, _("Approve")), (REJECT, _("Reject"))])
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class CounterLimitsForm(forms.ModelForm):
    """The marketers' bounds on adjustments at the counter (mirrors the CHECKs)."""

    class Meta:
        model = EarningRule
        fields = ["counter_max_points", "counter_daily_points", "counter_approval_threshold"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The model's range validators, run before clean() compares the fields.
        for name, field in self.fields.items():
            model_field = cast(models.Field, EarningRule._meta.get_field(name))
            field.validators = [*field.validators, *model_field.validators]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        most = cleaned.get("counter_max_points")
        daily = cleaned.get("counter_daily_points")
        threshold = cleaned.get("counter_approval_threshold")
        if most is not None and daily is not None and daily < most:
            self.add_error(
                "counter_daily_points",
                _("A day must allow at least one adjustment of the most points."),
            )
        if most is not None and threshold is not None and threshold > most:
            self.add_error(
                "counter_approval_threshold",
                _("Enter at most the most points per adjustment."),
            )
        return cleaned
