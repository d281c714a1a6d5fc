"""The installable app (README "Install on a phone (PWA)"): manifest, offline page and the
service worker's precache list, as served."""

import json
import re

import pytest
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from PIL import Image

from shop.pwa.icons import DIRECTORY, ICONS
from shop.pwa.worker import SHELL_STATIC

pytestmark = pytest.mark.django_db


def worker_config(response) -> dict:
    match = re.search(r"^const CONFIG = (.*);$", response.text, re.M)
    assert match, response.text[:500]
    return json.loads(match.group(1))


@pytest.mark.parametrize(
    ("language", "name", "shortcuts"),
    [
        (
            "en",
            "Solomo: order and pick up in store",
            [
                ("Stores", "/stores/"),
                ("My orders", "/accounts/orders/"),
                ("Member card", "/loyalty/"),
            ],
        ),
        (
            "fr",
            "Solomo : commandez et retirez en magasin",
            [
                ("Magasins", "/fr/stores/"),
                ("Mes commandes", "/fr/accounts/orders/"),
                ("Carte de membre", "/fr/loyalty/"),
            ],
        ),
    ],
)
def test_manifest_names_the_app_and_its_shortcuts_in_the_language(
    client, language, name, shortcuts
):
    response = client.get(f"/manifest/{language}.webmanifest")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] == name
    assert manifest["short_name"] == "Solomo"
    assert manifest["lang"] == language
    assert manifest["start_url"] == ("/" if language == "en" else "/fr/")
    assert manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#0b6e69"
    assert [(s["name"], s["url"]) for s in manifest["shortcuts"]] == shortcuts
    assert [(i["src"], i["sizes"], i.get("purpose", "any")) for i in manifest["icons"]] == [
        ("/static/shop/pwa/icon-192.png", "192x192", "any"),
        ("/static/shop/pwa/icon-512.png", "512x512", "any"),
        ("/static/shop/pwa/icon-maskable-512.png", "512x512", "maskable"),
    ]


def test_manifest_of_an_unknown_language_is_not_found(client):
    assert client.get("/manifest/de.webmanifest").status_code == 404


def test_icons_are_committed_at_the_sizes_installers_ask_for():
    sizes = {}
    for name in ICONS:
        with Image.open(DIRECTORY / name) as image:
            sizes[name] = image.size
    assert sizes == {
        "icon-192.png": (192, 192),
        "icon-512.png": (512, 512),
        "icon-maskable-512.png": (512, 512),
        "apple-touch-icon-180.png": (180, 180),
    }
    with Image.open(DIRECTORY / "icon-maskable-512.png") as maskable:
        # Maskable: the corners are painted (the launcher cuts its own shape).
        assert maskable.convert("RGBA").getpixel((0, 0)) == (0x0B, 0x6E, 0x69, 255)


@pytest.mark.parametrize(
    ("path", "lang", "heading"),
    [("/offline/", "en", "You are offline"), ("/fr/offline/", "fr", "Vous êtes hors ligne")],
)
def test_offline_page_speaks_the_language_of_its_url(client, path, lang, heading):
    response = client.get(path)

    assert response.status_code == 200
    assert f'<html lang="{lang}"' in response.text
    assert f"<h1>{heading}</h1>" in response.text


def test_pages_link_the_manifest_of_their_language(client):
    english = client.get("/offline/")
    french = client.get("/fr/offline/")

    assert '<link rel="manifest" href="/manifest/en.webmanifest">' in english.text
    assert '<link rel="manifest" href="/manifest/fr.webmanifest">' in french.text
    assert '<link rel="apple-touch-icon" href="/static/shop/pwa/apple-touch-icon-180.png">' in (
        english.text
    )


def test_service_worker_precaches_the_shell_and_the_offline_page_in_every_language(client):
    response = client.get("/sw.js")

    config = worker_config(response)
    assert config["offline"] == {"en": "/offline/", "fr": "/fr/offline/"}
    assert config["precache"] == [f"/static/{name}" for name in SHELL_STATIC] + [
        "/offline/",
        "/fr/offline/",
    ]


def test_service_worker_precaches_the_hashed_names_of_the_static_files_manifest(
    client, tmp_path, settings
):
    # Given collectstatic has run with hashed names, as in production
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path / "static", STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
        hashed = ManifestStaticFilesStorage(location=tmp_path / "static").hashed_files

        # When the browser fetches the service worker
        first = client.get("/sw.js")
        config = worker_config(first)

    # Then it precaches each shell file under its hashed name from staticfiles.json
    assert len(hashed) > 0
    css = hashed["shop/css/shop.css"]
    assert re.fullmatch(r"shop/css/shop\.[0-9a-f]{12}\.css", css)
    assert config["precache"][: len(SHELL_STATIC)] == [
        f"/static/{hashed[name]}" for name in SHELL_STATIC
    ]
    assert f'"/static/{css}"' in first.text
    assert first["Cache-Control"] == "no-cache"
    # and its cache is named after them: a new deployment installs a new worker
    plain = worker_config(client.get("/sw.js"))
    assert plain["version"] != config["version"]


def test_member_page_and_open_pickup_pass_are_marked_to_keep_offline(client):
    from django.urls import reverse

    from tests.loyalty.factories import member_factory

    member = member_factory()
    client.force_login(member.user)

    page = client.get(reverse("loyalty:member"))
    card = client.get(reverse("loyalty:card-qr"))
    offline = client.get("/offline/")

    assert page["X-Offline-Keep"] == "1"
    assert card["X-Offline-Keep"] == "1"
    assert "X-Offline-Keep" not in offline
    assert re.fullmatch(r"[0-9a-f]{20}", page["X-Viewer"])
    assert offline["X-Viewer"] == page["X-Viewer"]


def test_pages_name_an_anonymous_viewer_and_each_account_differently(client):
    from tests.loyalty.factories import member_factory

    anonymous = client.get("/offline/")["X-Viewer"]
    client.force_login(member_factory().user)
    first = client.get("/offline/")["X-Viewer"]
    client.force_login(member_factory().user)
    second = client.get("/offline/")["X-Viewer"]

    assert anonymous == "anonymous"
    assert len({anonymous, first, second}) == 3


def test_a_page_that_showed_one_time_messages_is_not_kept(client):
    from django.contrib.auth import get_user_model

    from tests.loyalty.factories import member_factory

    user = get_user_model().objects.create_user("lea", "lea@example.com", "pw")
    client.force_login(user)

    # The join adds "Welcome to the loyalty programme!", shown on the next page
    client.post(reverse("loyalty:join"))
    with_message = client.get("/")
    without = client.get("/")
    # A view's own decision stands: the member page (with the message) is still kept
    client.force_login(member_factory().user)
    client.post(reverse("loyalty:join"))
    member_page = client.get(reverse("loyalty:member"))

    assert "Welcome to the loyalty programme!" in with_message.text
    assert with_message["X-Offline-Keep"] == "0"
    assert "X-Offline-Keep" not in without
    assert "Welcome to the loyalty programme!" in member_page.text
    assert member_page["X-Offline-Keep"] == "1"
