"""Oscar's missing-image placeholder is put in MEDIA_ROOT at deploy time (README "The full
stack with Docker"), so the first requests on an empty media folder never race to create it."""

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client

from tests.concurrency import run_concurrently
from tests.factories import product

FIRST_REQUESTS = 12


@pytest.mark.postgres  # real threads, each on its own database connection
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_requests_on_an_empty_media_root_all_render(settings, tmp_path):
    # Given a fresh, empty media folder (a new compose volume) and products with no image
    media = tmp_path / "media"
    settings.MEDIA_ROOT = str(media)
    mug = product("Mug")
    product("Teapot")

    # When the web service's deploy step runs, then the first requests arrive together
    call_command("missing_image_install", verbosity=0)
    pages = [mug.get_absolute_url(), "/catalogue/", "/"] * (FIRST_REQUESTS // 3)
    responses = run_concurrently(
        [(lambda url=url: Client().get(url, follow=True)) for url in pages]
    )

    # Then every one of them rendered, and the placeholder is Oscar's image
    assert [getattr(r, "status_code", r) for r in responses] == [200] * FIRST_REQUESTS
    placeholder = media / settings.OSCAR_MISSING_IMAGE_URL
    original = Path(finders.find(f"oscar/img/{settings.OSCAR_MISSING_IMAGE_URL}"))
    assert placeholder.read_bytes() == original.read_bytes()


def test_install_replaces_a_broken_link_and_keeps_a_good_file(settings, tmp_path):
    # Given a media volume whose placeholder is a link into a Python that is gone
    settings.MEDIA_ROOT = str(tmp_path)
    placeholder = tmp_path / settings.OSCAR_MISSING_IMAGE_URL
    placeholder.symlink_to(tmp_path / "old-image" / "site-packages" / "image_not_found.jpg")

    # When the deploy step runs twice
    call_command("missing_image_install", verbosity=0)
    first = placeholder.stat()
    call_command("missing_image_install", verbosity=0)

    # Then a real file replaced the link, and the second run left it alone
    assert not placeholder.is_symlink()
    assert placeholder.stat().st_size > 0
    assert (placeholder.stat().st_ino, placeholder.stat().st_mtime_ns) == (
        first.st_ino,
        first.st_mtime_ns,
    )
    assert [p.name for p in tmp_path.iterdir()] == [settings.OSCAR_MISSING_IMAGE_URL]
