"""Locator and store pages: distance list, JSON-LD, no inline scripts, choosing my store."""

import datetime as dt
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.urls import reverse

from stores.links import pickup_link_url
from stores.models import PickupStatus, StorePreference
from stores.selectors import SESSION_STORE_KEY
from tests.stores.factories import ALWAYS_OPEN, every_day, pickup_order, store

pytestmark = pytest.mark.django_db

SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S)


def inline_executable_scripts(html: str) -> list[str]:
    """Script elements with a body that a browser would run (JSON data blocks are not run)."""
    found = []
    for match in SCRIPT.finditer(html):
        attrs, body = match["attrs"], match["body"].strip()
        if body and "application/json" not in attrs and "application/ld+json" not in attrs:
            found.append(body[:80])
    return found


def test_locator_lists_stores_by_distance_from_a_typed_place(client):
    centre = store("Centre", lat=48.5819, lng=7.7507, hours=every_day())
    robertsau = store("Robertsau", lat=48.5960, lng=7.7800, hours=every_day())

    response = client.get(reverse("stores:locator"), {"place": "Schiltigheim"})

    assert response.status_code == 200
    assert [row.store for row in response.context["rows"]] == [robertsau, centre]
    html = response.content.decode()
    assert "2.6 km" in html and "2.9 km" in html
    assert "openstreetmap.org/directions" in html
    assert "stores/vendor/leaflet/leaflet.js" in html
    assert inline_executable_scripts(html) == []
    markers = json.loads(re.search(r'id="store-markers"[^>]*>(.*?)</script>', html, re.S)[1])
    assert [m["name"] for m in markers] == ["Robertsau", "Centre"]


def test_locator_without_a_location_lists_every_store_and_asks_nothing(client):
    store("Centre", hours=every_day())

    response = client.get(reverse("stores:locator"))

    assert response.status_code == 200
    assert [row.distance_km for row in response.context["rows"]] == [None]
    # Geolocation is requested by stores.js only when the button is tapped.
    assert "data-geolocate=" in response.content.decode()


def test_locator_says_the_position_is_never_stored_on_the_server(client):
    store("Centre", hours=every_day())

    english = client.get(reverse("stores:locator")).content.decode()
    french = client.get("/fr/stores/").content.decode()

    assert "is never stored on our servers: this browser tab keeps it" in english
    assert "we save that store, not your location" in english
    assert "n’est jamais enregistrée sur nos serveurs : cet onglet du navigateur" in french
    assert "nous enregistrons ce magasin, pas votre position" in french


def test_locator_with_bad_coordinates_says_why(client):
    response = client.get(reverse("stores:locator"), {"lat": "123", "lng": "7"})

    assert response.status_code == 400
    assert "lat must be between -90 and 90" in response.content.decode()


def test_store_page_has_schema_org_json_ld_and_week_ahead(client):
    shop = store("Centre", hours=every_day("09:00", "19:00"), phone="03 88 00 00 00")

    response = client.get(reverse("stores:detail", kwargs={"slug": shop.slug}))

    assert response.status_code == 200
    html = response.content.decode()
    found = re.search(
        r'<script type="application/ld\+json" nonce="([^"]+)">(.*?)</script>', html, re.S
    )
    assert f"'nonce-{found[1]}'" in response["Content-Security-Policy"]
    ld = json.loads(found[2])
    assert ld["@type"] == "Store"
    assert ld["telephone"] == "03 88 00 00 00"
    assert ld["geo"] == {"@type": "GeoCoordinates", "latitude": 48.5819, "longitude": 7.7507}
    assert len(ld["openingHoursSpecification"]) == 7
    assert len(response.context["week"]) == 7
    assert "09:00–19:00" in html
    assert inline_executable_scripts(html) == []


def test_unknown_store_page_is_404(client):
    assert client.get(reverse("stores:detail", kwargs={"slug": "nope"})).status_code == 404


def test_choosing_a_store_keeps_it_in_the_session(client):
    shop = store("Centre")

    response = client.post(reverse("stores:choose", kwargs={"slug": shop.slug}))

    assert response.status_code == 302
    assert response["Location"] == shop.get_absolute_url()
    assert client.session[SESSION_STORE_KEY] == shop.pk
    assert not StorePreference.objects.exists()


def test_choosing_a_store_signed_in_saves_it_on_the_profile(client):
    user = get_user_model().objects.create_user("lea", "lea@example.com", "pw")
    client.force_login(user)
    first, second = store("Centre"), store("Neudorf")

    client.post(reverse("stores:choose", kwargs={"slug": first.slug}))
    client.post(
        reverse("stores:choose", kwargs={"slug": second.slug}),
        {"next": "https://evil.example/"},
    )

    assert StorePreference.objects.get(user=user).store == second


def test_choosing_needs_post(client):
    shop = store("Centre")

    assert client.get(reverse("stores:choose", kwargs={"slug": shop.slug})).status_code == 405


def test_a_guest_follows_the_signed_link_and_says_they_are_here(client):
    # Given a guest's pickup order, in a slot starting soon at an open store
    pickup = pickup_order(store("Centre", hours=ALWAYS_OPEN), starts_in=dt.timedelta(minutes=20))
    url = pickup_link_url(order_number=pickup.order.number)

    # When they open the signed link, with no account
    page = client.get(url)

    # Then they see their pickup code and can tell the store they are here
    assert page.status_code == 200
    html = page.content.decode()
    assert pickup.code in html and "<svg" in html
    assert f'<form method="post" action="{url}">' in html
    assert "I'm here</button>" in html
    response = client.post(url, follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert "The store knows you are here." in response.content.decode()
    pickup.refresh_from_db()
    assert pickup.customer_arrived_at is not None

    # A link for another number, or one not signed by us, shows nothing
    forged = signing.dumps(pickup.order.number, salt="something else")
    assert client.get(url.replace(url.split("/")[-2], forged)).status_code == 404
    assert client.post(url[:-2] + "x/").status_code == 404

    # Once collected, the page says so and offers no button
    type(pickup).objects.filter(pk=pickup.pk).update(status=PickupStatus.COLLECTED)
    html = client.get(url).content.decode()
    assert "Collected" in html and "I'm here" not in html


@pytest.mark.parametrize("place", ["Paris", "75001"])
def test_locator_far_from_every_store_says_so_and_lists_the_nearest(client, place):
    # Given two stores in Strasbourg, about 400 km from Paris
    centre = store("Centre", lat=48.5819, lng=7.7507, hours=every_day())
    robertsau = store("Robertsau", lat=48.5960, lng=7.7800, hours=every_day())

    # When a shopper looks for a store near Paris, by name or postcode
    response = client.get(reverse("stores:locator"), {"place": place})

    # Then the page says there is no store near Paris and lists the nearest, with distances
    assert response.status_code == 200
    assert response.context["notice"] == (
        "No store near Paris. Our nearest stores are below, with their distance."
    )
    assert [row.store for row in response.context["rows"]] == [centre, robertsau]
    assert [round(row.distance_km) for row in response.context["rows"]] == [397, 399]
    assert "unknown place" not in response.content.decode()


def test_locator_near_a_store_has_no_notice(client):
    store("Centre", lat=48.5819, lng=7.7507, hours=every_day())

    response = client.get(reverse("stores:locator"), {"place": "Schiltigheim"})

    assert response.context["notice"] == ""


def test_locator_in_french_says_no_store_near_paris(client):
    store("Centre", lat=48.5819, lng=7.7507, hours=every_day())

    response = client.get("/fr/stores/", {"place": "Paris"})

    assert response.context["notice"] == (
        "Aucun magasin près de Paris. Nos magasins les plus proches sont ci-dessous, "
        "avec leur distance."
    )


@pytest.mark.parametrize(
    ("place", "shown"),
    [
        ("75999", "75999"),
        ("Atlantis", "Atlantis"),
        # 300 characters: the page keeps the first 100, the notice the first 40.
        ("Atlantis" * 38, ("Atlantis" * 5)[:39] + "…"),
    ],
)
def test_locator_with_an_unknown_place_says_so_and_lists_every_store(client, place, shown):
    centre = store("Centre", hours=every_day())

    response = client.get(reverse("stores:locator"), {"place": place})

    assert response.status_code == 200
    assert response.context["notice"] == (
        f"We could not find “{shown}”. Try a town name or a postcode; here are all our stores."
    )
    assert [row.store for row in response.context["rows"]] == [centre]
    assert response.context["place"] == place[:100]
