"""Store staff's pickup queue, scoped to their own stores (R38: 404 for anything else).

HQ (superusers, or staff holding stores.change_pickup) see every store.
Partner users with Oscar's `partner.dashboard_access` see only the stores
of their partners. Every change is a POST with CSRF (R40).
"""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST
from oscar.templatetags.currency_filters import currency

from stores.models import (
    ExceptionalDay,
    ExceptionalPeriod,
    OpeningPeriod,
    PickupStatus,
    Service,
    Store,
)
from stores.selectors import (
    order_amounts,
    pickups_visible_to,
    stores_visible_to,
    works_in_stores,
)
from stores.services import (
    ACTIVE,
    PickupCodeInvalid,
    PickupTransitionError,
    pickup_cancel,
    pickup_hand_over,
    pickup_mark_preparing,
    pickup_mark_ready,
)


def store_staff_required(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not works_in_stores(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
@store_staff_required
def queue(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    pickups = pickups_visible_to(request.user)
    if status in PickupStatus.values:
        pickups = pickups.filter(status=status)
    else:
        pickups = pickups.filter(status__in=ACTIVE)
    # Customers waiting at the counter first, then by slot.
    pickups = pickups.order_by(
        F("customer_arrived_at").asc(nulls_last=True), "slot__starts_at"
    ).prefetch_related("order__sources__source_type")
    return render(
        request,
        "stores/dashboard/queue.html",
        {"pickups": pickups[:200], "status": status, "statuses": PickupStatus.choices},
    )


@require_GET
@store_staff_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    pickup = get_object_or_404(pickups_visible_to(request.user), pk=pk)
    lines = pickup.order.lines.all()
    return render(
        request,
        "stores/dashboard/detail.html",
        {"pickup": pickup, "lines": lines, "amounts": order_amounts(order=pickup.order)},
    )


@require_POST
@store_staff_required
def change_status(request: HttpRequest, pk: int) -> HttpResponse:
    pickup = get_object_or_404(pickups_visible_to(request.user), pk=pk)
    action, now = request.POST.get("action", ""), timezone.now()
    due = order_amounts(order=pickup.order).due_at_pickup
    try:
        if action == "preparing":
            pickup_mark_preparing(pickup=pickup)
        elif action == "ready":
            pickup_mark_ready(pickup=pickup, now=now)
        elif action == "collected":
            pickup_hand_over(pickup=pickup, code=request.POST.get("code", ""), now=now)
        elif action == "uncollected":
            pickup_cancel(pickup=pickup, now=now, status=PickupStatus.UNCOLLECTED)
        elif action == "cancelled":
            pickup_cancel(pickup=pickup, now=now)
        else:
            messages.error(request, _("Unknown action."))
            return redirect("stores-dashboard:detail", pk=pickup.pk)
    except (PickupTransitionError, PickupCodeInvalid) as exc:
        messages.error(request, str(exc))
        return redirect("stores-dashboard:detail", pk=pickup.pk)
    done = _("Order %(number)s: %(status)s.") % {
        "number": pickup.order.number,
        "status": pickup.get_status_display(),
    }
    if action == "collected" and due:
        done += " " + _("%(amount)s taken at pickup.") % {
            "amount": currency(due, pickup.order.currency)
        }
    messages.success(request, done)
    return redirect("stores-dashboard:detail", pk=pickup.pk)


# --- A store's own details, hours and closures --------------------------------------------


class StoreDetailsForm(forms.ModelForm):
    services = forms.MultipleChoiceField(
        choices=Service.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = Store
        fields = [
            "phone",
            "email",
            "services",
            "pickup_enabled",
            "preparation_minutes",
            "slot_minutes",
            "slot_capacity",
        ]


OpeningPeriodFormSet: type[
    forms.BaseInlineFormSet[OpeningPeriod, Store, forms.ModelForm[OpeningPeriod]]
] = forms.inlineformset_factory(
    Store, OpeningPeriod, fields=["weekday", "opens", "closes"], extra=2, can_delete=True
)


class ExceptionalDayForm(forms.ModelForm):
    """A date with its own hours: periods typed as "10:00-12:00, 14:00-18:00"; none is closed."""

    periods = forms.CharField(
        label=_lazy("Opening periods"),
        required=False,
        help_text=_lazy("Empty: closed all day. Example: 10:00-12:00, 14:00-18:00"),
    )

    class Meta:
        model = ExceptionalDay
        fields = ["date", "reason"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["periods"] = ", ".join(str(p) for p in self.instance.periods.all())

    def clean_periods(self) -> list[tuple[dt.time, dt.time]]:
        """Periods inside the day (opens before closes), sorted, none overlapping."""
        periods = []
        for text in filter(
            None, (part.strip() for part in self.cleaned_data["periods"].split(","))
        ):
            try:
                opens, closes = (dt.time.fromisoformat(t.strip()) for t in text.split("-"))
            except ValueError:
                raise forms.ValidationError(
                    _("“%(text)s” is not a period like 10:00-12:00.") % {"text": text}
                ) from None
            if closes <= opens:
                raise forms.ValidationError(
                    _("%(text)s: a period on a date must close after it opens, the same day.")
                    % {"text": text}
                )
            periods.append((opens, closes))
        periods.sort()
        for (_opens, closes), (next_opens, _closes) in zip(periods, periods[1:], strict=False):
            if next_opens < closes:
                raise forms.ValidationError(_("Periods on the same date must not overlap."))
        return periods

    def save(self, commit: bool = True) -> ExceptionalDay:
        day = super().save(commit=commit)
        if commit:
            # The date's periods are replaced as a whole; the view saves in one transaction.
            day.periods.all().delete()
            ExceptionalPeriod.objects.bulk_create(
                ExceptionalPeriod(day=day, opens=opens, closes=closes)
                for opens, closes in self.cleaned_data["periods"]
            )
        return day


ExceptionalDayFormSet = forms.inlineformset_factory(
    Store, ExceptionalDay, form=ExceptionalDayForm, extra=1, can_delete=True
)


@require_GET
@store_staff_required
def store_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "stores/dashboard/store_list.html", {"stores": stores_visible_to(request.user)}
    )


@store_staff_required
def store_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Contact, services, pickup settings, weekly hours and closed days of one store."""
    store = get_object_or_404(stores_visible_to(request.user), pk=pk)
    data = request.POST if request.method == "POST" else None
    form = StoreDetailsForm(data, instance=store)
    hours = OpeningPeriodFormSet(data, instance=store, prefix="hours")
    closures = ExceptionalDayFormSet(data, instance=store, prefix="closures")
    if request.method == "POST":
        if form.is_valid() and hours.is_valid() and closures.is_valid():
            with transaction.atomic():
                form.save()
                hours.save()
                closures.save()
            messages.success(request, _("%(store)s saved.") % {"store": store.name})
            return redirect("stores-dashboard:store", pk=store.pk)
    elif request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(
        request,
        "stores/dashboard/store_edit.html",
        {"store": store, "form": form, "hours": hours, "closures": closures},
    )
