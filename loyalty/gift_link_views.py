"""Gift links (R23): make one, show it, accept it, cancel it. Thin views over
loyalty.services.gift_links.

Who may do what (tests/shop/test_public_pages_roles.py proves it for the eight roles):
- making a link: signed-in members, for their own points (anonymous: login; others: 404);
- the link's page: anyone with its secret address (a visitor is asked to sign in or create
  an account, then comes back to it); it shows the giver's masked name, never more;
- accepting: any signed-in user but the giver (one who has not joined yet is enrolled);
- cancelling: the giver only (anyone else: 404).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from loyalty.forms import GiftLinkForm
from loyalty.models import GiftLink
from loyalty.selectors import member_for_user, member_name_masked
from loyalty.selectors.gift_links import gift_link_by_token
from loyalty.services.earning import signup_bonus_award
from loyalty.services.errors import LoyaltyError
from loyalty.services.gift_links import (
    gift_link_accept,
    gift_link_cancel,
    gift_link_create,
    gift_link_refusal,
)
from loyalty.services.gifts import GiftRefused
from loyalty.services.members import member_enrol
from loyalty.views import GiftView


def _link_or_404(token: str) -> GiftLink:
    link = gift_link_by_token(token=token[:64])
    if link is None:
        raise Http404(_("This gift link does not exist."))
    return link


def _private(response: HttpResponse) -> HttpResponse:
    # The address is the secret: never cached by a proxy, never indexed.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


class GiftLinkCreateView(GiftView):
    """POST: set the points aside and show the link to share; GET: the gift page."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return redirect("loyalty:gift")

    def post(self, request: HttpRequest) -> HttpResponse:
        member = self._member(request)
        form = GiftLinkForm(request.POST)
        if "key" in form.errors:
            # Not from the page's form: a new form with a new key.
            return self.render_form(request, member, None, link_error=_("Please try again."))
        if not form.is_valid():
            return self.render_form(request, member, None, link_form=form)
        data = form.cleaned_data
        try:
            link = gift_link_create(
                sender=member,
                points=data["points"],
                message=data["message"],
                key=f"{member.pk}:{data['key']}",
            )
        except LoyaltyError as exc:
            return self.render_form(request, member, None, link_form=form, link_error=exc.message)
        messages.success(request, _("Your gift link is ready: share it with a friend."))
        return redirect("loyalty:gift-link", token=link.token)


class GiftLinkView(View):
    """The link's page, for the giver (share, cancel), the friend (accept) or a visitor."""

    http_method_names = ["get", "head"]

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        link = _link_or_404(token)
        member = member_for_user(user=request.user) if request.user.is_authenticated else None
        is_giver = member is not None and member.pk == link.sender_id
        closed = gift_link_refusal(link=link, member=None)
        context = {
            "link": link,
            "is_giver": is_giver,
            "is_open": closed is None,
            "accepted_by_me": member is not None and link.recipient_id == member.pk,
            # What stops this viewer accepting: closed, or their own link.
            "refusal": closed or gift_link_refusal(link=link, member=member),
            "sender_name": member_name_masked(link.sender),
            "link_url": request.build_absolute_uri(
                reverse("loyalty:gift-link", kwargs={"token": link.token})
            ),
        }
        return _private(render(request, "loyalty/gift_link.html", context))


class GiftLinkAcceptView(LoginRequiredMixin, View):
    """POST: credit the link's points to the signed-in user (enrolled if need be)."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        # Back from the login page: the friend confirms on the link's page.
        return redirect("loyalty:gift-link", token=token)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        link = _link_or_404(token)
        member = member_for_user(user=request.user)
        try:
            if member is None:
                # Only for a gift that can still be accepted: then accepting it is joining
                # the programme, as the join button does.
                if (refusal := gift_link_refusal(link=link, member=None)) is not None:
                    raise GiftRefused(refusal)
                user = request.user
                assert isinstance(user, User)  # LoginRequiredMixin
                member = member_enrol(user=user)
                signup_bonus_award(member=member)
            gift_link_accept(link=link, recipient=member)
        except LoyaltyError as exc:
            messages.error(request, exc.message)
            return redirect("loyalty:gift-link", token=link.token)
        messages.success(
            request,
            _("You received %(points)s points from %(name)s.")
            % {"points": link.points, "name": member_name_masked(link.sender)},
        )
        return redirect("loyalty:member")


class GiftLinkCancelView(LoginRequiredMixin, View):
    """POST, by the giver only: the points come back."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        return redirect("loyalty:gift-link", token=token)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        link = _link_or_404(token)
        member = member_for_user(user=request.user)
        if member is None or member.pk != link.sender_id:
            raise Http404(_("This gift link does not exist."))
        try:
            gift_link_cancel(link=link, sender=member)
        except LoyaltyError as exc:
            messages.error(request, exc.message)
            return redirect("loyalty:gift-link", token=link.token)
        messages.success(
            request,
            _("Gift link cancelled: %(points)s points are back in your balance.")
            % {"points": link.points},
        )
        return redirect("loyalty:gift")
