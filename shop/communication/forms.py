from django import forms
from django.utils.translation import gettext_lazy as _

from .preferences import phone_normalise


class NotificationSettingsForm(forms.Form):
    """Service channels (order and pickup updates) and marketing consent per channel."""

    email = forms.BooleanField(label=_("Email"), required=False)
    sms = forms.BooleanField(label=_("SMS"), required=False)
    push = forms.BooleanField(label=_("Notifications on my phone"), required=False)
    phone_number = forms.CharField(
        label=_("Mobile number"),
        required=False,
        max_length=25,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        help_text=_("International format, e.g. +33 6 12 34 56 78"),
    )
    marketing_email = forms.BooleanField(label=_("Offers by email"), required=False)
    marketing_sms = forms.BooleanField(label=_("Offers by SMS"), required=False)
    marketing_push = forms.BooleanField(label=_("Offers as notifications"), required=False)

    def clean_phone_number(self) -> str:
        value = self.cleaned_data["phone_number"].strip()
        if not value:
            return ""
        try:
            return phone_normalise(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        if data.get("sms") and not data.get("phone_number"):
            self.add_error("phone_number", _("SMS needs a mobile number."))
        if not (data.get("email") or data.get("sms") or data.get("push")):
            raise forms.ValidationError(
                _("Choose at least one way to hear about your orders and pickups.")
            )
        if data.get("marketing_sms") and not data.get("phone_number"):
            self.add_error("phone_number", _("Offers by SMS need a mobile number."))
        return data
