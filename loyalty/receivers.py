"""Signal receivers: Oscar's order and review events earn points; a cancelled order gives
back the points used to pay for it (as does a pickup cancelled or left uncollected); a
collected pickup starts its return window.

Points for an order are promised by the order_placed receiver, and they stay there
rather than moving into the checkout's handle_successful_order: that hook only runs in
the checkout view, while a card order is confirmed later, outside any checkout view (by
the Stripe webhook or the reconciliation job). Oscar's OrderCreator sends order_placed
for every order, whichever way it is placed, and the checkout places an order in one
transaction, so the pending points exist if and only if the order does: the receiver is
the one place that sees every order.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.core.signals import request_finished, request_started
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils.translation import gettext as _
from oscar.apps.customer.signals import user_registered
from oscar.apps.order.signals import order_placed, order_status_changed
from oscar.core.loading import get_model

from loyalty.models import EarningRule
from loyalty.selectors import request_cache_reset
from loyalty.services.earning import (
    order_points_award,
    order_points_collected,
    order_points_void,
    review_bonus_award,
    signup_bonus_award,
)
from loyalty.services.landings import utm_landings_attach
from loyalty.services.members import member_enrol
from loyalty.services.redemption import order_points_settled, order_redemption_reverse
from loyalty.services.referrals import REFERRAL_SESSION_KEY, ReferralRefused, referral_apply
from loyalty.services.tiers import tier_review
from stores.signals import pickup_cancelled, pickup_collected

ProductReview = get_model("reviews", "ProductReview")


@receiver(order_placed, dispatch_uid="loyalty-order-placed")
def _order_placed(sender, order, user=None, **kwargs):
    # Runs inside the order's transaction, so pending points exist iff the order does.
    pending = order_points_award(order=order)
    if pending is not None:
        tier_review(member=pending.member)


@receiver(pickup_collected, dispatch_uid="loyalty-pickup-collected")
def _pickup_collected(sender, pickup, order, collected_at, **kwargs):
    # In the handover's transaction: the return window starts at collection.
    order_points_collected(order=order, collected_at=collected_at)


@receiver(pickup_cancelled, dispatch_uid="loyalty-pickup-cancelled")
def _pickup_cancelled(sender, pickup, order, status, **kwargs):
    # A pickup cancelled by staff or left uncollected is an order the customer never got:
    # its pending points go, and points used to pay for it come back (each once).
    order_points_void(order=order)
    order_redemption_reverse(
        order_number=order.number,
        reason=_("Order %(number)s not collected") % {"number": order.number},
    )


@receiver(order_status_changed, dispatch_uid="loyalty-order-status-changed")
def _order_status_changed(sender, order, old_status, new_status, **kwargs):
    # An order whose points were settled already (the shop's cancellation gives them
    # back itself, in its lock order) is left alone: nothing is done twice.
    if new_status in settings.LOYALTY_VOID_ORDER_STATUSES and not order_points_settled(order=order):
        order_points_void(order=order)
        # Points used to pay for the order come back, once.
        order_redemption_reverse(
            order_number=order.number,
            reason=_("Order %(number)s cancelled") % {"number": order.number},
        )


@receiver(user_registered, dispatch_uid="loyalty-user-registered")
def _user_registered(sender, user, request=None, **kwargs):
    member = member_enrol(user=user)
    signup_bonus_award(member=member)
    # A friend's share link put its code in the session (views.referral_landing).
    code = request.session.pop(REFERRAL_SESSION_KEY, None) if request is not None else None
    if code:
        try:
            referral_apply(friend=member, code=code)
        except ReferralRefused as exc:
            messages.warning(request, exc.message)


@receiver(user_logged_in, dispatch_uid="loyalty-user-logged-in")
def _user_logged_in(sender, request, user, **kwargs):
    # Landings with a campaign's UTM tags before signing in (or signing up, which signs
    # in) wait in the session (loyalty.services.landings).
    if request is not None and hasattr(request, "session"):
        utm_landings_attach(session=request.session, user=user)


@receiver(post_save, sender=ProductReview, dispatch_uid="loyalty-review-approved")
def _review_saved(sender, instance, **kwargs):
    if instance.status == ProductReview.APPROVED:
        review_bonus_award(review=instance)


@receiver(request_started, dispatch_uid="loyalty-request-started")
def _request_started(sender, **kwargs):
    request_cache_reset(active=True)


@receiver(request_finished, dispatch_uid="loyalty-request-finished")
def _request_finished(sender, **kwargs):
    request_cache_reset(active=False)


@receiver(post_save, sender=EarningRule, dispatch_uid="loyalty-earning-rule-saved")
def _earning_rule_saved(sender, instance, **kwargs):
    # A marketer's change applies from the next read, even within the same request.
    request_cache_reset()
