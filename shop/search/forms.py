from django import forms
from django.utils.translation import gettext_lazy as _


class SearchInput(forms.TextInput):
    input_type = "search"


MAX_QUERY_LENGTH = 200


class ProductSearchForm(forms.Form):
    """The search box and the sort order of product listings (GET, never saved).

    A query longer than MAX_QUERY_LENGTH (a pasted paragraph, a crafted URL) is cut at the
    last whole word within it and searched; `query_shortened` tells the page to say so,
    rather than the form turning invalid and the page listing every product.
    """

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
        label=_("Search"),
        widget=SearchInput(
            attrs={
                "placeholder": _("Search products"),
                "class": "form-control",
                "autocomplete": "off",
                "enterkeyhint": "search",
                "maxlength": MAX_QUERY_LENGTH,
            }
        ),
    )
    sort_by = forms.ChoiceField(
        label=_("Sort by"),
        choices=SORT_BY_CHOICES,
        required=False,
        widget=forms.Select(attrs={"class": "form-control", "data-autosubmit": "true"}),
    )

    query_shortened = False

    def clean_q(self) -> str:
        query = " ".join(self.cleaned_data["q"].split())
        if len(query) > MAX_QUERY_LENGTH:
            cut = query[: MAX_QUERY_LENGTH + 1].rsplit(" ", 1)[0]
            query = cut if 0 < len(cut) <= MAX_QUERY_LENGTH else query[:MAX_QUERY_LENGTH]
            self.query_shortened = True
        return query

    @property
    def query(self) -> str:
        if self.is_valid():
            return self.cleaned_data["q"]
        return ""

    @property
    def sort(self) -> str:
        if self.is_valid() and self.cleaned_data["sort_by"]:
            return self.cleaned_data["sort_by"]
        return self.RELEVANCY
