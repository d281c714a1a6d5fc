"""Reward pages for marketers: the list, create, edit, pause and resume (README, "Rewards")."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import generic

from loyalty.dashboard.reward_forms import RewardForm
from loyalty.models import Reward
from loyalty.selectors import rewards_for_dashboard
from loyalty.services.errors import LoyaltyError
from loyalty.services.rewards import reward_save, reward_set_active


class RewardListView(generic.ListView):
    """Every reward with its stock and redemptions, in one query."""

    template_name = "loyalty/dashboard/reward_list.html"
    context_object_name = "rewards"

    def get_queryset(self):
        return rewards_for_dashboard()


class RewardEditView(generic.TemplateView):
    """Create (no pk) or edit a reward."""

    template_name = "loyalty/dashboard/reward_form.html"

    def _reward(self) -> Reward | None:
        pk = self.kwargs.get("pk")
        return get_object_or_404(Reward, pk=pk) if pk is not None else None

    def get(self, request, *args, **kwargs):
        reward = self._reward()
        return self.render_to_response(
            self.get_context_data(form=RewardForm(instance=reward), reward=reward)
        )

    def post(self, request, *args, **kwargs):
        reward = self._reward()
        form = RewardForm(request.POST, instance=reward)
        if form.is_valid():
            try:
                saved = reward_save(
                    reward=form.instance,
                    fields=form.fields_to_save(),
                    stock_seen=form.cleaned_data.get("stock_seen"),
                )
            except LoyaltyError as exc:
                if reward is None:
                    raise
                # Show the stock as it is now; saving again writes the marketer's figure.
                data = request.POST.copy()
                current = Reward.objects.get(pk=reward.pk).stock
                data["stock_seen"] = "" if current is None else str(current)
                form = RewardForm(data, instance=Reward.objects.get(pk=reward.pk))
                form.is_valid()
                form.add_error("stock", exc.message)
            else:
                messages.success(
                    request,
                    (
                        _("Reward created: %(name)s.")
                        if reward is None
                        else _("Reward saved: %(name)s.")
                    )
                    % {"name": saved.name},
                )
                return redirect("loyalty_dashboard:loyalty-reward-list")
        return self.render_to_response(self.get_context_data(form=form, reward=reward))


class RewardStatusView(generic.View):
    """POST `active=1` to resume a reward, `active=0` to pause it."""

    def post(self, request, pk):
        reward = get_object_or_404(Reward, pk=pk)
        active = request.POST.get("active")
        if active not in ("0", "1"):
            messages.error(request, _("Choose to pause or to resume the reward."))
        else:
            reward_set_active(reward=reward, active=active == "1")
            messages.success(
                request,
                (
                    _("%(name)s is active again: members can redeem it.")
                    if reward.is_active
                    else _("%(name)s is paused: members cannot redeem it until you resume it.")
                )
                % {"name": reward.name},
            )
        return redirect(reverse("loyalty_dashboard:loyalty-reward-list"))
