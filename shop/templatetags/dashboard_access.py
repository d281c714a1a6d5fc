"""`{% if request.user|may_open:"dashboard:order-list" %}`: whether a dashboard link leads
somewhere for this user, by the same permissions the page itself checks (Oscar's
`default_access_fn`; README "Roles and permissions"). Pages show only the links their
reader may follow: no tap ends on a refusal."""

from django import template
from oscar.apps.dashboard.nav import default_access_fn

register = template.Library()


@register.filter
def may_open(user, url_name: str) -> bool:
    return bool(user and user.is_authenticated and default_access_fn(user, url_name))
