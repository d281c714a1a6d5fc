"""Thin dashboard views: forms in, services out."""

import math
import uuid

from django.contrib import messages
from django.contrib.messages.views import SuccessMessageMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views import generic
from django_ratelimit.core import get_usage

from loyalty.dashboard.forms import (
    AdjustmentDecisionForm,
    CounterAdjustForm,
    CounterLimitsForm,
    EarningRuleForm,
    MemberLookupForm,
    MultiplierForm,
    TierLevelForm,
)
from loyalty.models import Multiplier, PointsAdjustment, TierLevel
from loyalty.selectors import (
    adjustments_decided,
    adjustments_pending,
    earning_rule,
    member_at_counter,
)
from loyalty.services.adjustments import adjustment_decide, adjustment_request
from loyalty.services.errors import LoyaltyError
from loyalty.services.tiers import tier_levels_ensure, tier_offer_sync


class EarningRuleUpdateView(SuccessMessageMixin, generic.UpdateView):
    success_message = _("Earning rules saved.")
    form_class = EarningRuleForm
    template_name = "loyalty/dashboard/rules.html"
    success_url = reverse_lazy("loyalty_dashboard:loyalty-rules")

    def get_object(self, queryset=None):
        # The saved rule, or an unsaved one with the defaults that the form's save creates:
        # showing the page writes nothing (docs/guarantees.md R40).
        return earning_rule()


class MultiplierListView(generic.ListView):
    model = Multiplier
    template_name = "loyalty/dashboard/multiplier_list.html"
    context_object_name = "multipliers"

    def get_queryset(self):
        return Multiplier.objects.select_related("category", "range")


class MultiplierCreateView(SuccessMessageMixin, generic.CreateView):
    success_message = _("Multiplier created.")
    model = Multiplier
    form_class = MultiplierForm
    template_name = "loyalty/dashboard/multiplier_form.html"
    success_url = reverse_lazy("loyalty_dashboard:loyalty-multiplier-list")


class MultiplierUpdateView(SuccessMessageMixin, generic.UpdateView):
    success_message = _("Multiplier saved.")
    model = Multiplier
    form_class = MultiplierForm
    template_name = "loyalty/dashboard/multiplier_form.html"
    success_url = reverse_lazy("loyalty_dashboard:loyalty-multiplier-list")


class MultiplierDeleteView(SuccessMessageMixin, generic.DeleteView):
    success_message = _("Multiplier deleted.")
    model = Multiplier
    template_name = "loyalty/dashboard/multiplier_delete.html"
    success_url = reverse_lazy("loyalty_dashboard:loyalty-multiplier-list")


class TierListView(generic.TemplateView):
    template_name = "loyalty/dashboard/tier_list.html"

    def get_context_data(self, **kwargs):
        levels = tier_levels_ensure()
        return super().get_context_data(levels=list(levels.values()), **kwargs)


class TierUpdateView(generic.UpdateView):
    model = TierLevel
    form_class = TierLevelForm
    template_name = "loyalty/dashboard/tier_form.html"
    success_url = reverse_lazy("loyalty_dashboard:loyalty-tier-list")

    def form_valid(self, form):
        response = super().form_valid(form)
        # The basket discount is an Oscar offer: keep its benefit in step.
        tier_offer_sync(level=self.object)
        messages.success(self.request, _("Tier saved."))
        return response


# Lookups at the counter per member of staff (django-ratelimit, counted in the default
# cache: Redis in production), in hourly windows. A busy counter, where each customer
# costs two or three lookups (the page shown again after an adjustment counts), stays
# below it; a script walking through member numbers does not.
COUNTER_LOOKUP_GROUP = "loyalty-counter-lookup"
COUNTER_LOOKUP_RATE = "300/h"


def _too_many_lookups(request: HttpRequest) -> HttpResponse | None:
    """Count this lookup; the 429 page if the member of staff is over the rate, else None."""
    usage = get_usage(
        request,
        group=COUNTER_LOOKUP_GROUP,
        key="user",
        rate=COUNTER_LOOKUP_RATE,
        increment=True,
    )
    if usage is None or not usage["should_limit"]:
        return None
    wait = max(usage["time_left"], 1)
    response = render(
        request,
        "loyalty/dashboard/too_many_lookups.html",
        {"wait_minutes": max(math.ceil(wait / 60), 1)},
        status=429,
    )
    response["Retry-After"] = str(wait)
    return response


class CounterView(generic.TemplateView):
    """Staff find a member by card number: name, masked e-mail, balance, tier and the
    last movements; those allowed to adjust points get the adjustment form."""

    template_name = "loyalty/dashboard/counter.html"

    def get(self, request, *args, **kwargs):
        if request.GET.get("number") and (refused := _too_many_lookups(request)):
            return refused
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        lookup = MemberLookupForm(self.request.GET or None)
        found = None
        if lookup.is_valid():
            found = member_at_counter(number=lookup.cleaned_data["number"])
            if found is None:
                lookup.add_error("number", _("No member has this number."))
        return super().get_context_data(
            **_counter_context(self.request, lookup=lookup, found=found), **kwargs
        )


def _counter_context(request: HttpRequest, *, lookup, found, adjust_form=None) -> dict:
    can_adjust = request.user.has_perm("loyalty.adjust_points")
    if found is not None and can_adjust and adjust_form is None:
        adjust_form = CounterAdjustForm(
            user=request.user, initial={"number": found.number, "key": uuid.uuid4().hex}
        )
        stores = adjust_form.fields["store"].queryset
        if not request.user.is_staff and len(stores) == 1:
            adjust_form.initial["store"] = stores[0].pk
    return {
        "lookup": lookup,
        "found": found,
        "adjust_form": adjust_form if can_adjust else None,
    }


class CounterAdjustView(generic.View):
    """POST an adjustment from the counter: posted at once, or sent for approval."""

    def post(self, request):
        # A refused form shows the member again: it counts as a lookup.
        if refused := _too_many_lookups(request):
            return refused
        form = CounterAdjustForm(request.POST, user=request.user)
        found = member_at_counter(number=request.POST.get("number", "").strip())
        if found is None:
            raise Http404(_("No member has this number."))
        if form.is_valid():
            data = form.cleaned_data
            try:
                adjustment = adjustment_request(
                    member=found.member,
                    staff=request.user,
                    direction=data["direction"],
                    points=data["points"],
                    category=data["category"],
                    reason=data["reason"],
                    key=data["key"],
                    partner=data["store"],
                )
            except LoyaltyError as exc:
                form.add_error(None, exc.message)
            else:
                if adjustment.needs_approval:
                    messages.info(
                        request,
                        _(
                            "Sent for approval: a second person must approve adjustments "
                            "of more than %(threshold)s points."
                        )
                        % {"threshold": form.rule.counter_approval_threshold},
                    )
                else:
                    found.member.refresh_from_db(fields=["balance"])
                    messages.success(
                        request,
                        _("Done: the balance is now %(balance)s points.")
                        % {"balance": found.member.balance},
                    )
                return redirect(
                    f"{reverse('loyalty_dashboard:loyalty-counter')}?number={found.number}"
                )
        context = _counter_context(
            request, lookup=MemberLookupForm(), found=found, adjust_form=form
        )
        return render(request, "loyalty/dashboard/counter.html", context)


class AdjustmentListView(generic.TemplateView):
    """Adjustments waiting for a second person, and the latest decisions."""

    template_name = "loyalty/dashboard/adjustment_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            pending=adjustments_pending(),
            decided=adjustments_decided(),
            decision_form=AdjustmentDecisionForm(),
            **kwargs,
        )


class AdjustmentDecideView(generic.View):
    """POST approve or reject; never by the person who asked (the service refuses)."""

    def post(self, request, pk):
        adjustment = get_object_or_404(PointsAdjustment, pk=pk)
        form = AdjustmentDecisionForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose to approve or to reject."))
        else:
            approve = form.cleaned_data["action"] == form.APPROVE
            try:
                adjustment_decide(
                    adjustment=adjustment,
                    approver=request.user,
                    approve=approve,
                    note=form.cleaned_data["note"],
                )
            except LoyaltyError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    _("Adjustment approved: the points moved.")
                    if approve
                    else _("Adjustment rejected: no points moved."),
                )
        return redirect("loyalty_dashboard:loyalty-adjustment-list")


class CounterLimitsView(SuccessMessageMixin, generic.UpdateView):
    """Marketers set the bounds of adjustments at the counter."""

    success_message = _("Counter limits saved.")
    form_class = CounterLimitsForm
    template_name = "loyalty/dashboard/counter_limits.html"
    success_url = reverse_lazy("loyalty_dashboard:loyalty-counter-limits")

    def get_object(self, queryset=None):
        # The saved rule, or an unsaved one with the defaults that the form's save creates:
        # showing the page writes nothing (docs/guarantees.md R40).
        return earning_rule()
