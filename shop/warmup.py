"""Make a web worker's first requests as fast as its later ones (README, "Performance").

A fresh process pays, on its first request, for importing every view module (Django
resolves URLs lazily, namespace by namespace), for creating the template engine and
compiling each template it meets, and for loading the translation catalogues and Babel's
locale data (prices): about half a second on the demo, which the first person to open the
dashboard after a restart or a new worker would wait for. `worker_warm_up()` does that work
when the WSGI application is loaded (config/wsgi.py), before the worker accepts requests.
It reads no database.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.conf import settings
from django.template import TemplateDoesNotExist, engines
from django.template.loader_tags import ExtendsNode, IncludeNode
from django.urls import NoReverseMatch, URLResolver, get_resolver, resolve, reverse
from django.utils import translation
from oscar.templatetags.currency_filters import currency

logger = logging.getLogger(__name__)

# The pages people open first: the storefront's home and the dashboard's.
WARM_TEMPLATES = (
    "shop/home.html",
    "oscar/dashboard/index.html",
    # Product cards: Oscar's render_product tag picks this template per card.
    "oscar/catalogue/partials/product.html",
    "oscar/catalogue/detail.html",
    "oscar/catalogue/browse.html",
    "oscar/basket/basket.html",
)


def _resolvers_populate(resolver: URLResolver) -> int:
    """Populate `resolver` and every resolver under it (imports their views)."""
    count = 1
    resolver.reverse_dict  # noqa: B018  (populates the resolver)
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            count += _resolvers_populate(pattern)
    return count


def _dashboard_menu_resolve() -> None:
    """What Oscar's dashboard menu does on each request, once: reverse and resolve every
    entry (compiling the patterns' regexes) and map URL names to their dashboard apps."""
    from oscar.apps.dashboard.nav import _dashboard_url_names_to_config

    _dashboard_url_names_to_config()
    entries = list(settings.OSCAR_DASHBOARD_NAVIGATION)
    while entries:
        entry = entries.pop()
        entries.extend(entry.get("children", []))
        if entry.get("url_name"):
            try:
                resolve(reverse(entry["url_name"]))
            except NoReverseMatch:  # an entry with arguments: its page warms up on use
                continue


def _template_compile(name: str, seen: set[str]) -> None:
    """Compile `name` and, recursively, the templates it extends or includes by name."""
    if name in seen:
        return
    seen.add(name)
    for engine in engines.all():
        try:
            template = engine.get_template(name)
        except TemplateDoesNotExist:
            continue
        nodelist = getattr(getattr(template, "template", None), "nodelist", None)
        if nodelist is None:
            continue
        for node in nodelist.get_nodes_by_type((ExtendsNode, IncludeNode)):
            expression = node.parent_name if isinstance(node, ExtendsNode) else node.template
            literal = getattr(expression, "var", None)
            if isinstance(literal, str):
                _template_compile(literal, seen)


def worker_warm_up() -> dict[str, int]:
    """Load URLs, templates and translations now; never raises (a failure only logs)."""
    done = {"resolvers": 0, "templates": 0, "languages": 0}
    try:
        for code, _name in settings.LANGUAGES:
            # Resolvers keep their reverse tables and regexes per language.
            with translation.override(code):
                done["resolvers"] = _resolvers_populate(get_resolver())
                _dashboard_menu_resolve()
        seen: set[str] = set()
        for name in WARM_TEMPLATES:
            _template_compile(name, seen)
        done["templates"] = len(seen)
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                translation.gettext("Dashboard")
                # Prices: Babel loads its locale data on first use.
                currency(Decimal("1.00"))
            done["languages"] += 1
    except Exception:  # a warm-up must never stop a worker from serving
        logger.exception("Worker warm-up failed; the first requests will be slower")
    return done
