from django import forms
from django.utils.translation import gettext_lazy as _


class AuditFilterForm(forms.Form):
    """Filters of the audit page; every field optional."""

    REQUESTS, ADJUSTMENTS = "requests", "adjustments"
    show = forms.ChoiceField(
        label=_("Show"),
        choices=[(REQUESTS, _("Staff requests")), (ADJUSTMENTS, _("Points adjustments"))],
        required=False,
    )
    actor = forms.CharField(label=_("Staff e-mail contains"), max_length=254, required=False)
    path = forms.CharField(label=_("Path or view contains"), max_length=200, required=False)
    method = forms.ChoiceField(
        label=_("Method"),
        choices=[
            ("", _("Any")),
            ("POST", "POST"),
            ("PUT", "PUT"),
            ("PATCH", "PATCH"),
            ("DELETE", "DELETE"),
        ],
        required=False,
    )
    status = forms.IntegerField(label=_("Status"), min_value=100, max_value=599, required=False)
    member = forms.CharField(label=_("Member number"), max_length=20, required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
