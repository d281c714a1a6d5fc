"""A pickup shared with a friend (stores.sharing, docs/guarantees.md R47).

Who may do what:
- create and revoke (POST only): the signed-in customer who placed the order; anyone
  else, signed in or not, staff included, gets 404 and nothing changes;
- the friend's pass page (GET): anyone holding its unguessable link. It shows this one
  pickup (store, slot, status, the friend's code and QR, what is left to pay) and nothing
  else of the buyer's account. A revoked pass answers 410 with no code.
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .selectors import order_amounts
from .services import ACTIVE
from .sharing import (
    SharingRefused,
    shared_pass_code,
    shared_pass_create,
    shared_pass_from_token,
    shared_pass_qr_payload,
    shared_pass_revoke,
)
from .templatetags.store_tags import qr_svg
from .views import buyers_pickup_or_404


def _back_to_order(number: str) -> HttpResponseRedirect:
    url = reverse("customer:order", kwargs={"order_number": number})
    return HttpResponseRedirect(url + "#pickup-sharing")


@require_POST
def share_create(request: HttpRequest, number: str) -> HttpResponse:
    """The buyer makes a pass for a friend (replacing any earlier one)."""
    pickup = buyers_pickup_or_404(request, number)
    try:
        shared_pass_create(
            pickup=pickup,
            user=request.user,
            friend_name=request.POST.get("friend_name", ""),
            language=get_language() or "",
            now=timezone.now(),
        )
    except SharingRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Your friend's pass is ready: send them the link below."))
    return _back_to_order(number)


@require_POST
def share_revoke(request: HttpRequest, number: str) -> HttpResponse:
    """The buyer revokes the friend's pass: its code stops working at once."""
    pickup = buyers_pickup_or_404(request, number)
    try:
        revoked = shared_pass_revoke(pickup=pickup, user=request.user, now=timezone.now())
    except SharingRefused as exc:
        messages.error(request, str(exc))
    else:
        if revoked:
            messages.success(request, _("Your friend's pass is revoked: its code no longer works."))
        else:
            messages.info(request, _("There was no pass to revoke."))
    return _back_to_order(number)


@require_GET
def friend_pass(request: HttpRequest, token: str) -> HttpResponse:
    shared = shared_pass_from_token(token=token)
    if shared is None:
        raise Http404
    pickup = shared.pickup
    if shared.revoked_at is not None:
        return render(request, "stores/friend_pass_revoked.html", status=410)
    usable = pickup.status in ACTIVE
    context = {
        "shared": shared,
        "pickup": pickup,
        "usable": usable,
        "code": shared_pass_code(shared=shared) if usable else "",
        "qr_svg": qr_svg(shared_pass_qr_payload(shared=shared)) if usable else "",
        "due": order_amounts(order=pickup.order).due_at_pickup if usable else None,
        "currency": pickup.order.currency,
    }
    response = render(request, "stores/friend_pass.html", context)
    if usable:
        # Kept by the service worker like the buyer's pass, so it opens at a counter with
        # no signal (README "Install on a phone (PWA)").
        response["X-Offline-Keep"] = "1"
    return response
