import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _
from oscar.apps.checkout.forms import *  # noqa: F403


class PickupSlotForm(forms.Form):
    """The start of one of the store's slots (ISO 8601); the view checks it is still free."""

    slot = forms.CharField(
        error_messages={"required": _("Please choose a pickup time.")},
    )

    def __init__(self, *args, slots=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.slots = {slot.starts_at: slot for slot in slots}

    def clean_slot(self):
        raw = self.cleaned_data["slot"]
        try:
            starts_at = dt.datetime.fromisoformat(raw)
        except ValueError:
            raise forms.ValidationError(_("Please choose a pickup time from the list.")) from None
        if starts_at.tzinfo is None:
            raise forms.ValidationError(_("Please choose a pickup time from the list."))
        return starts_at


class PointsForm(forms.Form):
    """How many loyalty points to use on this order (0: none); the rules are checked by
    loyalty.services.redemption against the member's balance and the order total."""

    points = forms.IntegerField(label=_("Points to use"), min_value=0, required=False)


class PaymentMethodForm(forms.Form):
    """One of the payment methods offered for this checkout (shop.payment.methods)."""

    method = forms.ChoiceField(
        label=_("How do you want to pay?"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Please choose how you want to pay."),
            "invalid_choice": _("That way of paying is not offered for this order."),
        },
    )

    def __init__(self, *args, methods=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.methods = list(methods)
        field = self.fields["method"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(m.code, m.name) for m in self.methods]
