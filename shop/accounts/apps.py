from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Account security beside Oscar's customer app (not a fork): e-mail address changes
    confirmed by a link with an undo for the old address (R39), logout by POST only (R40).

    Its views replace some of Oscar's customer URLs (profile edit, logout, add to wish
    list), routed in config/urls.py ahead of Oscar's own; the README's "Accounts" section
    describes the flows.
    """

    name = "shop.accounts"
    label = "accounts"
    verbose_name = _("Accounts")
