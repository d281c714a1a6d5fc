"""Plain django-oscar, for the listing benchmark only (bench/listing.py).

Our settings (config.settings.test: DEBUG off, no collectstatic needed) with the
`shop.search` fork undone: Oscar's own search app and context processor, Oscar's
stock templates (no `shop/templates` in DIRS) and Haystack on Whoosh, which is
what a plain Oscar shop needs to list anything (Haystack's simple backend lists
nothing: django-oscar#3853). Whoosh is installed for the benchmark only:
`.venv/bin/pip install Whoosh==2.7.4`.

The index lives in BENCH_WHOOSH_PATH (the benchmark passes the same temporary
directory to `rebuild_index` and to the measuring process).
"""

import os
import tempfile

from config.settings.test import *  # noqa: F403
from config.settings.test import INSTALLED_APPS, MIDDLEWARE, TEMPLATES

OURS_SEARCH_APP = "shop.search.apps.SearchConfig"
OSCAR_SEARCH_APP = "oscar.apps.search.apps.SearchConfig"
OURS_SEARCH_FORM = "shop.search.context_processors.search_form"
OSCAR_SEARCH_FORM = "oscar.apps.search.context_processors.search_form"

if OURS_SEARCH_APP not in INSTALLED_APPS:
    raise RuntimeError(f"{OURS_SEARCH_APP} is no longer in INSTALLED_APPS; update the bench")
INSTALLED_APPS = [OSCAR_SEARCH_APP if app == OURS_SEARCH_APP else app for app in INSTALLED_APPS]
# Oscar's product view, not ours (shop/catalogue/views.py).
OURS_CATALOGUE_APP = "shop.catalogue.apps.CatalogueConfig"
if OURS_CATALOGUE_APP not in INSTALLED_APPS:
    raise RuntimeError(f"{OURS_CATALOGUE_APP} is no longer in INSTALLED_APPS; update the bench")
INSTALLED_APPS = [
    "bench.vanilla_catalogue.VanillaCatalogueConfig" if app == OURS_CATALOGUE_APP else app
    for app in INSTALLED_APPS
]

# Oscar's basket page, add view and middleware, not ours (bench/vanilla_basket.py).
OURS_BASKET_APP = "shop.security.apps.BasketConfig"
OURS_BASKET_MIDDLEWARE = "shop.basket_load.BasketMiddleware"
if OURS_BASKET_APP not in INSTALLED_APPS or OURS_BASKET_MIDDLEWARE not in MIDDLEWARE:
    raise RuntimeError("our basket app or middleware is no longer installed; update the bench")
INSTALLED_APPS = [
    "bench.vanilla_basket.VanillaBasketConfig" if app == OURS_BASKET_APP else app
    for app in INSTALLED_APPS
]
MIDDLEWARE = [
    "oscar.apps.basket.middleware.BasketMiddleware" if m == OURS_BASKET_MIDDLEWARE else m
    for m in MIDDLEWARE
]

TEMPLATES = [
    {
        **TEMPLATES[0],
        "DIRS": [],
        "OPTIONS": {
            **TEMPLATES[0]["OPTIONS"],
            "context_processors": [
                OSCAR_SEARCH_FORM if processor == OURS_SEARCH_FORM else processor
                for processor in TEMPLATES[0]["OPTIONS"]["context_processors"]
            ],
        },
    }
]

HAYSTACK_CONNECTIONS = {
    "default": {
        "ENGINE": "haystack.backends.whoosh_backend.WhooshEngine",
        "PATH": os.environ.get("BENCH_WHOOSH_PATH")
        or tempfile.mkdtemp(prefix="solomo-bench-whoosh-"),
    }
}
# BENCH_HAYSTACK=simple: plain Oscar as installed, with Haystack's `simple` backend (no index;
# lists nothing on the catalogue and category pages, django-oscar#3853).
if os.environ.get("BENCH_HAYSTACK") == "simple":
    HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}
# The benchmark runs `rebuild_index` once after seeding; nothing changes afterwards.
HAYSTACK_SIGNAL_PROCESSOR = "haystack.signals.BaseSignalProcessor"

# `/` as plain Oscar serves it (a redirect to its catalogue page); our home at /our-home/.
ROOT_URLCONF = "bench.vanilla_urls"
BENCH_HOME_URL = "/our-home/"

# The checkout round trip's payment (bench/checkout_round_trip.py): plain Oscar has no card
# gateway of its own; the local test payment stands in for one, in-process and over HTTP.
PAYMENT_TEST_METHOD = True
