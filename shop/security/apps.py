"""Oscar's shop and basket apps, with the rate limits of R37 on two of their URLs.

Not forks: `name` stays Oscar's, so models, migrations, templates and get_class()
lookups are Oscar's own. Only the URL patterns are wrapped.
"""

from oscar.apps.basket.apps import BasketConfig as OscarBasketConfig
from oscar.config import Shop as OscarShop

from .ratelimits import PASSWORD_RESET, VOUCHER_CODES, urls_with_limit


class OscarShopConfig(OscarShop):
    def get_urls(self) -> list:
        return urls_with_limit(
            super().get_urls(),
            name="password-reset",
            limit=PASSWORD_RESET,
            back_url_name="password-reset",
        )


class BasketConfig(OscarBasketConfig):
    def get_urls(self) -> list:
        return urls_with_limit(
            super().get_urls(),
            name="vouchers-add",
            limit=VOUCHER_CODES,
            back_url_name="basket:summary",
        )
