from typing import Any

from oscar.apps.dashboard.communications import apps as oscar_apps

from shop.dashboard.access import LeastPrivilegeMixin


class CommunicationsDashboardConfig(LeastPrivilegeMixin, oscar_apps.CommunicationsDashboardConfig):
    """Email templates: marketers and superusers; those of messages carrying a secret
    (password reset, e-mail change, pickup code) superusers only, as on our channel
    templates page (README, "Notifications"): whoever edits such a template could send
    the secret to an address of theirs, e.g. in an image URL the mail client loads.

    Least privilege: see shop/dashboard/access.py. No models, no migrations.
    """

    name = "shop.dashboard.communications"
    # Set by Oscar's config (the view its loader chose) before ready() replaces it.
    update_view: Any

    def ready(self):
        super().ready()
        from django.core.exceptions import PermissionDenied
        from django.utils.translation import gettext as _

        # The view Oscar's loader chose (a fork's, if any), subclassed at run time.
        oscar_update_view: Any = self.update_view

        class UpdateView(oscar_update_view):
            def get_object(self, queryset=None):
                event_type = super().get_object(queryset)
                if event_type.is_secret and not self.request.user.is_superuser:
                    raise PermissionDenied(
                        _("Templates of messages that carry a secret: superusers only.")
                    )
                return event_type

        self.update_view = UpdateView
