from django import forms
from django.utils.translation import gettext_lazy as _


class SearchInput(forms.TextInput):
    input_type = "search"


class ProductSearchForm(forms.Form):
    """The search box and the sort order of product listings (GET, never saved)."""

    RELEVANCY = "relevancy"
    NEWEST = "newest"
    PRICE_HIGH_TO_LOW = "price-desc"
    PRICE_LOW_TO_HIGH = "price-asc"
    TITLE_A_TO_Z = "title-asc"
    TITLE_Z_TO_A = "title-desc"
    SORT_BY_CHOICES = [
        (RELEVANCY, _("Relevancy")),
        (NEWEST, _("Newest")),
        (PRICE_LOW_TO_HIGH, _("Price low to high")),
        (PRICE_HIGH_TO_LOW, _("Price high to low")),
        (TITLE_A_TO_Z, _("Title A to Z")),
        (TITLE_Z_TO_A, _("Title Z to A")),
    ]

    q = forms.CharField(
        required=False,
        max_length=200,
        label=_("Search"),
        widget=SearchInput(
            attrs={
                "placeholder": _("Search products"),
                "class": "form-control",
                "autocomplete": "off",
                "enterkeyhint": "search",
            }
        ),
    )
    sort_by = forms.ChoiceField(
        label=_("Sort by"),
        choices=SORT_BY_CHOICES,
        required=False,
        widget=forms.Select(attrs={"class": "form-control", "data-autosubmit": "true"}),
    )

    @property
    def query(self) -> str:
        if self.is_valid():
            return " ".join(self.cleaned_data["q"].split())
        return ""

    @property
    def sort(self) -> str:
        if self.is_valid() and self.cleaned_data["sort_by"]:
            return self.cleaned_data["sort_by"]
        return self.RELEVANCY
