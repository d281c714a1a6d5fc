"""The Stock page: store staff set their own store's quantities (and prices, if allowed).

README, "Store stock and catalogue content". Store staff (Oscar's partner.dashboard_access
and among the users of their store's partner) see and change only their stores' stock
records, 404 for any other; HQ (superusers, staff holding partner.change_stockrecord) see
every store with a store filter. Products, categories and descriptions stay with catalogue
managers in Oscar's catalogue dashboard. Writes go through stores.services.stock_set; every
change is a POST with CSRF (R40).
"""

from functools import wraps
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET
from modeltranslation.utils import build_localized_fieldname

from stores.models import Store
from stores.selectors import stock_hq, stock_prices_settable_by, stockrecords_visible_to
from stores.services import (
    PRICE_MAX,
    STOCK_MAX,
    StockChangeRefused,
    StockRecordNotFound,
    stock_set,
)

PER_PAGE = 25
SEARCH_MAX_LENGTH = 100


def stock_staff_required(view):
    """Signed-in HQ or store staff; anyone else signed in gets a 404, anonymous the login."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (stock_hq(request.user) or request.user.has_perm("partner.dashboard_access")):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _stores_of(user) -> QuerySet[Store]:
    if stock_hq(user):
        return Store.objects.order_by("name")
    return Store.objects.filter(partner__users=user).order_by("name")


class StockForm(forms.Form):
    """One stock record's quantity, and its price when the user may set prices."""

    num_in_stock = forms.IntegerField(
        label=_lazy("In stock"), min_value=0, max_value=STOCK_MAX, widget=forms.NumberInput
    )
    price = forms.DecimalField(
        label=_lazy("Price"),
        min_value=0,
        max_value=PRICE_MAX,
        max_digits=12,
        decimal_places=2,
        required=False,
        help_text=_lazy("Empty: unchanged."),
    )

    def __init__(self, *args, record, can_set_price: bool, **kwargs) -> None:
        self.record = record
        super().__init__(*args, **kwargs)
        if not can_set_price:
            del self.fields["price"]
        prefix = f"stock-{record.pk}"
        for name, field in self.fields.items():
            field.widget.attrs.update({"id": f"{prefix}-{name}", "class": "form-control"})
        self.fields["num_in_stock"].widget.attrs.update({"inputmode": "numeric", "step": 1})
        if "price" in self.fields:
            self.fields["price"].widget.attrs.update({"inputmode": "decimal", "step": "0.01"})

    def clean_num_in_stock(self) -> int:
        # Early, friendly check; stock_set re-checks under the row's latest state.
        value = self.cleaned_data["num_in_stock"]
        allocated = self.record.num_allocated or 0
        if value < allocated:
            raise forms.ValidationError(
                _(
                    "%(allocated)d units are allocated to orders not yet shipped or "
                    "collected: stock can't be set below that."
                )
                % {"allocated": allocated},
                code="below_allocated",
            )
        return value


def _initial(record) -> dict:
    return {"num_in_stock": record.num_in_stock, "price": record.price}


def _search(records: QuerySet, query: str) -> QuerySet:
    """Title in any language (the page may be in French, the product known by its English
    name: README "Languages"), the parent's title, or the SKU."""
    if not query:
        return records
    match = Q(partner_sku__icontains=query)
    for code, _name in settings.LANGUAGES:
        title = build_localized_fieldname("title", code)
        match |= Q(**{f"product__{title}__icontains": query})
        match |= Q(**{f"product__parent__{title}__icontains": query})
    return records.filter(match)


@require_GET
@stock_staff_required
def stock_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    stores = list(_stores_of(user))
    records = _search(stockrecords_visible_to(user=user), query)
    chosen_store = None
    store_id = request.GET.get("store", "")
    if store_id.isdigit():
        chosen_store = next((s for s in stores if s.pk == int(store_id)), None)
        if chosen_store is not None:
            records = records.filter(partner__store=chosen_store)
    records = records.order_by("product__title", "partner__name", "pk")
    page = Paginator(records, PER_PAGE).get_page(request.GET.get("page"))
    can_set_price = stock_prices_settable_by(user=user)
    rows = [
        (record, StockForm(initial=_initial(record), record=record, can_set_price=can_set_price))
        for record in page.object_list
    ]
    filters = {
        key: value
        for key, value in (("q", query), ("store", chosen_store and chosen_store.pk))
        if value
    }
    return render(
        request,
        "stores/dashboard/stock_list.html",
        {
            "page": page,
            "rows": rows,
            "query": query,
            "stores": stores,
            "chosen_store": chosen_store,
            "show_store_filter": len(stores) > 1,
            "can_set_price": can_set_price,
            "filters": urlencode(filters),
            "here": request.get_full_path(),
        },
    )


def _next(request: HttpRequest) -> str:
    """The list page the form came from (kept on errors and returned to), if it is ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


@stock_staff_required
def stock_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """One stock record: GET shows its form, POST saves it (errors on this page, status 200)."""
    user = request.user
    record = get_object_or_404(stockrecords_visible_to(user=user), pk=pk)
    can_set_price = stock_prices_settable_by(user=user)
    if request.method == "POST":
        form = StockForm(request.POST, record=record, can_set_price=can_set_price)
        if form.is_valid():
            try:
                stock_set(
                    stockrecord_id=record.pk,
                    num_in_stock=form.cleaned_data["num_in_stock"],
                    price=form.cleaned_data.get("price"),
                    user=user,
                )
            except StockRecordNotFound:
                raise Http404 from None
            except StockChangeRefused as exc:
                form.add_error(exc.field, str(exc))
                record.refresh_from_db()
            else:
                messages.success(
                    request,
                    _("%(product)s at %(partner)s saved.")
                    % {"product": record.product.get_title(), "partner": record.partner.name},
                )
                return redirect(_next(request) or reverse("stores-dashboard:stock"))
    elif request.method == "GET":
        form = StockForm(initial=_initial(record), record=record, can_set_price=can_set_price)
    else:
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(
        request,
        "stores/dashboard/stock_edit.html",
        {
            "record": record,
            "form": form,
            "can_set_price": can_set_price,
            "next": _next(request),
        },
    )
