"""`{% if request.user|may_open:"dashboard:order-list" %}`: whether a dashboard link leads
somewhere for this user, by the same permissions the page itself checks (Oscar's
`default_access_fn`; README "Roles and permissions"). Pages show only the links their
reader may follow: no tap ends on a refusal.

An object's page (`dashboard:partner-manage`, which takes a pk) is judged by its own
permissions too, looked up by its name, as Oscar's dashboard does once the URL resolves."""

from django import template
from django.urls import NoReverseMatch
from oscar.apps.dashboard.nav import _dashboard_url_names_to_config, default_access_fn
from oscar.views.decorators import check_permissions

from shop.security import dashboard_link

register = template.Library()


@register.filter
def may_open(user, url_name: str) -> bool:
    if not (user and user.is_authenticated):
        return False
    try:
        return bool(default_access_fn(user, url_name))
    except NoReverseMatch:
        name = url_name.rsplit(":", 1)[-1]
        config = _dashboard_url_names_to_config()[name]
        return bool(check_permissions(user, config.get_permissions(name)))


@register.simple_tag
def dashboard_link_shown(user) -> bool:
    """`{% dashboard_link_shown user as shown %}`: the account menu's "Dashboard" link,
    for staff and partner users (shop/security/dashboard_link.py, cached per user)."""
    return dashboard_link.dashboard_link_shown(user)
