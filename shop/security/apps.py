"""Oscar's shop and basket apps, with the rate limits of R37 on some of their URLs.

Not forks: `name` stays Oscar's, so models, migrations, templates and get_class()
lookups are Oscar's own. Only the URL patterns are wrapped, and the basket's page and its
add view are the shop's (shop/basket_page.py, shop/basket_add.py).
"""

from django.urls import URLResolver
from oscar.apps.basket.apps import BasketConfig as OscarBasketConfig
from oscar.config import Shop as OscarShop

from .ratelimits import PASSWORD_RESET, VOUCHER_CODES, customer_urls_limited, urls_with_limit


class OscarShopConfig(OscarShop):
    def ready(self) -> None:
        super().ready()
        from axes.models import AccessAttempt
        from django.db.models.signals import pre_save

        from .lockout import access_attempt_without_form_data

        pre_save.connect(
            access_attempt_without_form_data,
            sender=AccessAttempt,
            dispatch_uid="security-access-attempt-without-form-data",
        )

    def get_urls(self) -> list:
        urls = urls_with_limit(
            super().get_urls(),
            name="password-reset",
            limit=PASSWORD_RESET,
            back_url_name="password-reset",
        )
        # Oscar's customer app is included here under accounts/: its own URL patterns are
        # wrapped where they are included, so whichever customer app is installed keeps
        # its views and gets the limits.
        return [
            URLResolver(
                p.pattern,
                customer_urls_limited(p.url_patterns),
                p.default_kwargs,
                p.app_name,
                p.namespace,
            )
            if isinstance(p, URLResolver) and p.app_name == "customer"
            else p
            for p in urls
        ]


class BasketConfig(OscarBasketConfig):
    def ready(self) -> None:
        super().ready()
        from shop.basket_add import BasketAddView
        from shop.basket_page import BasketView

        self.summary_view = BasketView
        self.add_view = BasketAddView

    def get_urls(self) -> list:
        return urls_with_limit(
            super().get_urls(),
            name="vouchers-add",
            limit=VOUCHER_CODES,
            back_url_name="basket:summary",
        )
