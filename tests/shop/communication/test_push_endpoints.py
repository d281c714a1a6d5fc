"""Web Push endpoints reach only the known push services, at public addresses (no SSRF).

DNS is faked at socket.getaddrinfo and connections at socket.socket.connect: nothing leaves
this machine, and a test sees every name looked up and every connection tried.
"""

import ipaddress
import json
import socket

import pytest
from django.urls import reverse

from shop.communication.models import PushSubscription
from shop.communication.outbox import Draft, message_deliver, messages_record
from tests.shop.communication.conftest import with_push
from tests.shop.communication.keys import subscriber_keys, vapid_keys

pytestmark = pytest.mark.django_db

PUBLIC_V4, PUBLIC_V6 = "142.250.74.42", "2a00:1450:4007:80e::200a"
FCM = "https://fcm.googleapis.com/fcm/send/abc:def"


@pytest.fixture
def signed_in(client, customer):
    client.force_login(customer)
    return client


def subscribe(client, endpoint):
    p256dh, auth = subscriber_keys()
    return client.post(
        reverse("communication:push"),
        json.dumps({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}),
        content_type="application/json",
    )


@pytest.mark.parametrize(
    "endpoint",
    [
        FCM,
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAAA",
        "https://web.push.apple.com/QGuQyavXutnMH",
        "https://wns2-par02p.notify.windows.com/w/?token=BQYAAAD",
        "https://FCM.googleapis.com:443/fcm/send/x",
    ],
)
def test_the_known_push_services_are_accepted(signed_in, customer, fake_dns, endpoint):
    host = endpoint.split("/")[2].split(":")[0].lower()
    fake_dns.records[host] = [PUBLIC_V4, PUBLIC_V6]

    response = subscribe(signed_in, endpoint)

    assert response.status_code == 201
    assert PushSubscription.objects.get().endpoint == endpoint
    assert fake_dns.lookups == [host]


@pytest.mark.parametrize(
    ("endpoint", "reason"),
    [
        ("http://fcm.googleapis.com/fcm/send/x", "endpoint must be an https:// URL"),
        ("https://evil.example.com/push", "evil.example.com is not a known push service"),
        ("https://push.apple.com/x", "push.apple.com is not a known push service"),
        ("https://fcm.googleapis.com.evil.net/x", "is not a known push service"),
        ("https://evilnotify.windows.com/x", "is not a known push service"),
        ("https://127.0.0.1/x", "127.0.0.1 is not a known push service"),
        ("https://[::1]/x", ":1 is not a known push service"),
        ("https://169.254.169.254/latest/meta-data/", "is not a known push service"),
        ("https://fcm.googleapis.com:8443/x", "a port other than 443"),
        ("https://user:pw@fcm.googleapis.com/x", "must not carry credentials"),
    ],
)
def test_other_hosts_are_refused_without_asking_dns(signed_in, fake_dns, endpoint, reason):
    response = subscribe(signed_in, endpoint)

    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert not PushSubscription.objects.exists()
    assert fake_dns.lookups == []


@pytest.mark.parametrize(
    "addresses",
    [
        ["127.0.0.1"],
        ["10.0.0.5"],
        ["172.16.3.4"],
        ["192.168.1.1"],
        ["169.254.169.254"],  # cloud metadata
        ["100.64.0.1"],  # carrier-grade NAT
        ["0.0.0.0"],  # noqa: S104
        ["240.0.0.1"],  # reserved
        ["224.0.0.251"],  # multicast
        ["::1"],
        ["fd00::1"],
        ["fe80::1%eth0"],
        ["::ffff:10.0.0.1"],  # IPv4-mapped
        ["2002:a00:1::1"],  # 6to4 around 10.0.0.1
        [PUBLIC_V4, "10.0.0.5"],  # one bad address is enough
    ],
)
def test_a_push_host_resolving_to_an_internal_address_is_refused(signed_in, fake_dns, addresses):
    fake_dns.records["fcm.googleapis.com"] = addresses

    response = subscribe(signed_in, FCM)

    assert response.status_code == 400
    assert response.json() == {"error": "fcm.googleapis.com resolves to a non-public address"}
    assert not PushSubscription.objects.exists()


def test_a_push_host_that_does_not_resolve_is_refused(signed_in, fake_dns):
    response = subscribe(signed_in, FCM)  # no record: NXDOMAIN

    assert response.status_code == 400
    assert response.json() == {"error": "fcm.googleapis.com could not be resolved"}


def test_the_allowed_hosts_come_from_settings(signed_in, fake_dns, settings):
    settings.PUSH_ALLOWED_HOSTS = ["push.example.net", "*.push.example.org"]
    fake_dns.records["push.example.net"] = [PUBLIC_V4]
    fake_dns.records["eu.push.example.org"] = [PUBLIC_V4]

    assert subscribe(signed_in, "https://push.example.net/x").status_code == 201
    assert subscribe(signed_in, "https://eu.push.example.org/x").status_code == 201
    assert subscribe(signed_in, FCM).status_code == 400


# --- Again before each send: a refused endpoint is deleted, nothing is sent ---------------


@pytest.fixture
def connections(monkeypatch) -> list:
    """Every connection tried beyond this machine; each is refused, as by a host with
    nothing listening. Loopback (Redis, PostgreSQL) connects as usual."""
    tried = []
    loopback_connect = socket.socket.connect

    def connect(sock, address):
        if isinstance(address, tuple) and not ipaddress.ip_address(address[0]).is_loopback:
            tried.append(address[:2])
            raise ConnectionRefusedError(111, "Connection refused")
        return loopback_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return tried


def push_message(subscription):
    (message,) = messages_record(
        drafts=[
            Draft(
                channel="push",
                recipient=subscription.endpoint,
                subject="Ready",
                body="Your order is ready",
                push_subscription_id=subscription.pk,
            )
        ],
        event_code="ORDER_PLACED",
    )
    return message


@pytest.fixture
def vapid(settings):
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = vapid_keys()


def test_a_stored_endpoint_now_resolving_inside_is_deleted_unsent(
    customer, fake_dns, connections, vapid
):
    # Given a subscription stored earlier, whose name now points at the internal network
    subscription = with_push(customer, endpoint=FCM)
    message = push_message(subscription)
    fake_dns.records["fcm.googleapis.com"] = ["10.0.0.5"]

    # When the worker delivers a message to it
    outcome = message_deliver(message_id=message.pk)

    # Then nothing is sent, the subscription is gone and the message is a dead letter
    assert outcome == "failed"
    assert connections == []
    assert not PushSubscription.objects.exists()
    message.refresh_from_db()
    assert message.status == "failed"
    assert message.last_error == (
        "push endpoint refused: fcm.googleapis.com resolves to a non-public address"
    )


def test_a_stored_endpoint_of_a_host_no_longer_allowed_is_deleted_unsent(
    customer, fake_dns, connections, vapid, settings
):
    subscription = with_push(customer, endpoint="https://push.example.net/sub/1")
    message = push_message(subscription)

    assert message_deliver(message_id=message.pk) == "failed"

    assert (connections, fake_dns.lookups) == ([], [])
    assert not PushSubscription.objects.exists()


def test_a_dns_failure_at_send_time_is_retried_and_keeps_the_subscription(
    customer, fake_dns, connections, vapid
):
    subscription = with_push(customer, endpoint=FCM)
    message = push_message(subscription)
    fake_dns.records["fcm.googleapis.com"] = socket.gaierror(socket.EAI_AGAIN, "try again")

    assert message_deliver(message_id=message.pk) == "retry"

    assert connections == []
    assert PushSubscription.objects.filter(pk=subscription.pk).exists()


def test_an_allowed_public_endpoint_is_sent_to(customer, fake_dns, connections, vapid):
    # The connection is refused by the fake socket: the attempt is all this test needs
    subscription = with_push(customer, endpoint=FCM)
    message = push_message(subscription)
    fake_dns.records["fcm.googleapis.com"] = [PUBLIC_V4]

    assert message_deliver(message_id=message.pk) == "retry"

    assert connections == [(PUBLIC_V4, 443)]
    assert PushSubscription.objects.filter(pk=subscription.pk).exists()
