"""Oscar's offer models, with one change: an offer's usage is recorded by one conditional
UPDATE, so concurrent orders neither lose counter updates nor go past its caps (R17).

Oscar's own ``record_usage`` adds to the counters of the instance the basket priced with,
read before the order's transaction, and saves every field: two orders placed together
each write "their" count, and the cap is never checked again. Here the counters move in
the database (``F()``), only while the offer still has room; otherwise OfferUnavailable
stops the order's transaction (the checkout re-prices the basket and says why).
"""

from django.db.models import F, Q
from oscar.apps.offer.abstract_models import AbstractConditionalOffer

from .cache import offers_version_bump
from .exceptions import OfferUnavailable


class ConditionalOffer(AbstractConditionalOffer):
    def record_usage(self, discount):
        """Count `discount` (an offer application: freq, discount) against this offer,
        atomically and within its caps; raises OfferUnavailable when it has no room left."""
        freq = discount["freq"]
        has_room = (
            Q(max_global_applications__isnull=True)
            | Q(max_global_applications=0)
            | Q(num_applications__lte=F("max_global_applications") - freq)
        ) & (
            Q(max_discount__isnull=True)
            | Q(max_discount=0)
            | Q(total_discount__lt=F("max_discount"))
        )
        counted = (
            type(self)
            ._default_manager.filter(pk=self.pk)
            .filter(has_room)
            .update(
                num_applications=F("num_applications") + freq,
                num_orders=F("num_orders") + 1,
                total_discount=F("total_discount") + discount["discount"],
            )
        )
        if not counted:
            raise OfferUnavailable(self)
        # The cached offers (cache.py) carry the counters the caps are checked against.
        offers_version_bump()
        self.refresh_from_db(fields=["num_applications", "num_orders", "total_discount"])

    # Django's flag on a method (templates never call it); mypy allows no function attributes.
    record_usage.alters_data = True  # type: ignore[attr-defined]


from oscar.apps.offer.models import *  # noqa: E402, F403
