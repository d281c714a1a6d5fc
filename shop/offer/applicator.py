from oscar.apps.offer import applicator as oscar_applicator


class Applicator(oscar_applicator.Applicator):
    def get_user_offers(self, user):
        """The signed-in member's USER offers: their loyalty tier's (e.g. 5 % for Gold) and
        those of every segment they belong to (one-to-one offers, README.md "Segments")."""
        # Imported here: Oscar loads this module while the basket models load,
        # before the loyalty models can be.
        from loyalty.selectors import segment_offers_for_user, tier_offers_for_user

        offers = tier_offers_for_user(user=user)
        known = {offer.pk for offer in offers}
        return offers + [
            offer for offer in segment_offers_for_user(user=user) if offer.pk not in known
        ]
