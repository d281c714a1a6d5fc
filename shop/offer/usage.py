"""Discounts an order keeps: checked under row locks in the order's transaction (R16, R17).

The checkout calls ``basket_discounts_lock`` in the order's transaction, before Oscar's
OrderCreator records the discounts. It locks the basket's vouchers, then its offers, each
in primary-key order (README "Lock order"), and checks that each can still be used: a
concurrent order that took a single-use voucher or the last use of a capped offer has
committed by the time the lock is granted, so its use is seen. OfferUnavailable or
VoucherUnavailable then stops the order before anything is written.
"""

from __future__ import annotations

from oscar.core.loading import get_class, get_model

from .exceptions import OfferUnavailable, VoucherUnavailable

ConditionalOffer = get_model("offer", "ConditionalOffer")
Voucher = get_model("voucher", "Voucher")


def basket_discounts_lock(*, basket, user) -> None:
    """Lock the rows of the discounts `basket` was priced with and check they still apply.

    Must run inside the order's transaction (the locks last until it ends). The basket's
    offer applications are given the locked voucher rows, so Oscar's record_discount adds
    to today's counters rather than to those read when the basket was priced.
    """
    applications = list(basket.offer_applications)
    voucher_ids = set(basket.vouchers.values_list("pk", flat=True))
    voucher_ids |= {a["voucher"].pk for a in applications if a.get("voucher")}
    vouchers = {
        voucher.pk: voucher
        for voucher in Voucher.objects.select_for_update().filter(pk__in=voucher_ids).order_by("pk")
    }
    for voucher in vouchers.values():
        available, reason = voucher.is_available_to_user(user=user)
        if not available:
            raise VoucherUnavailable(voucher, str(reason))
    for application in applications:
        if application.get("voucher"):
            application["voucher"] = vouchers[application["voucher"].pk]
    freq = {a["offer"].pk: a["freq"] for a in applications}
    for offer in ConditionalOffer.objects.select_for_update().filter(pk__in=freq).order_by("pk"):
        if not offer.is_available(user=user if user.is_authenticated else None) or (
            offer.max_global_applications
            and offer.num_applications + freq[offer.pk] > offer.max_global_applications
        ):
            raise OfferUnavailable(offer)


def basket_reprice(*, basket, user, request) -> None:
    """Price `basket` again from today's offers and vouchers (after one was refused)."""
    Applicator = get_class("offer.applicator", "Applicator")
    for voucher in list(basket.vouchers.all()):
        if not (voucher.is_active() and voucher.is_available_to_user(user=user)[0]):
            basket.vouchers.remove(voucher)
    basket.reset_offer_applications()
    Applicator().apply(basket, user, request)
