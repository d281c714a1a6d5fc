"""Thin dashboard views: forms in, services out."""

import uuid

from django.contrib import messages
from django.contrib.messages.views import SuccessMessageMixin
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views import generic

from loyalty.dashboard.forms import (
    CounterPointsForm,
    EarningRuleForm,
    MemberLookupForm,
    MultiplierForm,
    TierLevelForm,
)
from loyalty.models import EntryKind, Member, Multiplier, TierLevel
from loyalty.selectors import earning_rule
from loyalty.services.errors import LoyaltyError
from loyalty.services.ledger import points_credit, points_debit
from loyalty.services.tiers import tier_levels_ensure, tier_offer_sync


class EarningRuleUpdateView(SuccessMessageMixin, generic.UpdateView):
    success_message = _("Earning rules saved.")
    form_class = EarningRuleForm
    template_name = "loyalty/dashboard/rules.html"
    success_url = reverse_lazy("loyalty_dashboard:loyalty-rules")

    def get_object(self, queryset=None):
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


class CounterView(generic.TemplateView):
    """Store staff find a member by card or number, then award or redeem points."""

    template_name = "loyalty/dashboard/counter.html"

    def get_context_data(self, **kwargs):
        lookup = MemberLookupForm(self.request.GET or None)
        member = None
        if lookup.is_valid():
            member = (
                Member.objects.filter(number=lookup.cleaned_data["number"])
                .select_related("user")
                .first()
            )
            if member is None:
                lookup.add_error("number", _("No member has this number."))
        points_form = kwargs.pop("points_form", None) or CounterPointsForm(
            initial={"key": uuid.uuid4().hex}
        )
        return super().get_context_data(
            lookup=lookup,
            member=member,
            entries=member.entries.all()[:10] if member else [],
            points_form=points_form,
            **kwargs,
        )

    def post(self, request):
        member = get_object_or_404(Member, number=request.POST.get("number", ""))
        form = CounterPointsForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            move = points_credit if data["action"] == form.AWARD else points_debit
            try:
                move(
                    member=member,
                    amount=data["points"],
                    reason=data["reason"],
                    idempotency_key=f"counter:{member.pk}:{data['key']}",
                    kind=EntryKind.ADJUST,
                    staff=request.user,
                )
            except LoyaltyError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("Done: the balance is now %(balance)s points.") % {"balance": member.balance},
                )
                return redirect(
                    f"{reverse('loyalty_dashboard:loyalty-counter')}?number={member.number}"
                )
        self.request.GET = self.request.GET.copy()
        self.request.GET["number"] = member.number
        return self.render_to_response(self.get_context_data(points_form=form))
