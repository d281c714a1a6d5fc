"""Oscar's "missing image" placeholder in MEDIA_ROOT, put there at deploy time.

Product cards of products without a photo show Oscar's `image_not_found.jpg`, which
sorl-thumbnail can only read from MEDIA_ROOT. Oscar symlinks it there lazily, on the first
request that needs it, and two first requests at once on an empty MEDIA_ROOT (a new compose
media volume, a new web node) both try and one gets ImproperlyConfigured. The web service
therefore runs `manage.py missing_image_install` before serving (README "The full stack
with Docker"); Oscar then finds the file and never tries.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured


def missing_image_install() -> bool:
    """Put a copy of Oscar's missing image at MEDIA_ROOT/OSCAR_MISSING_IMAGE_URL.

    Returns True when it was written, False when a readable one was already there. Safe to
    run in several processes at once: the copy is written under a temporary name and renamed
    into place. A copy rather than Oscar's symlink, because a media volume outlives the
    image whose site-packages the link would point into.
    """
    name = settings.OSCAR_MISSING_IMAGE_URL
    target = Path(settings.MEDIA_ROOT) / name
    if target.exists():  # False for a broken link, which is replaced
        return False
    source = finders.find(f"oscar/img/{name}")
    if source is None:
        raise ImproperlyConfigured(f"Oscar's static file oscar/img/{name} was not found")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as copy, open(source, "rb") as original:
            shutil.copyfileobj(original, copy)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True
