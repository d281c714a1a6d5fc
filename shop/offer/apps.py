from oscar.apps.offer import apps as oscar_apps


class OfferConfig(oscar_apps.OfferConfig):
    """Oscar's offer app, forked for one hook: Applicator.get_user_offers (loyalty tiers and
    segments), with the offers cached across requests (cache.py)."""

    name = "shop.offer"

    def ready(self):
        super().ready()
        from .cache import receivers_connect

        receivers_connect()
