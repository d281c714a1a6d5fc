"""The member's own pages: thin views that call selectors and services."""

from __future__ import annotations

import io
import uuid
from urllib.parse import urlsplit

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View, generic
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit.core import get_usage

from loyalty.campaign_messages import SendKey, send_token_read
from loyalty.forms import GiftConfirmForm, GiftForm, GiftLinkForm
from loyalty.models import CampaignChannel, Reward
from loyalty.selectors import member_for_user, member_name_masked, member_summary
from loyalty.selectors.gift_links import gift_links_of
from loyalty.services.campaigns import (
    campaign_send_clicked,
    campaign_send_opened,
    campaign_unsubscribe,
)
from loyalty.services.earning import signup_bonus_award
from loyalty.services.errors import LoyaltyError
from loyalty.services.gifts import (
    gift_allowance,
    gift_recipient_find,
    gift_refusal,
    gift_send,
)
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
            gift_form=GiftForm(),
            gift_allowance=gift_allowance(member=summary.member) if summary else 0,
            **kwargs,
        )

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        if context["summary"] is not None:
            # The member card stays readable offline; the service worker forgets it at
            # logout (README "Install on a phone (PWA)").
            response["X-Offline-Keep"] = "1"
        return response


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


# Member numbers looked up by one customer to give points (django-ratelimit, counted in
# the default cache: Redis in production), hourly; the review and the confirmation each
# count, so 15 gifts an hour: plenty for gifts to friends, far too few to walk through
# member numbers and collect masked names.
GIFT_LOOKUP_GROUP = "loyalty-gift-lookup"
GIFT_LOOKUP_RATE = "30/h"


class GiftView(LoginRequiredMixin, View):
    """Give points (R23). Signed-in members only, for their own points.

    GET: the form. POST: the review, which looks the number up and shows the recipient's
    masked name and a fresh key; nothing moves until GiftSendView receives that key.
    """

    template_name = "loyalty/gift.html"

    def _member(self, request):
        member = member_for_user(user=request.user)
        if member is None:
            raise Http404
        return member

    def render_form(
        self, request, member, form, *, error=None, status=200, link_form=None, link_error=None
    ):
        """The gift page: by member number (`form`) or by link (`link_form`, R23)."""
        return render(
            request,
            self.template_name,
            {
                "member": member,
                "form": form or GiftForm(),
                "error": error,
                "allowance": gift_allowance(member=member),
                "link_form": link_form or GiftLinkForm.fresh(),
                "link_error": link_error,
                "links": gift_links_of(member=member),
                "link_days": settings.LOYALTY_GIFT_LINK_DAYS,
            },
            status=status,
        )

    def too_many_lookups(self, request) -> bool:
        usage = get_usage(
            request, group=GIFT_LOOKUP_GROUP, key="user", rate=GIFT_LOOKUP_RATE, increment=True
        )
        return usage is not None and usage["should_limit"]

    def get(self, request):
        return self.render_form(request, self._member(request), GiftForm())

    def post(self, request):
        member = self._member(request)
        form = GiftForm(request.POST)
        if not form.is_valid():
            return self.render_form(request, member, form)
        if self.too_many_lookups(request):
            error = _("Too many member numbers looked up: please try again in an hour.")
            return self.render_form(request, member, form, error=error, status=429)
        try:
            recipient = gift_recipient_find(sender=member, number=form.cleaned_data["number"])
        except LoyaltyError as exc:
            return self.render_form(request, member, form, error=exc.message)
        points = form.cleaned_data["points"]
        refusal = gift_refusal(sender=member, recipient=recipient, points=points)
        if refusal:
            return self.render_form(request, member, form, error=refusal)
        confirm = GiftConfirmForm(initial={**form.cleaned_data, "key": uuid.uuid4().hex})
        return render(
            request,
            "loyalty/gift_confirm.html",
            {
                "member": member,
                "form": confirm,
                "recipient_name": member_name_masked(recipient),
                "number": recipient.number,
                "points": points,
                "message": form.cleaned_data["message"],
            },
        )


class GiftSendView(GiftView):
    """The confirmed gift: moves the points once per key (R23)."""

    def get(self, request):
        return redirect("loyalty:gift")

    def post(self, request):
        member = self._member(request)
        form = GiftConfirmForm(request.POST)
        if not form.is_valid():
            return self.render_form(
                request, member, GiftForm(request.POST), error=_("Please try again.")
            )
        data = form.cleaned_data
        if self.too_many_lookups(request):
            error = _("Too many member numbers looked up: please try again in an hour.")
            return self.render_form(
                request, member, GiftForm(request.POST), error=error, status=429
            )
        try:
            recipient = gift_recipient_find(sender=member, number=data["number"])
            gift_send(
                sender=member,
                recipient=recipient,
                points=data["points"],
                message=data["message"],
                key=f"{member.pk}:{data['key']}",
            )
        except LoyaltyError as exc:
            return self.render_form(request, member, GiftForm(request.POST), error=exc.message)
        messages.success(
            request,
            _("You gave %(points)s points to %(name)s.")
            % {"points": data["points"], "name": member_name_masked(recipient)},
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
        response["X-Offline-Keep"] = "1"  # with the member page, see MemberView
        return response


# --- Campaign links (README.md "Campaigns"): public, authorised by their signed token -----

# A transparent 1x1 GIF.
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c000000000100010000020144003b"
)


@method_decorator(csrf_exempt, name="dispatch")  # RFC 8058: the mail provider POSTs
class CampaignUnsubscribeView(View):
    """GET: a page with one button (a GET never changes anything); POST: unsubscribe at
    once from the channel the message came on (R42). The mailbox's one-click POST (RFC
    8058) carries no cookie and no CSRF token: the signed token in the address is what
    authorises it, and all it can do is withdraw a consent."""

    template_name = "loyalty/campaign_unsubscribe.html"

    def _key(self, token: str) -> SendKey:
        key = send_token_read(token)
        if key is None:
            raise Http404(_("This unsubscribe link is not valid or has expired."))
        return key

    def get(self, request, token: str):
        key = self._key(token)
        return render(
            request, self.template_name, {"channel": _channel_label(key.channel), "done": False}
        )

    def post(self, request, token: str):
        key = self._key(token)
        if not campaign_unsubscribe(key=key):
            raise Http404(_("This unsubscribe link is not valid or has expired."))
        return render(
            request, self.template_name, {"channel": _channel_label(key.channel), "done": True}
        )


def _channel_label(channel: str) -> str:
    return str(dict(CampaignChannel.choices).get(channel, channel))


class CampaignOpenView(View):
    """The open pixel of campaign emails. The one GET that writes, by nature of tracking:
    it records the first time the email was shown (one timestamp of that send, once)."""

    def get(self, request, token: str):
        key = send_token_read(token)
        if key is not None and key.channel == CampaignChannel.EMAIL:
            campaign_send_opened(key=key)
        response = HttpResponse(PIXEL, content_type="image/gif")
        response["Cache-Control"] = "no-store, private"
        return response


class CampaignClickView(View):
    """A tracked link: records the first click (a GET, as links are) and redirects to the
    message's link with UTM tags — always a page of this shop, never elsewhere."""

    def get(self, request, token: str):
        key = send_token_read(token)
        target = campaign_send_clicked(key=key) if key is not None else "/"
        if not url_has_allowed_host_and_scheme(
            target, allowed_hosts={urlsplit(settings.SITE_URL).netloc, request.get_host()}
        ):
            target = "/"
        return HttpResponseRedirect(target)
