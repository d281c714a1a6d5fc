"""A value cached under a version that a change replaces: read in one round trip with the
version, recomputed when the version it was stored under is no longer the current one.

Used where any of many rows can change what is cached and the entries are not worth
tracking one by one: the basket's offers (shop/offer/cache.py) and the account menu's
dashboard link (shop/security/dashboard_link.py). A change replaces the version now and
again when its transaction commits, so a request that read the rows before the commit
cannot keep them under the new version. Each entry holds the version it was computed
under, read before computing: a change meanwhile replaces it, and the entry is not used.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction


def version_replace(version_key: str) -> None:
    """Retire every entry cached under `version_key` now."""
    cache.set(version_key, uuid.uuid4().hex, None)


def version_bump(version_key: str) -> None:
    """Retire every entry cached under `version_key`, now and when the current
    transaction commits."""
    version_replace(version_key)
    transaction.on_commit(lambda: version_replace(version_key))


def versioned(version_key: str, key: str, compute: Callable[[], Any], seconds: int) -> Any:
    """The value stored at `key` if it was computed under the current version, else
    `compute()`'s, stored for `seconds`."""
    # A copy: while Redis is unreachable django-redis answers every get_many with one
    # shared {} (shop/catalogue/cards.py).
    found = dict(cache.get_many([version_key, key]))
    version, entry = found.get(version_key), found.get(key)
    if version is not None and entry is not None and entry[0] == version:
        return entry[1]
    if version is None:
        version = uuid.uuid4().hex
        if not cache.add(version_key, version, None):
            version = cache.get(version_key, version)
    value = compute()
    cache.set(key, (version, value), seconds)
    return value
