"""Order messages: a pickup's confirmation shows the store, slot, code and a link to the QR
instead of an empty address; every link is built from SITE_URL, whatever host the request
came in on; the Sites framework's Site follows SITE_URL."""

import re

import pytest
from django.conf import settings
from django.contrib.sites.models import Site
from django.core import mail
from django.core.management.sql import emit_post_migrate_signal
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_class, get_model
from oscar.test.factories import UserFactory

from shop.communication.models import OutboxMessage
from shop.communication.outbox import message_deliver
from shop.sites import site_sync
from stores.models import Pickup
from stores.services import pickup_mark_ready
from tests.factories import product
from tests.shop.checkout_fixtures import choose_pickup, open_store, start_checkout
from tests.stores.factories import stock

Order = get_model("order", "Order")

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^\s\"'<>]+")
HREF = re.compile(r'href="([^"]+)"')


def guest_pickup_order(client, **request_headers):
    item = product("Bretzel", price="1.50", stock=10)
    shop = open_store("Centre")
    stock(shop, item, 5, price="1.50")
    start_checkout(client, item)
    choose_pickup(client, shop)
    response = client.post(
        reverse("checkout:preview"), {"action": "place_order"}, **request_headers
    )
    assert response["Location"] == reverse("checkout:thank-you")
    order = Order.objects.get()
    return order, Pickup.objects.select_related("slot", "store").get(order=order)


def test_pickup_confirmation_shows_store_slot_code_and_qr_link_from_site_url(client, settings):
    settings.SITE_URL = "https://shop.example.com"
    settings.ALLOWED_HOSTS = ["other-host.test", "testserver"]

    # When a guest places a click & collect order on another host name
    order, pickup = guest_pickup_order(client, HTTP_HOST="other-host.test")

    (email,) = OutboxMessage.objects.filter(event_code="ORDER_PLACED", channel="email")
    slot = timezone.localtime(pickup.slot.starts_at, pickup.store.tz)
    for body, links in (
        (email.body, LINK.findall(email.body)),
        (email.html, HREF.findall(email.html)),
    ):
        # Then it names the store, the slot and the code instead of an empty address
        assert "Shipping address" not in body
        assert "Centre" in body and pickup.store.address_line in body
        assert f"{slot:%H:%M}" in body
        assert pickup.code in body
        # and every link is on SITE_URL
        assert len(links) == 2, body
        assert all(link.startswith("https://shop.example.com/") for link in links), links
        assert "other-host.test" not in body and "127.0.0.1" not in body
    follow = [link for link in LINK.findall(email.body) if "/stores/pickups/follow/" in link]
    assert len(follow) == 1
    status_path = reverse(
        "customer:anon-order",
        kwargs={"order_number": order.number, "hash": order.verification_hash()},
    )
    assert f"https://shop.example.com{status_path}" in email.body
    # The follow link opens the order's page with its QR code
    page = client.get(follow[0].removeprefix("https://shop.example.com"))
    assert page.status_code == 200
    assert '<div class="pickup-qr"><svg' in page.content.decode()


def test_ready_message_links_to_the_follow_page_on_site_url(
    client, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://shop.example.com"
    _order, pickup = guest_pickup_order(client)

    with django_capture_on_commit_callbacks(execute=True):
        pickup_mark_ready(pickup=pickup, now=timezone.now())

    (message,) = OutboxMessage.objects.filter(event_code="PICKUP_READY", channel="email")
    # The message carries the pickup code, so its stored body is blanked once sent: read what
    # the customer received (delivered now unless the in-process Celery already did it).
    message_deliver(message_id=message.pk)
    (email,) = [m for m in mail.outbox if m.to == [message.recipient] and "ready" in m.subject]
    assert "To pay at pickup: €1.50" in email.body
    links = LINK.findall(email.body)
    assert len(links) == 1 and links[0].startswith(
        "https://shop.example.com/stores/pickups/follow/"
    )


def test_the_site_follows_site_url_after_every_migrate(settings):
    Site.objects.filter(pk=settings.SITE_ID).update(domain="127.0.0.1:8000", name="Solomo")
    settings.SITE_URL = "https://shop.example.com"

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    Site.objects.clear_cache()
    site = Site.objects.get_current()
    assert (site.domain, site.name) == ("shop.example.com", "Solomo")


def test_the_test_settings_default_to_localhost():
    assert settings.SITE_URL == "http://localhost:8000"
    assert Site.objects.get(pk=settings.SITE_ID).domain == "localhost:8000"
    assert settings.OSCAR_URL_SCHEMA == "http"


def test_oscars_own_messages_link_to_site_url_through_the_synced_site(settings):
    # Oscar's templates write {% absolute_url site.domain path %}: scheme and Site from SITE_URL
    settings.SITE_URL = "https://shop.example.com"
    settings.OSCAR_URL_SCHEMA = "https"
    site_sync()
    Dispatcher = get_class("communication.utils", "Dispatcher")
    user = UserFactory(email="ann@example.com")

    messages = Dispatcher().get_messages(
        "PASSWORD_RESET", {"user": user, "reset_url": "/password-reset/confirm/abc/def/"}
    )

    assert "https://shop.example.com/password-reset/confirm/abc/def/" in messages["body"]
