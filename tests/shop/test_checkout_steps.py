"""The checkout's first steps: collect in store or home delivery, then for click & collect a
store (step A) and a time there (step B), which cannot trap each other; the step bar; the
delivery address's default country; distances only from the shopper's position."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model

from stores.models import PickupSlot
from stores.services import pickup_slot_book
from tests.factories import product
from tests.shop.checkout_fixtures import (
    choose_pickup,
    coordinates_stored_anywhere,
    open_store,
    start_checkout,
)
from tests.stores.factories import ALWAYS_OPEN, stock, store

Country = get_model("address", "Country")

pytestmark = pytest.mark.django_db

# Strasbourg: the shopper at the cathedral, one store 0.9 km away, one about 3 km away.
CATHEDRAL = (48.5818, 7.7509)


def step_bar(response) -> list[str]:
    """The step bar's step names, in order."""
    html = response.content.decode()
    bar = html[
        html.index('class="checkout-steps"') : html.index("</nav>", html.index("checkout-steps"))
    ]
    return [label.strip() for label in re.findall(r'checkout-steps__label">([^<]*)<', bar)]


def times_url(shop) -> str:
    return reverse("checkout:pickup-store", kwargs={"slug": shop.slug})


# --- The first step ---------------------------------------------------------------------------


def test_checkout_starts_with_collect_in_store_or_home_delivery(client, settings):
    settings.PAYMENT_TEST_METHOD = True  # a way to pay for home delivery
    mug = product("Mug", stock=10)
    stock(open_store("Centre"), mug, 3)
    stock(open_store("Gare"), mug, 3)
    client.post(reverse("basket:add", kwargs={"pk": mug.pk}), {"quantity": 1})

    response = client.post(
        reverse("checkout:index"), {"username": "lea@example.com", "options": "anonymous"}
    )
    assert response["Location"] == reverse("checkout:delivery")
    page = client.get(reverse("checkout:delivery"))

    html = page.content.decode()
    assert page.status_code == 200
    assert page.context["pickup_store_count"] == 2
    assert f'<a class="delivery-choice__button" href="{reverse("checkout:pickup")}">' in html
    assert "2 stores have your whole basket." in html
    assert (
        f'<a class="delivery-choice__button" href="{reverse("checkout:shipping-address")}">' in html
    )
    assert step_bar(page) == ["Delivery", "Payment", "Review", "Done"]


def test_signing_up_during_checkout_comes_back_to_the_first_step(client):
    mug = product("Mug", stock=10)
    stock(open_store("Centre"), mug, 3)
    client.post(reverse("basket:add", kwargs={"pk": mug.pk}), {"quantity": 1})

    # When a new customer chooses to create an account at the start of checkout
    response = client.post(
        reverse("checkout:index"), {"username": "new@example.com", "options": "new"}
    )
    register = response["Location"]
    assert register == (
        f"{reverse('customer:register')}?next=%2Fcheckout%2Fdelivery%2F&email=new%40example.com"
    )
    # and signs up on the form that page shows (it carries where to go next)
    form = client.get(register).context["form"]
    assert form["redirect_url"].value() == "/checkout/delivery/"
    assert form["email"].value() == "new@example.com"
    signed_up = client.post(
        register,
        {
            "email": "new@example.com",
            "password1": "a-long-Passphrase-1",
            "password2": "a-long-Passphrase-1",
            "redirect_url": "/checkout/delivery/",
        },
    )

    # Then they are back at "collect in store or home delivery", signed in, basket kept
    assert signed_up.status_code == 302
    assert signed_up["Location"] == reverse("checkout:delivery")
    page = client.get(reverse("checkout:delivery"))
    assert page.status_code == 200
    assert page.context["user"].email == "new@example.com"
    assert page.context["pickup_store_count"] == 1


def test_collect_in_store_is_not_offered_when_no_store_has_the_whole_basket(client):
    mug = product("Mug", stock=10)
    stock(open_store("Centre"), mug, 1)
    start_checkout(client, mug, quantity=2)

    page = client.get(reverse("checkout:delivery"))

    html = page.content.decode()
    assert page.context["pickup_store_count"] == 0
    assert f'href="{reverse("checkout:pickup")}"' not in html
    assert "No store has your whole basket right now." in html


def test_preview_without_a_choice_goes_back_to_the_first_step(client):
    mug = product("Mug", stock=10)
    start_checkout(client, mug)

    response = client.get(reverse("checkout:preview"))

    assert response["Location"] == reverse("checkout:delivery")


# --- Step A and step B cannot trap each other -----------------------------------------------


def test_switching_store_after_choosing_a_time_carries_no_time_over(client):
    # Given two stores whose times differ (30-minute and 45-minute slots)
    mug = product("Mug", stock=10)
    centre, gare = open_store("Centre", slot_minutes=30), open_store("Gare", slot_minutes=45)
    stock(centre, mug, 3)
    stock(gare, mug, 3)
    start_checkout(client, mug)

    # When the shopper chooses a time at Centre that Gare does not have (every 90 minutes
    # the two grids meet, so which index that is depends on the time of day)
    gare_page = client.get(times_url(gare))
    gare_starts = {slot.starts_at for slot in gare_page.context["slots"]}
    centre_starts = [slot.starts_at for slot in client.get(times_url(centre)).context["slots"]]
    index = next(i for i, start in enumerate(centre_starts) if start not in gare_starts)
    centre_slot, response = choose_pickup(client, centre, slot_index=index)
    assert response.redirect_chain[-1][0] == reverse("checkout:preview")
    assert centre_slot.starts_at not in gare_starts

    # Then the store step opens with no form to fill: Centre marked, Gare one tap away
    stores_page = client.get(reverse("checkout:pickup"))
    assert stores_page.status_code == 200
    assert stores_page.context["chosen_store"] == centre
    assert f'href="{times_url(gare)}"' in stores_page.content.decode()

    # and Gare's times carry nothing over from Centre
    assert gare_page.status_code == 200
    assert gare_page.context["selected_slot"] == ""
    assert "checked" not in gare_page.content.decode()
    assert "not available any more" not in gare_page.content.decode()

    # When Centre's time is posted to Gare's step, it is refused as not Gare's
    refused = client.post(times_url(gare), {"slot": centre_slot.starts_at.isoformat()})
    assert refused.status_code == 200
    assert refused.context["form"].errors == {
        "slot": ["Please choose a pickup time from the list."]
    }

    # When they take one of Gare's times
    gare_slot = list(gare_page.context["slots"])[0]
    chose = client.post(times_url(gare), {"slot": gare_slot.starts_at.isoformat()}, follow=True)

    # Then the checkout goes on with Gare and that time
    assert chose.redirect_chain[-1][0] == reverse("checkout:preview")
    preview = client.get(reverse("checkout:preview"))
    assert (preview.context["pickup"].store, preview.context["pickup"].starts_at) == (
        gare,
        gare_slot.starts_at,
    )

    # and going back to Centre shows Centre's times with none chosen, Gare's kept for Gare
    assert client.get(times_url(centre)).context["selected_slot"] == ""
    assert client.get(times_url(gare)).context["selected_slot"] == gare_slot.starts_at.isoformat()


def test_a_time_that_filled_up_says_so_and_shows_the_times_still_free(client):
    mug = product("Mug", stock=10)
    shop = open_store("Centre", slot_capacity=1)
    stock(shop, mug, 3)
    start_checkout(client, mug)
    page = client.get(times_url(shop))
    first, second = list(page.context["slots"])[:2]

    # Another shopper takes the last place of the first time meanwhile
    pickup_slot_book(store=shop, starts_at=first.starts_at, now=timezone.now())
    response = client.post(times_url(shop), {"slot": first.starts_at.isoformat()})

    local = timezone.localtime(first.starts_at, shop.tz)
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "slot": [
            f"{local:%a} {local.day} {local:%H:%M} is now full at Centre. "
            "Please choose one of the times still free."
        ]
    }
    remaining = [slot.starts_at for slot in response.context["slots"]]
    assert first.starts_at not in remaining
    assert remaining[0] == second.starts_at
    assert f'value="{second.starts_at.isoformat()}"' in response.content.decode()
    assert PickupSlot.objects.get().booked == 1
    assert response.context["pickup"] is None  # nothing was chosen


def test_no_time_chosen_asks_for_one(client):
    mug = product("Mug", stock=10)
    shop = open_store()
    stock(shop, mug, 3)
    start_checkout(client, mug)

    response = client.post(times_url(shop), {})

    assert response.status_code == 200
    assert response.context["form"].errors == {"slot": ["Please choose a pickup time."]}


def test_a_store_without_the_whole_basket_sends_back_to_the_stores(client):
    mug = product("Mug", stock=10)
    short, full = open_store("Short"), open_store("Full")
    stock(short, mug, 1)
    stock(full, mug, 5)
    start_checkout(client, mug, quantity=2)

    response = client.get(times_url(short), follow=True)

    assert response.redirect_chain == [(reverse("checkout:pickup"), 302)]
    assert [str(m) for m in response.context["messages"]][-1] == (
        "That store cannot prepare your whole basket any more; please choose another."
    )
    assert [choice.store for choice in response.context["choices"]] == [full]


def test_the_former_store_link_opens_that_stores_times(client):
    mug = product("Mug", stock=10)
    shop = open_store()
    stock(shop, mug, 3)
    start_checkout(client, mug)

    response = client.get(reverse("checkout:pickup"), {"store": shop.slug})

    assert response["Location"] == times_url(shop)


def test_times_are_grouped_by_day_soonest_first(client, settings):
    settings.STORES_SLOT_DAYS = 3
    mug = product("Mug", stock=10)
    shop = store("Centre", hours=ALWAYS_OPEN, preparation_minutes=0, slot_minutes=60)
    stock(shop, mug, 3)
    start_checkout(client, mug)

    page = client.get(times_url(shop))

    days = page.context["days"]
    now = timezone.localtime(timezone.now(), shop.tz)
    # Every hour of the three days is a time, but the hour already begun (at 23:xx, today
    # has none left).
    expected = [now.date() + dt.timedelta(days=n) for n in range(3)]
    assert [day.date for day in days] == (expected if now.hour < 23 else expected[1:])
    for day in days:
        starts = [timezone.localtime(slot.starts_at, shop.tz) for slot in day.slots]
        assert {start.date() for start in starts} == {day.date}
        assert [start.hour for start in starts] == list(
            range(now.hour + 1 if day.date == now.date() else 0, 24)
        )
    html = page.content.decode()
    assert html.count('<details class="slot-day"') == len(days)
    assert html.count('<details class="slot-day" open>') == 1
    first = timezone.localtime(days[0].slots[0].starts_at, shop.tz)
    when = "today" if first.date() == now.date() else "tomorrow"
    assert f"Next available: {when} {first:%H:%M}" in html
    assert page.context["next_slot_label"] == f"{when} {first:%H:%M}"


# --- The step bar -------------------------------------------------------------------------------


def test_step_bar_names_the_pickup_step_store_and_time(client):
    mug = product("Mug", stock=10)
    shop = open_store()
    stock(shop, mug, 3)
    start_checkout(client, mug)

    pages = [client.get(reverse("checkout:pickup")), client.get(times_url(shop))]
    choose_pickup(client, shop)
    pages.append(client.get(reverse("checkout:preview")))
    placed = client.post(reverse("checkout:preview"), {"action": "place_order"}, follow=True)
    pages.append(placed)

    for page in pages:
        assert page.status_code == 200
        assert step_bar(page) == ["Store & time", "Payment", "Review", "Done"]
        assert "Shipping address" not in page.content.decode()
    current = [re.search(r'aria-current="step"', p.content.decode()) is not None for p in pages]
    assert current == [True, True, True, True]


def test_step_bar_names_the_delivery_step_address(client):
    mug = product("Mug", stock=10)
    start_checkout(client, mug)

    page = client.get(reverse("checkout:shipping-address"))

    assert step_bar(page) == ["Address", "Payment", "Review", "Done"]


# --- The delivery address starts in the shop's country ----------------------------------------


def country(code: str, name: str) -> Country:
    return Country.objects.create(
        iso_3166_1_a2=code, name=name, printable_name=name, is_shipping_country=True
    )


@pytest.mark.parametrize("shop_country", ["FR", "DE"])
def test_delivery_address_country_defaults_to_the_shops(client, settings, shop_country):
    settings.SHOP_COUNTRY = shop_country
    for code, name in (("BE", "Belgium"), ("DE", "Germany"), ("FR", "France")):
        country(code, name)
    mug = product("Mug", stock=10)
    start_checkout(client, mug)

    page = client.get(reverse("checkout:shipping-address"))

    assert page.context["form"]["country"].value() == shop_country
    selected = re.findall(r'<option value="(\w\w)" selected>', page.content.decode())
    assert selected == [shop_country]


def test_shop_country_must_be_a_two_letter_code(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from config.settings import core

    monkeypatch.setenv("SHOP_COUNTRY", "France")
    with pytest.raises(ImproperlyConfigured, match="SHOP_COUNTRY must be an ISO 3166-1"):
        core.country_from_env()
    monkeypatch.setenv("SHOP_COUNTRY", "be")
    assert core.country_from_env() == "BE"


# --- Distances: from the shopper, never from a store --------------------------------------------


def two_stores_and_a_basket(client):
    mug = product("Mug", stock=10)
    near = open_store("Cathédrale", lat=48.5890, lng=7.7530)  # ~0.8 km from the cathedral
    far = open_store("Robertsau", lat=48.6050, lng=7.7800)  # ~3.4 km
    stock(near, mug, 3)
    stock(far, mug, 3)
    client.post(reverse("stores:choose", kwargs={"slug": far.slug}))
    start_checkout(client, mug)
    return near, far


def test_without_a_position_no_distance_is_shown_and_my_store_comes_first(client):
    near, far = two_stores_and_a_basket(client)

    page = client.get(reverse("checkout:pickup"))

    assert [(c.store, c.is_mine, c.distance_km) for c in page.context["choices"]] == [
        (far, True, None),
        (near, False, None),
    ]
    assert " km" not in page.content.decode()
    assert "Use my location to show distances" in page.content.decode()


def test_distances_are_from_the_position_the_browser_gave(client):
    near, far = two_stores_and_a_basket(client)

    page = client.get(
        reverse("checkout:pickup"), {"lat": str(CATHEDRAL[0]), "lng": str(CATHEDRAL[1])}
    )

    choices = page.context["choices"]
    assert [c.store for c in choices] == [near, far]
    assert [round(c.distance_km, 1) for c in choices] == [0.8, 3.4]
    html = page.content.decode()
    assert "0.8 km from you" in html and "3.4 km from you" in html
    assert "0.0 km" not in html
    # The next request without the parameters has none: the server kept nothing (the
    # browser tab sends it again, stores.js)
    again = client.get(reverse("checkout:pickup"))
    assert [c.distance_km for c in again.context["choices"]] == [None, None]
    assert "data-geolocate-saved" in again.content.decode()


@pytest.mark.postgres
def test_the_locator_sorts_by_the_browsers_position_and_stores_it_nowhere(client):
    # Given a shopper with a basket and a chosen store (so a session row exists)
    near, far = two_stores_and_a_basket(client)
    session_before = dict(client.session)

    # When the locator sorts the stores by the position their browser gave
    page = client.get(
        reverse("stores:locator"), {"lat": str(CATHEDRAL[0]), "lng": str(CATHEDRAL[1])}
    )

    # Then the stores are sorted from it, and it is in no session key and no database row
    assert [(row.store, round(row.distance_km, 1)) for row in page.context["rows"]] == [
        (near, 0.8),
        (far, 3.4),
    ]
    assert dict(client.session) == session_before
    assert coordinates_stored_anywhere(*CATHEDRAL) == []
    # and the checkout shows no distance until the browser sends it again
    step = client.get(reverse("checkout:pickup"))
    assert [c.distance_km for c in step.context["choices"]] == [None, None]
    assert coordinates_stored_anywhere(*CATHEDRAL) == []


@pytest.mark.postgres
def test_the_nowhere_check_finds_coordinates_in_a_session_or_a_row(client):
    # The check above can fail: a position kept in the session, or in any row, is found
    session = client.session
    session["somewhere"] = [round(CATHEDRAL[0], 5), round(CATHEDRAL[1], 5)]
    session.save()
    assert coordinates_stored_anywhere(*CATHEDRAL) == [f"session {session.session_key}"]

    Country.objects.create(iso_3166_1_a2="ZZ", name=f"At {CATHEDRAL[0]:.5f}")
    assert coordinates_stored_anywhere(*CATHEDRAL) == [
        f"session {session.session_key}",
        "address_country",
    ]


def test_a_typed_place_gives_no_distance(client):
    near, far = two_stores_and_a_basket(client)
    client.get(reverse("stores:locator"), {"place": "67000"})

    page = client.get(reverse("checkout:pickup"))

    assert [c.distance_km for c in page.context["choices"]] == [None, None]


def test_a_bad_position_is_ignored_with_a_message(client):
    two_stores_and_a_basket(client)

    page = client.get(reverse("checkout:pickup"), {"lat": "91", "lng": "7.75"}, follow=True)

    assert [str(m) for m in page.context["messages"]][-1] == "We could not use your location."
    assert [c.distance_km for c in page.context["choices"]] == [None, None]


# --- Bounded queries ----------------------------------------------------------------------------


def queries_of(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


def test_the_store_step_costs_the_same_queries_for_two_or_six_stores(
    client, django_assert_max_num_queries
):
    mug = product("Mug", stock=10)
    shops = [open_store(f"Store {n}", lat=48.58 + n / 100) for n in range(6)]
    for shop in shops[:2]:
        stock(shop, mug, 3)
    start_checkout(client, mug)
    url = reverse("checkout:pickup")
    position = {"lat": str(CATHEDRAL[0]), "lng": str(CATHEDRAL[1])}
    client.get(url, position)  # the session holds the position from here on
    pickup_slot_book(store=shops[0], starts_at=choose_time(client, shops[0]), now=timezone.now())
    two = queries_of(client, url)

    for shop in shops[2:]:
        stock(shop, mug, 3)
    with django_assert_max_num_queries(two):
        page = client.get(url)

    assert len(page.context["choices"]) == 6
    assert all(choice.next_slot is not None for choice in page.context["choices"])
    assert two <= 18  # 17 measured: session, basket, stock, stores and hours, bookings


def choose_time(client, shop):
    return list(client.get(times_url(shop)).context["slots"])[0].starts_at


def test_the_time_step_costs_a_bounded_number_of_queries(client, django_assert_max_num_queries):
    mug, tea = product("Mug", stock=10), product("Tea", stock=10)
    shop = open_store(slot_minutes=15)
    stock(shop, mug, 3)
    stock(shop, tea, 3)
    client.post(reverse("basket:add", kwargs={"pk": tea.pk}), {"quantity": 1})
    start_checkout(client, mug)
    for slot in list(client.get(times_url(shop)).context["slots"])[:5]:
        pickup_slot_book(store=shop, starts_at=slot.starts_at, now=timezone.now())

    with django_assert_max_num_queries(20):  # 19 measured with these two lines
        page = client.get(times_url(shop))

    # Today's times left plus two whole days of 95 times each (00:00-23:45), whatever the
    # hour the test runs at: the page lists them all for the same queries.
    assert len(page.context["slots"]) >= 2 * 95


def test_the_pickup_steps_speak_french(client):
    mug = product("Mug", stock=10)
    shop = open_store("Centre")
    stock(shop, mug, 3)
    start_checkout(client, mug)

    stores_url, shop_times_url = reverse("checkout:pickup"), times_url(shop)

    stores_page = client.get("/fr" + stores_url)
    times_page = client.get("/fr" + shop_times_url)

    assert step_bar(stores_page) == ["Magasin et horaire", "Paiement", "Vérifier", "Terminé"]
    assert "Ces magasins ont tout votre panier en stock." in stores_page.content.decode()
    assert "Choisir Centre" in stores_page.content.decode()
    html = times_page.content.decode()
    assert times_page.status_code == 200
    assert "Changer de magasin" in html
    assert re.search(r"Prochain horaire disponible : (aujourd’hui|demain) \d\d:\d\d", html)
