"""The cost simulator page (README.md "Cost simulator"): marketers replay a proposed earning
rule or reward over past orders. GET only: the forms are read, nothing is written."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.views import generic

from loyalty.cost_simulation import earning_rule_simulate, reward_simulate
from loyalty.dashboard.simulator_forms import MonthsForm, SimulatedRewardForm, SimulatedRuleForm
from loyalty.models import EarningRule, Reward
from loyalty.selectors import earning_rule

RULE, REWARD = "rule", "reward"


class CostSimulatorView(generic.TemplateView):
    """Two forms on one page, each submitted by GET with `what` naming it: the forecast
    shows under the form that was sent."""

    template_name = "loyalty/dashboard/simulator.html"

    def get_context_data(self, **kwargs):
        params = self.request.GET
        what = params.get("what")
        current = earning_rule()
        # A copy: validating the form fills in the instance, which must not be the cached rule.
        proposed = EarningRule.objects.filter(pk=current.pk).first() or EarningRule()
        reward = Reward()
        if params.get("reward"):
            reward = get_object_or_404(Reward, pk=params.get("reward"))
        months_rule = MonthsForm(params if what == RULE else None, auto_id="id_rule_%s")
        months_reward = MonthsForm(params if what == REWARD else None, auto_id="id_reward_%s")
        months = months_reward if what == REWARD else months_rule
        rule_form = SimulatedRuleForm(
            params if what == RULE else None, instance=proposed, prefix=RULE
        )
        reward_form = SimulatedRewardForm(
            params if what == REWARD else None, instance=reward, prefix=REWARD
        )
        forecast = None
        if what == RULE and months.is_valid() and rule_form.is_valid():
            forecast = earning_rule_simulate(
                current=current, proposed=rule_form.instance, months=months.cleaned_data["months"]
            )
        elif what == REWARD and months.is_valid() and reward_form.is_valid():
            forecast = reward_simulate(
                reward=reward_form.instance, rule=current, months=months.cleaned_data["months"]
            )
        return super().get_context_data(
            what=what,
            months_rule=months_rule,
            months_reward=months_reward,
            rule_form=rule_form,
            reward_form=reward_form,
            reward_pk=reward.pk,
            forecast=forecast,
            current=current,
            **kwargs,
        )
