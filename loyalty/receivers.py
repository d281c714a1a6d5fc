"""Signal receivers: Oscar's order and review events earn points.

The order receiver is temporary: the checkout fork's handle_successful_order will call
loyalty.services.earning.order_points_award directly (see issue 6).
"""

from django.conf import settings
from django.contrib import messages
from django.db.models.signals import post_save
from django.dispatch import receiver
from oscar.apps.customer.signals import user_registered
from oscar.apps.order.signals import order_placed, order_status_changed
from oscar.core.loading import get_model

from loyalty.services.earning import (
    order_points_award,
    order_points_void,
    review_bonus_award,
    signup_bonus_award,
)
from loyalty.services.members import member_enrol
from loyalty.services.referrals import REFERRAL_SESSION_KEY, ReferralRefused, referral_apply
from loyalty.services.tiers import tier_review

ProductReview = get_model("reviews", "ProductReview")


@receiver(order_placed, dispatch_uid="loyalty-order-placed")
def _order_placed(sender, order, user=None, **kwargs):
    # Runs inside the order's transaction, so pending points exist iff the order does.
    pending = order_points_award(order=order)
    if pending is not None:
        tier_review(member=pending.member)


@receiver(order_status_changed, dispatch_uid="loyalty-order-status-changed")
def _order_status_changed(sender, order, old_status, new_status, **kwargs):
    if new_status in settings.LOYALTY_VOID_ORDER_STATUSES:
        order_points_void(order=order)


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


@receiver(post_save, sender=ProductReview, dispatch_uid="loyalty-review-approved")
def _review_saved(sender, instance, **kwargs):
    if instance.status == ProductReview.APPROVED:
        review_bonus_award(review=instance)
