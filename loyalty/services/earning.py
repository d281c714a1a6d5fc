"""Earning: points for orders (pending, then confirmed), bonuses and expiry.

For click & collect orders the return window restarts when the pickup is collected
(stores' pickup_collected signal, order_points_collected).

Order points = sum over lines of (line price incl. tax after discounts x points per unit
x the line's best category/range multiplier) x the member's tier multiplier, rounded
once with the rule's rounding mode. Shipping earns nothing. Click & collect and first
order bonuses are added to the same pending earn, so a partial refund reverses them
in the same proportion (see the rounding rule in loyalty/services/ledger).

Points are earned on what the customer paid in money, not on the part paid with points
(otherwise spending points would earn points). The value of the points used on the
order is taken off its products' amount (never below zero): that is the earn's base
amount, and every line's points shrink in that proportion, multipliers kept. E.g. a
20.00 order with 1000 points used at 0.01 has a base of 10.00 and earns 10 points at
1 point per unit. The points used are read from the ledger (the order number's
redemption debit, loyalty.services.redemption), which exists before the order: Oscar
sends order_placed before the checkout saves the order's payment sources. A refund is
reversed in proportion to the base, so refunded_total is money refunded.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from loyalty.models import (
    EarningRule,
    EntryKind,
    Member,
    PendingEarn,
    PendingStatus,
    PointsEntry,
    PointsLot,
    Rounding,
)
from loyalty.selectors import earning_rule, multipliers_active, tier_levels
from loyalty.services.ledger import (
    pending_add,
    pending_confirm,
    pending_refund,
    points_credit,
    points_expire,
)
from loyalty.services.members import member_enrol
from loyalty.services.notifications import member_notify
from loyalty.services.redemption import order_points_paid_value
from loyalty.services.referrals import referral_reward_referrer
from stores.selectors import order_is_pickup

_ROUNDING: dict[str, str] = {
    Rounding.DOWN: ROUND_FLOOR,
    Rounding.HALF_UP: ROUND_HALF_UP,
    Rounding.UP: ROUND_CEILING,
}


def earning_rule_ensure() -> EarningRule:
    """The programme's earning rule, its row created with the defaults if missing (the
    seeders; the dashboard's forms save the unsaved default that
    loyalty.selectors.earning_rule returns); earning_rule reads it without writing."""
    rule, _created = EarningRule.objects.get_or_create(pk=1)
    return rule


def product_points_factor(product, multipliers) -> Decimal:
    """The best of the category/range multipliers that apply to `product` (1 if none)."""
    if product is None:
        return Decimal(1)
    factor = Decimal(1)
    category_ids: set[int] | None = None
    for multiplier in multipliers:
        if multiplier.category_id is not None:
            if category_ids is None:
                category_ids = set()
                for category in product.get_categories().all():
                    category_ids.update(c.pk for c in category.get_ancestors_and_self())
            matches = multiplier.category_id in category_ids
        else:
            matches = multiplier.range.contains_product(product)
        if matches:
            # The best multiplier wins; they do not stack.
            factor = max(factor, multiplier.factor)
    return factor


def order_points_compute(*, order, member: Member) -> tuple[int, Decimal]:
    """Points the order's products earn for the member, and the amount they are based on.

    The base is what the products cost less what points paid (see the module docstring).
    """
    rule = earning_rule()
    multipliers = multipliers_active()
    products = Decimal("0.00")
    raw = Decimal(0)
    for line in order.lines.select_related("product"):
        products += line.line_price_incl_tax
        factor = product_points_factor(line.product, multipliers)
        raw += line.line_price_incl_tax * rule.points_per_unit * factor
    base = max(products - order_points_paid_value(order_number=order.number), Decimal("0.00"))
    if base < products:
        raw = raw * base / products
    level = tier_levels().get(member.tier)
    if level is not None:
        raw *= level.points_multiplier
    return points_round(raw, rule=rule), base


def points_round(raw: Decimal, *, rule: EarningRule) -> int:
    """Points for a raw amount of points, rounded once with the rule's mode (never below 0)."""
    return max(int(raw.to_integral_value(rounding=_ROUNDING[rule.rounding])), 0)


def _is_first_order(member: Member, order) -> bool:
    return not PendingEarn.objects.filter(member=member).exclude(order=order).exists()


def order_points_award(*, order, at: datetime | None = None) -> PendingEarn | None:
    """Promise the order's points to its customer (enrolling them); idempotent per order.

    Called in the order's transaction. Guests earn nothing.
    """
    user = order.user
    if user is None:
        return None
    at = at or order.date_placed or timezone.now()
    rule = earning_rule()
    with transaction.atomic():
        member = member_enrol(user=user)
        points, base = order_points_compute(order=order, member=member)
        reasons = [_("Order %(number)s") % {"number": order.number}]
        if order_is_pickup(order) and rule.click_collect_bonus:
            points += rule.click_collect_bonus
            reasons.append(_("click & collect bonus"))
        if rule.first_order_bonus and _is_first_order(member, order):
            points += rule.first_order_bonus
            reasons.append(_("first order bonus"))
        if points <= 0:
            return None
        return pending_add(
            member=member,
            points=points,
            key=f"order:{order.number}",
            reason=", ".join(reasons),
            base_amount=base,
            confirm_after=at + timedelta(days=settings.LOYALTY_RETURN_WINDOW_DAYS),
            order=order,
        )


def order_points_collected(*, order, collected_at: datetime) -> PendingEarn | None:
    """The order was collected (or delivered): its return window starts now.

    The pending earn is confirmed LOYALTY_RETURN_WINDOW_DAYS after `collected_at`; the
    window set at placement is only ever moved later, so a replay changes nothing.
    """
    confirm_after = collected_at + timedelta(days=settings.LOYALTY_RETURN_WINDOW_DAYS)
    with transaction.atomic():
        pending = (
            PendingEarn.objects.select_for_update()
            .filter(order=order, status=PendingStatus.PENDING)
            .first()
        )
        if pending is None:
            return None
        if pending.confirm_after < confirm_after:
            pending.confirm_after = confirm_after
            pending.save(update_fields=["confirm_after"])
    return pending


def order_points_refund(*, order, refunded_total: Decimal) -> int:
    """Take back the points of `refunded_total` (cumulative) of the order; idempotent."""
    pending = PendingEarn.objects.filter(order=order).first()
    if pending is None:
        return 0
    return pending_refund(pending=pending, refunded_total=refunded_total)


def order_points_void(*, order) -> int:
    """A cancelled order: all its points are taken back."""
    pending = PendingEarn.objects.filter(order=order).first()
    if pending is None:
        return 0
    # Beyond any base, so that the whole of the points is reversed.
    return pending_refund(pending=pending, refunded_total=max(pending.base_amount, Decimal("0.01")))


def pending_confirm_due(*, at: datetime | None = None) -> int:
    """Confirm every pending earn whose return window is over; returns how many."""
    at = at or timezone.now()
    due = PendingEarn.objects.filter(status=PendingStatus.PENDING, confirm_after__lte=at)
    confirmed = 0
    for pending in due.select_related("member").iterator():
        if pending_confirm(pending=pending, at=at) is not None:
            confirmed += 1
            # A referred friend's first confirmed order rewards their referrer, once.
            referral_reward_referrer(friend=pending.member)
    return confirmed


def _bonus(member: Member, amount: int, reason: str, key: str) -> PointsEntry | None:
    if amount <= 0:
        return None
    return points_credit(
        member=member, amount=amount, reason=reason, idempotency_key=key, kind=EntryKind.BONUS
    )


def signup_bonus_award(*, member: Member) -> PointsEntry | None:
    return _bonus(
        member, earning_rule().signup_bonus, _("Welcome bonus"), f"bonus:signup:{member.pk}"
    )


def review_bonus_award(*, review) -> PointsEntry | None:
    """Points for an approved product review by a member (once per review)."""
    if review.user_id is None:
        return None
    member = Member.objects.filter(user_id=review.user_id).first()
    if member is None:
        return None
    return _bonus(
        member, earning_rule().review_bonus, _("Approved review"), f"bonus:review:{review.pk}"
    )


def birthday_bonuses_award(*, today: date) -> int:
    """The birthday bonus for members born on `today`'s day; once a year by its key."""
    amount = earning_rule().birthday_bonus
    if amount <= 0:
        return 0
    born_today = Q(birthday__month=today.month, birthday__day=today.day)
    if (today.month, today.day) == (2, 28) and not _is_leap(today.year):
        born_today |= Q(birthday__month=2, birthday__day=29)
    awarded = 0
    for member in Member.objects.filter(born_today).iterator():
        key = f"bonus:birthday:{member.pk}:{today.year}"
        if not PointsEntry.objects.filter(idempotency_key=key).exists():
            _bonus(member, amount, _("Happy birthday!"), key)
            awarded += 1
    return awarded


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def points_expire_due(*, at: datetime | None = None) -> int:
    """Expire every member's due lots; returns the number of members touched."""
    at = at or timezone.now()
    member_ids = (
        PointsLot.objects.filter(remaining__gt=0, expires_at__lte=at)
        .values_list("member_id", flat=True)
        .distinct()
    )
    touched = 0
    for member in Member.objects.filter(pk__in=list(member_ids)):
        if points_expire(member=member, at=at):
            touched += 1
    return touched


def expiry_notices_send(*, at: datetime | None = None) -> int:
    """Tell members whose points expire within LOYALTY_EXPIRY_NOTICE_DAYS; once per lot."""
    at = at or timezone.now()
    horizon = at + timedelta(days=settings.LOYALTY_EXPIRY_NOTICE_DAYS)
    lots = PointsLot.objects.filter(
        remaining__gt=0, expires_at__gt=at, expires_at__lte=horizon, expiry_notified_at=None
    )
    sent = 0
    for member_id in list(lots.values_list("member_id", flat=True).distinct()):
        with transaction.atomic():
            member = Member.objects.select_for_update().select_related("user").get(pk=member_id)
            due = list(lots.filter(member=member).select_for_update())
            if not due:
                continue
            member_notify(
                member=member,
                event_code="LOYALTY_POINTS_EXPIRING",
                context={
                    "points": sum(lot.remaining for lot in due),
                    "expires_at": min(lot.expires_at for lot in due if lot.expires_at is not None),
                },
            )
            PointsLot.objects.filter(pk__in=[lot.pk for lot in due]).update(expiry_notified_at=at)
            sent += 1
    return sent
