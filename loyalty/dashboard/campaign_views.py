"""Campaign pages: the list, the editor, a campaign's figures and actions, the preview,
the attribution report and its CSV."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import generic

from loyalty.attribution import MODEL_LABELS, MODELS
from loyalty.attribution_report import campaign_attribution
from loyalty.dashboard.campaign_forms import CampaignForm, message_forms, token_help
from loyalty.models import Campaign, CampaignStatus, Member
from loyalty.segments import SegmentRulesError
from loyalty.selectors import campaigns_with_counts, segment_members
from loyalty.services.campaigns import (
    CampaignError,
    campaign_cancel,
    campaign_counts,
    campaign_launch,
    campaign_pause,
    campaign_preview,
    campaign_problems,
    campaign_resume,
    campaign_save,
    campaign_test_send,
)


class CampaignListView(generic.ListView):
    """Every campaign with its status and figures (one query)."""

    template_name = "loyalty/dashboard/campaign_list.html"
    context_object_name = "campaigns"
    paginate_by = 50

    def get_queryset(self):
        return campaigns_with_counts()


class CampaignEditView(generic.TemplateView):
    """Create (no pk) or change a draft: settings and the message in each language."""

    template_name = "loyalty/dashboard/campaign_form.html"

    def get_campaign(self) -> Campaign | None:
        pk = self.kwargs.get("pk")
        return get_object_or_404(Campaign, pk=pk) if pk is not None else None

    def _render(self, campaign, form, languages):
        return self.render_to_response(
            self.get_context_data(
                campaign=campaign, form=form, languages=languages, token_help=token_help()
            )
        )

    def get(self, request, *args, **kwargs):
        campaign = self.get_campaign()
        if campaign is not None and campaign.status != CampaignStatus.DRAFT:
            return redirect("loyalty_dashboard:loyalty-campaign-detail", pk=campaign.pk)
        form = CampaignForm(instance=campaign)
        return self._render(campaign, form, message_forms(campaign=campaign))

    def post(self, request, *args, **kwargs):
        campaign = self.get_campaign()
        form = CampaignForm(request.POST, instance=campaign)
        languages = message_forms(request.POST, campaign=campaign)
        valid = form.is_valid()
        valid = all([valid, *(message.is_valid() for _code, _name, message in languages)])
        if not valid:
            return self._render(campaign, form, languages)
        try:
            campaign = campaign_save(
                campaign=campaign,
                fields={name: form.cleaned_data[name] for name in CampaignForm.Meta.fields},
                messages={code: message.cleaned_data for code, _name, message in languages},
                user=request.user,
            )
        except CampaignError as exc:
            messages.error(request, exc.message)
            return redirect("loyalty_dashboard:loyalty-campaign-list")
        messages.success(request, _("Campaign “%(name)s” saved.") % {"name": campaign.name})
        return redirect("loyalty_dashboard:loyalty-campaign-detail", pk=campaign.pk)


class CampaignDetailView(generic.DetailView):
    """A campaign's settings, figures and what can be done with it now."""

    model = Campaign
    template_name = "loyalty/dashboard/campaign_detail.html"
    context_object_name = "campaign"

    def get_queryset(self):
        return Campaign.objects.select_related("segment", "reward_offer")

    def get_context_data(self, **kwargs):
        campaign = self.object
        return super().get_context_data(
            counts=campaign_counts(campaign=campaign),
            problems=campaign_problems(campaign=campaign)
            if campaign.status == CampaignStatus.DRAFT
            else [],
            campaign_messages=list(campaign.messages.all()),
            **kwargs,
        )


class CampaignPreviewView(generic.DetailView):
    """GET: the campaign as a chosen member (number or email; by default a member of its
    segment) would get it on each channel, with their real data. Writes nothing."""

    model = Campaign
    template_name = "loyalty/dashboard/campaign_preview.html"
    context_object_name = "campaign"

    def _member(self, campaign: Campaign) -> Member | None:
        wanted = (self.request.GET.get("member") or "").strip()
        members = Member.objects.select_related("user")
        if wanted:
            return members.filter(Q(number=wanted) | Q(user__email__iexact=wanted)).first()
        try:
            return segment_members(segment=campaign.segment).select_related("user").first()
        except SegmentRulesError:
            return None

    def get_context_data(self, **kwargs):
        campaign = self.object
        member = self._member(campaign)
        language = self.request.GET.get("language") or None
        preview, error = None, ""
        if member is None:
            error = _("No member found: enter a member number or email address.")
        else:
            try:
                preview = campaign_preview(campaign=campaign, member=member, language=language)
            except CampaignError as exc:
                error = exc.message
        return super().get_context_data(
            member=member,
            preview=preview,
            error=error,
            wanted=self.request.GET.get("member", ""),
            **kwargs,
        )


class CampaignTestSendView(generic.View):
    """POST: the campaign by email to the marketer's own address only."""

    def post(self, request, pk: int):
        campaign = get_object_or_404(Campaign, pk=pk)
        try:
            campaign_test_send(campaign=campaign, user=request.user)
        except CampaignError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("A test was sent to %(email)s.") % {"email": request.user.email}
            )
        return redirect("loyalty_dashboard:loyalty-campaign-detail", pk=campaign.pk)


class CampaignStatusView(generic.View):
    """POST action=launch|pause|resume|cancel."""

    actions = {
        "launch": (
            lambda c, user: campaign_launch(campaign=c, by=user),
            gettext_lazy("Campaign launched."),
        ),
        "pause": (lambda c, user: campaign_pause(campaign=c), gettext_lazy("Campaign paused.")),
        "resume": (lambda c, user: campaign_resume(campaign=c), gettext_lazy("Campaign resumed.")),
        "cancel": (
            lambda c, user: campaign_cancel(campaign=c),
            gettext_lazy("Campaign cancelled."),
        ),
    }

    def post(self, request, pk: int):
        campaign = get_object_or_404(Campaign, pk=pk)
        action = self.actions.get(request.POST.get("action", ""))
        if action is None:
            raise Http404(_("Unknown action."))
        run, done = action
        try:
            run(campaign, request.user)
        except CampaignError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, done)
        return redirect("loyalty_dashboard:loyalty-campaign-detail", pk=campaign.pk)


class CampaignAttributionView(generic.DetailView):
    """GET, marketers: which orders the campaign brought under each attribution model, the
    lift against its control group, and both per store (README.md "Attribution")."""

    model = Campaign
    template_name = "loyalty/dashboard/campaign_attribution.html"
    context_object_name = "campaign"

    def get_context_data(self, **kwargs):
        report = campaign_attribution(campaign=self.object)
        return super().get_context_data(
            report=report,
            model_labels=[MODEL_LABELS[model] for model in MODELS],
            **kwargs,
        )


class CampaignAttributionCsvView(generic.DetailView):
    """GET, marketers: the attribution report's orders as CSV, one row per order with its
    share under each model."""

    model = Campaign

    def render_to_response(self, context, **response_kwargs):
        report = campaign_attribution(campaign=self.object)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="attribution-{self.object.utm_campaign}.csv"'
        )
        writer = csv.writer(response)
        writer.writerow(
            [
                _("Order"),
                _("Placed"),
                _("Amount"),
                _("Member"),
                _("Store"),
                _("Click & collect"),
                *[MODEL_LABELS[model] for model in MODELS],
            ]
        )
        for order in report.orders:
            writer.writerow(
                [
                    order.number,
                    order.placed_at.isoformat(),
                    order.amount,
                    order.member_number,
                    order.store,
                    int(order.click_and_collect),
                    *[f"{share:.4f}" for share in order.share_list()],
                ]
            )
        return response
