import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _
from oscar.apps.checkout.forms import *  # noqa: F403


class PickupForm(forms.Form):
    """A store (by slug) and the start of a slot (ISO 8601), checked against what is offered."""

    store = forms.SlugField()
    slot = forms.CharField(required=False)

    def __init__(self, *args, stores=(), slots=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.stores = {store.slug: store for store in stores}
        self.slots = {slot.starts_at: slot for slot in slots}

    def clean_store(self):
        store = self.stores.get(self.cleaned_data["store"])
        if store is None:
            raise forms.ValidationError(_("This store cannot prepare your whole basket."))
        return store

    def clean_slot(self):
        raw = self.cleaned_data["slot"]
        if not raw:
            return None
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
        self.fields["method"].choices = [(m.code, m.name) for m in self.methods]
