"""Forms of the member's own pages."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from loyalty.services.gifts import MESSAGE_MAX_LENGTH

# The largest value a PostgreSQL integer column holds.
INT_MAX = 2**31 - 1


class GiftForm(forms.Form):
    """Give points to another member (R23): the review step and the confirmed gift."""

    number = forms.CharField(
        label=_("Their member number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("The ten digits under the QR code of their member card."),
    )
    points = forms.IntegerField(label=_("Points to give"), min_value=1, max_value=INT_MAX)
    message = forms.CharField(
        label=_("Message (optional)"),
        max_length=MESSAGE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class GiftConfirmForm(GiftForm):
    # One key per review: a double tap on "Give" gives once.
    key = forms.RegexField(regex=r"^[0-9a-f]{32}$", widget=forms.HiddenInput)


class GiftLinkForm(forms.Form):
    """Set points aside in a link a friend accepts (R23)."""

    points = forms.IntegerField(label=_("Points to give"), min_value=1, max_value=INT_MAX)
    message = forms.CharField(
        label=_("Message (optional)"),
        max_length=MESSAGE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # One key per form shown: a double tap on "Create the link" makes one link.
    key = forms.RegexField(regex=r"^[0-9a-f]{32}$", widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        # Ids apart from GiftForm's, which is on the same page.
        kwargs.setdefault("auto_id", "id_link_%s")
        super().__init__(*args, **kwargs)

    @classmethod
    def fresh(cls) -> GiftLinkForm:
        """An empty form with a new key."""
        return cls(initial={"key": uuid.uuid4().hex})
