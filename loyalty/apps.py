from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    """Members and their points ledger, earning rules and multipliers, tiers, rewards,
    referrals and gifts, segments, campaigns, attribution, recommendations and the cost
    simulator. `ready` connects loyalty/receivers.py: Oscar's order signals, stores' pickup
    signals and the per-request cache of the redemption rule."""

    name = "loyalty"
    verbose_name = _("Loyalty")

    def ready(self) -> None:
        from loyalty import receivers  # noqa: F401  (connects the signal receivers)
