"""Django's admin for superusers only (README, "Roles and permissions").

The admin edits every model with model permissions alone; the staff roles work in the
dashboard, whose pages check their own permissions and scopes.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.http import HttpRequest


class SuperuserAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser


class AdminConfig(DjangoAdminConfig):
    default_site = "shop.security.admin_site.SuperuserAdminSite"
