"""The Sites framework's Site follows SITE_URL, so nothing builds a link from a guess.

Oscar's e-mails and Django's password reset read `Site.objects.get_current().domain`;
our own messages read SITE_URL. `site_sync` runs after every `migrate` (post_migrate),
so a deployment that changes SITE_URL has the Site changed on its next release.
"""

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sites.models import Site
from django.db import DEFAULT_DB_ALIAS


def site_domain() -> str:
    """SITE_URL's host[:port], as the Site's domain holds it."""
    return urlsplit(settings.SITE_URL).netloc


def site_sync(*, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> Site:
    """Make the current Site's domain SITE_URL's host; Django's placeholder name becomes
    the shop's name, a name chosen by the shop is kept."""
    site, created = Site.objects.using(using).get_or_create(
        pk=settings.SITE_ID, defaults={"domain": site_domain(), "name": settings.OSCAR_SHOP_NAME}
    )
    if created:
        return site
    changed = []
    if site.domain != site_domain():
        site.domain = site_domain()
        changed.append("domain")
    if site.name in ("", "example.com"):
        site.name = settings.OSCAR_SHOP_NAME
        changed.append("name")
    if changed:
        site.save(using=using, update_fields=changed)  # save() clears Django's Site cache
    return site
