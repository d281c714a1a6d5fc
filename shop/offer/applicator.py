from oscar.apps.offer import applicator as oscar_applicator
from oscar.core.loading import get_model

from .cache import in_dates, offers_cached, site_offers


def _offers_by_pk(pks: list[int]) -> list:
    offer_model = get_model("offer", "ConditionalOffer")
    offers = offer_model.objects.filter(pk__in=pks).select_related("condition", "benefit")
    return list(offers.order_by("pk"))


class Applicator(oscar_applicator.Applicator):
    """Oscar's, with the site, tier and segment offers read from the cache (shop/offer/
    cache.py; bench/README.md, "The basket in a fixed number of queries")."""

    def get_site_offers(self):
        return site_offers()

    def get_basket_offers(self, basket, user):
        # Known to have no voucher: read with the basket, or created by this request
        # (shop/basket_load.py, shop/basket_add.py).
        if getattr(basket, "vouchers_none", False):
            return []
        return super().get_basket_offers(basket, user)

    def get_user_offers(self, user):
        """The signed-in member's USER offers: their loyalty tier's (e.g. 5 % for Gold) and
        those of every segment they belong to (one-to-one offers, README.md "Segments")."""
        # Imported here: Oscar loads this module while the basket models load,
        # before the loyalty models can be.
        from loyalty.selectors import (
            member_for_user,
            segment_offer_pks_for_member,
            tier_offers_for_tier,
        )

        member = member_for_user(user=user)
        if member is None:
            return []
        offers = offers_cached(
            f"tier:{member.tier}", lambda: tier_offers_for_tier(tier=member.tier)
        )
        pks = segment_offer_pks_for_member(member=member)
        if pks:
            known = {offer.pk for offer in offers}
            in_segments = offers_cached(
                "pks:" + ",".join(map(str, pks)), lambda: _offers_by_pk(pks)
            )
            offers = offers + [offer for offer in in_segments if offer.pk not in known]
        # Dates, caps and suspension checked now, as the loyalty selectors do.
        return [offer for offer in in_dates(offers) if offer.is_available()]
