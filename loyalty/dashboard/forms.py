from django import forms
from django.utils.translation import gettext_lazy as _

from loyalty.models import EarningRule, Multiplier, TierLevel
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
        ]

    # Shown under their own heading (rules.html); the model validates them, with messages
    # that say what to enter, and the database refuses what slips past.
    REDEMPTION_FIELDS = ("point_value", "redeem_min_points", "redeem_max_share")

    def earning_fields(self):
        return [field for field in self if field.name not in self.REDEMPTION_FIELDS]

    def redemption_fields(self):
        return [self[name] for name in self.REDEMPTION_FIELDS]


class MultiplierForm(forms.ModelForm):
    class Meta:
        model = Multiplier
        fields = ["name", "category", "range", "factor", "is_active"]

    def clean(self):
        cleaned = super().clean()
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


class CounterPointsForm(forms.Form):
    AWARD, REDEEM = "award", "redeem"
    action = forms.ChoiceField(
        label=_("Action"), choices=[(AWARD, _("Award points")), (REDEEM, _("Redeem points"))]
    )
    points = forms.IntegerField(label=_("Points"), min_value=1)
    reason = forms.CharField(label=_("Reason"), max_length=200)
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)
