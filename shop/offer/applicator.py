from oscar.apps.offer import applicator as oscar_applicator


class Applicator(oscar_applicator.Applicator):
    def get_user_offers(self, user):
        """The USER offers of the signed-in customer's loyalty tier (e.g. 5 % for Gold)."""
        # Imported here: Oscar loads this module while the basket models load,
        # before the loyalty models can be.
        from loyalty.selectors import tier_offers_for_user

        return tier_offers_for_user(user=user)
