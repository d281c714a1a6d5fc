from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    """Members, points ledger, tiers, rewards, referrals, segments and campaigns."""

    name = "loyalty"
    verbose_name = _("Loyalty")

    def ready(self) -> None:
        from loyalty import receivers  # noqa: F401  (connects the signal receivers)
