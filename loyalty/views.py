"""The member's own pages: thin views that call selectors and services."""

from __future__ import annotations

import io
import uuid

import segno
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View, generic

from loyalty.models import Reward
from loyalty.selectors import member_for_user, member_summary
from loyalty.services.earning import signup_bonus_award
from loyalty.services.errors import LoyaltyError
from loyalty.services.members import member_enrol
from loyalty.services.referrals import REFERRAL_SESSION_KEY, referral_apply
from loyalty.services.rewards import reward_redeem


class MemberView(LoginRequiredMixin, generic.TemplateView):
    template_name = "loyalty/member.html"

    def get_context_data(self, **kwargs):
        summary = member_summary(user=self.request.user)
        share_url = None
        if summary is not None:
            share_url = self.request.build_absolute_uri(
                reverse("loyalty:referral", kwargs={"code": summary.member.referral_code})
            )
        return super().get_context_data(
            summary=summary,
            share_url=share_url,
            # A fresh key per page view: a double tap on "Redeem" redeems once.
            redeem_key=uuid.uuid4().hex,
            **kwargs,
        )


class JoinView(LoginRequiredMixin, View):
    def post(self, request):
        member = member_enrol(user=request.user)
        signup_bonus_award(member=member)
        messages.success(request, _("Welcome to the loyalty programme!"))
        return redirect("loyalty:member")


class RedeemView(LoginRequiredMixin, View):
    def post(self, request, pk: int):
        member = member_for_user(user=request.user)
        if member is None:
            raise Http404
        reward = get_object_or_404(Reward, pk=pk)
        key = request.POST.get("key", "")[:64]
        if not key:
            messages.error(request, _("Please try again."))
            return redirect("loyalty:member")
        try:
            redemption = reward_redeem(
                member=member, reward=reward, idempotency_key=f"redeem:{member.pk}:{key}"
            )
        except LoyaltyError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Your voucher code is %(code)s: enter it in your basket.")
                % {"code": redemption.voucher.code},
            )
        return redirect("loyalty:member")


class ReferralApplyView(LoginRequiredMixin, View):
    def post(self, request):
        member = member_for_user(user=request.user) or member_enrol(user=request.user)
        try:
            referral_apply(friend=member, code=request.POST.get("code", ""))
        except LoyaltyError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Welcome! Your friend's gift is in your points."))
        return redirect("loyalty:member")


class ReferralLandingView(View):
    """A friend's share link: keep the code until sign-up, then apply it."""

    def get(self, request, code: str):
        if request.user.is_authenticated:
            messages.info(request, _("Referral links are for new customers."))
            return redirect("loyalty:member")
        request.session[REFERRAL_SESSION_KEY] = code[:12]
        messages.info(request, _("Create your account to get your welcome gift."))
        return redirect("customer:register")


class MemberCardQRView(LoginRequiredMixin, View):
    """The member number as a QR code (SVG) for the member card."""

    def get(self, request):
        member = member_for_user(user=request.user)
        if member is None:
            raise Http404
        svg = io.BytesIO()
        # A standalone SVG document (with its namespace), so <img> can show it.
        segno.make(member.number, error="m").save(svg, kind="svg", scale=6, border=2)
        response = HttpResponse(svg.getvalue(), content_type="image/svg+xml")
        response["Cache-Control"] = "private, max-age=3600"
        return response
