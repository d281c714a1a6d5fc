"""R47: a pickup shared with a friend — a second, revocable pass.

The buyer makes a pass with its own link, code and QR; the friend's code collects the
order, staff see who took it and the buyer is told; revoking refuses the code at once
(the buyer's own keeps working); one pass per pickup at most, none once it is closed;
staff never see the friend's code or link; the counter's rate limit counts its codes.
"""

import re
import time
from types import SimpleNamespace

import django_ratelimit.core
import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from shop.audit.models import AuditEvent
from shop.communication.models import OutboxMessage
from stores.models import PickupStatus, SharedPickupPass
from stores.sharing import (
    SharingRefused,
    pickup_hand_over_by_code,
    shared_pass_active,
    shared_pass_code,
    shared_pass_create,
    shared_pass_qr_payload,
    shared_pass_revoke,
    shared_pass_url,
)
from tests.roles import ROLES, cast_create
from tests.stores.factories import buyer_with_history, pickup_order, staff_of, store

pytestmark = pytest.mark.django_db

REVOKED_CODE = "This code is from a shared pass the customer has revoked"


def share(client, pickup, name=""):
    url = reverse("stores:pickup-share", kwargs={"number": pickup.order.number})
    return client.post(url, {"friend_name": name})


def revoke(client, pickup):
    url = reverse("stores:pickup-share-revoke", kwargs={"number": pickup.order.number})
    return client.post(url)


def hand_over(client, pickup, code):
    url = reverse("stores-dashboard:status", kwargs={"pk": pickup.pk})
    return client.post(url, {"action": "collected", "code": code})


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def centre():
    return store("Centre")


def test_r47_the_buyer_shares_and_the_friend_sees_a_code_and_qr_of_their_own(centre):
    # Given a buyer with an address, an earlier order and a pickup ready at the store
    buyer, pickup, earlier = buyer_with_history(centre)
    client = signed_in(buyer)

    # When they let a friend collect it
    response = share(client, pickup, "  Paul   Durand ")

    # Then a pass exists with a six-digit code that is not theirs
    order_url = reverse("customer:order", kwargs={"order_number": pickup.order.number})
    assert response.status_code == 302
    assert response["Location"] == order_url + "#pickup-sharing"
    shared = SharedPickupPass.objects.get()
    code = shared_pass_code(shared=shared)
    assert re.fullmatch(r"\d{6}", code) and code != pickup.code
    assert shared.friend_name == "Paul Durand"
    # and their order page offers the link to send (Web Share or copy)
    page = client.get(order_url).content.decode()
    link = "http://testserver" + shared_pass_url(shared=shared)
    assert f'data-share-url="{link}"' in page
    assert f'action="/stores/pickups/{pickup.order.number}/share/revoke/"' in page

    # When the friend opens the link, signed in nowhere
    friend = Client().get(shared_pass_url(shared=shared))

    # Then it shows the store, their code and its QR, kept for offline use
    html = friend.content.decode()
    assert friend.status_code == 200
    assert friend["X-Offline-Keep"] == "1"
    assert f'<strong class="pickup-code">{code}</strong>' in html
    assert '<div class="pickup-qr"><svg' in html
    assert "Centre" in html and "For Paul Durand" in html
    # and nothing else of the buyer's: not their code, name, e-mail, address, other orders
    for private in (pickup.code, "Martin", buyer.email, "12 rue des Secrets", str(earlier.number)):
        assert private not in html


def test_r47_the_link_and_code_are_not_stored_and_a_wrong_link_finds_nothing(centre):
    buyer, pickup, _earlier = buyer_with_history(centre)
    shared = shared_pass_create(
        pickup=pickup, user=buyer, friend_name="", language="en", now=timezone.now()
    )
    token = shared_pass_url(shared=shared).rstrip("/").rsplit("/", 1)[1]

    stored = " ".join(str(value) for value in SharedPickupPass.objects.values().get().values())
    assert shared_pass_code(shared=shared) not in stored
    assert token.split("-")[1] not in stored
    tampered = token[:-1] + ("0" if token[-1] != "0" else "1")
    for bad in (tampered, f"{shared.pk + 1}-{token.split('-')[1]}", "1", "x" * 40):
        url = reverse("stores:friend-pass", kwargs={"token": bad})
        assert Client().get(url).status_code == 404


def test_r47_revoking_refuses_the_friends_code_at_once_and_the_buyers_still_works(centre):
    # Given a buyer who shared their pickup, and the store's member of staff
    buyer, pickup, _earlier = buyer_with_history(centre)
    client = signed_in(buyer)
    share(client, pickup, "Paul")
    shared = SharedPickupPass.objects.get()
    friend_code = shared_pass_code(shared=shared)
    counter = signed_in(staff_of(centre, "staff@centre.example"))

    # When the buyer revokes the pass (from the page the share led back to)
    client.get(reverse("customer:order", kwargs={"order_number": pickup.order.number}))
    response = revoke(client, pickup)

    # Then the friend's link says so, without the code
    assert said(response) == ["Your friend's pass is revoked: its code no longer works."]
    page = Client().get(shared_pass_url(shared=shared))
    assert page.status_code == 410
    assert friend_code not in page.content.decode()
    assert "X-Offline-Keep" not in page

    # and the counter refuses the friend's code, and its QR, saying why
    for given in (friend_code, shared_pass_qr_payload(shared=shared)):
        refused = hand_over(counter, pickup, given)
        assert refused.status_code == 302
        assert said(refused) == [
            f"{REVOKED_CODE}: it no longer collects the order. Ask for the customer's own code."
        ]
        counter.get(reverse("stores-dashboard:detail", kwargs={"pk": pickup.pk}))  # read
    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.READY

    # When the buyer comes with their own code
    response = hand_over(counter, pickup, pickup.code)

    # Then it is handed over to them
    assert said(response) == [f"Order {pickup.order.number}: Collected. €9.99 taken at pickup."]
    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.COLLECTED
    assert SharedPickupPass.objects.get().collected_at is None


def test_r47_a_new_pass_revokes_the_one_before(centre):
    buyer, pickup, _earlier = buyer_with_history(centre)
    client = signed_in(buyer)
    share(client, pickup, "Paul")
    share(client, pickup, "Zoé")

    old, new = SharedPickupPass.objects.order_by("pk")
    assert old.revoked_at is not None and new.revoked_at is None
    assert shared_pass_active(pickup=pickup) == new
    assert Client().get(shared_pass_url(shared=old)).status_code == 410
    assert Client().get(shared_pass_url(shared=new)).status_code == 200
    with pytest.raises(Exception, match=REVOKED_CODE):
        pickup_hand_over_by_code(
            pickup=pickup, code=shared_pass_code(shared=old), now=timezone.now()
        )


def test_r47_the_friend_collects_staff_see_who_and_the_buyer_is_told_in_their_language(
    centre, django_capture_on_commit_callbacks
):
    # Given a buyer who shared their pickup from the French site, naming their friend
    buyer, pickup, _earlier = buyer_with_history(centre)
    client = signed_in(buyer)
    with translation.override("fr"):
        response = share(client, pickup, "Paul")
    assert response.status_code == 302
    shared = SharedPickupPass.objects.get()
    assert shared.language == "fr"
    counter = signed_in(staff_of(centre, "staff@centre.example"))

    # Then the queue and the order's page tell staff a friend may come
    queue = counter.get(reverse("stores-dashboard:queue")).content.decode()
    assert "May be collected by Paul, a friend of Léa Martin" in queue
    detail = counter.get(reverse("stores-dashboard:detail", kwargs={"pk": pickup.pk}))
    assert "May be collected by Paul, a friend of Léa Martin" in detail.content.decode()

    # When the friend shows their QR code at the counter
    with django_capture_on_commit_callbacks(execute=True):
        response = hand_over(counter, pickup, shared_pass_qr_payload(shared=shared))

    # Then the order is handed over, staff told to whom
    assert said(response) == [
        f"Order {pickup.order.number}: Collected by Paul, a friend of Léa Martin. "
        "€9.99 taken at pickup."
    ]
    pickup.refresh_from_db()
    shared.refresh_from_db()
    assert pickup.status == PickupStatus.COLLECTED
    assert shared.collected_at == pickup.collected_at
    collected = counter.get(reverse("stores-dashboard:queue"), {"status": "collected"})
    assert "Collected by Paul, a friend of Léa Martin" in collected.content.decode()
    # and the buyer gets one message, in French, with no secret in it
    (message,) = OutboxMessage.objects.filter(
        event_code="PICKUP_COLLECTED_BY_FRIEND", channel="email"
    )
    assert message.user == buyer
    assert message.language == "fr"
    assert message.subject == f"Votre commande {pickup.order.number} a été retirée par votre ami"
    assert message.has_secret is False
    # and their order page and the friend's page say it was collected, with no code left
    order_url = reverse("customer:order", kwargs={"order_number": pickup.order.number})
    page = client.get(order_url).content.decode()
    assert "Collected by your friend Paul, with the pass you shared." in page
    friend = Client().get(shared_pass_url(shared=shared))
    assert "You collected this order. Thank you!" in friend.content.decode()
    assert shared_pass_code(shared=shared) not in friend.content.decode()
    assert "X-Offline-Keep" not in friend


@pytest.mark.parametrize("status", [PickupStatus.COLLECTED, PickupStatus.CANCELLED])
def test_r47_a_closed_pickup_cannot_be_shared_or_revoked(status):
    buyer, pickup, _earlier = buyer_with_history(store("Centre"))
    shared = shared_pass_create(
        pickup=pickup, user=buyer, friend_name="", language="en", now=timezone.now()
    )
    type(pickup).objects.filter(pk=pickup.pk).update(status=status)

    # Each from its own session, so each response carries only its own message
    created = share(signed_in(buyer), pickup, "Paul")
    revoked = revoke(signed_in(buyer), pickup)

    expected = f"This order is {PickupStatus(status).label}: its pickup can no longer be shared."
    assert said(created) == said(revoked) == [expected]
    assert list(SharedPickupPass.objects.values_list("pk", "revoked_at")) == [(shared.pk, None)]


def test_r47_only_the_buyer_may_create_or_revoke_through_the_service(centre):
    buyer, pickup, _earlier = buyer_with_history(centre)
    other = pickup_order(centre).order  # a guest's
    stranger = staff_of(centre, "staff@centre.example")
    with pytest.raises(SharingRefused):
        shared_pass_create(
            pickup=pickup, user=stranger, friend_name="", language="en", now=timezone.now()
        )
    with pytest.raises(SharingRefused):
        shared_pass_revoke(pickup=other.pickup, user=buyer, now=timezone.now())
    with pytest.raises(SharingRefused, match="at most 60 characters"):
        shared_pass_create(
            pickup=pickup, user=buyer, friend_name="x" * 61, language="en", now=timezone.now()
        )
    assert not SharedPickupPass.objects.exists()


def test_r47_staff_never_see_the_friends_code_or_link(centre):
    # Given a shared pickup, handed over with the friend's code
    buyer, pickup, _earlier = buyer_with_history(centre)
    shared = shared_pass_create(
        pickup=pickup, user=buyer, friend_name="Paul", language="en", now=timezone.now()
    )
    code, url = shared_pass_code(shared=shared), shared_pass_url(shared=shared)
    token = url.rstrip("/").rsplit("/", 1)[1]
    staff = staff_of(centre, "staff@centre.example")
    hq = type(buyer).objects.create_superuser("hq@example.com", "hq@example.com", "pw")
    before = [
        (user, path)
        for user in (staff, hq)
        for path in (
            reverse("stores-dashboard:queue"),
            reverse("stores-dashboard:detail", kwargs={"pk": pickup.pk}),
        )
    ]
    pages = [signed_in(user).get(path) for user, path in before]
    assert hand_over(signed_in(staff), pickup, code).status_code == 302
    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.COLLECTED
    admin = signed_in(hq)
    pages += [
        signed_in(staff).get(reverse("stores-dashboard:queue"), {"status": "collected"}),
        admin.get(reverse("stores-dashboard:detail", kwargs={"pk": pickup.pk})),
        admin.get(reverse("admin:stores_pickup_change", args=[pickup.pk])),
        admin.get(reverse("admin:app_list", args=["stores"])),
        admin.get(reverse("dashboard:order-detail", kwargs={"number": pickup.order.number})),
    ]

    # Then no page staff open shows them, and nothing records the code that was typed
    for page in pages:
        assert page.status_code == 200, page.request["PATH_INFO"]
        html = page.content.decode()
        assert not re.search(rf"\b{code}\b", html), page.request["PATH_INFO"]
        assert token not in html
    assert AuditEvent.objects.filter(path__contains="/status/").count() == 1
    for event in AuditEvent.objects.all():
        assert code not in str(event.__dict__)
    for message in OutboxMessage.objects.all():
        assert code not in f"{message.subject} {message.body} {message.html}"


def test_r47_the_friends_codes_count_towards_the_counter_rate_limit(centre, monkeypatch):
    # django-ratelimit's clock held still, so the minute cannot end during the test
    now = time.time()
    monkeypatch.setattr(django_ratelimit.core, "time", SimpleNamespace(time=lambda: now))
    buyer, pickup, _earlier = buyer_with_history(centre)
    shared = shared_pass_create(
        pickup=pickup, user=buyer, friend_name="", language="en", now=timezone.now()
    )
    wrong = {shared_pass_code(shared=shared), pickup.code}
    counter = signed_in(staff_of(centre, "staff@centre.example"))

    guesses = [f"{n:06d}" for n in range(20) if f"{n:06d}" not in wrong][:10]
    for guess in guesses:
        assert hand_over(counter, pickup, guess).status_code == 302
    response = hand_over(counter, pickup, shared_pass_code(shared=shared))

    assert response.status_code == 429
    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.READY


# --- Who may do what: the eight roles ------------------------------------------------------


def test_r47_each_role_gets_exactly_its_answer_on_the_sharing_pages():
    """Create and revoke: the buyer (the shopper) only, by POST; the friend's page: anyone
    with the link, by GET, showing nothing of the buyer's account."""
    cast = cast_create()
    buyer = cast.users["shopper"]
    pickup = pickup_order(cast.store_a, user=buyer, status=PickupStatus.READY)
    earlier = pickup_order(cast.store_a, user=buyer).order
    number = pickup.order.number
    urls = {
        "create": reverse("stores:pickup-share", kwargs={"number": number}),
        "revoke": reverse("stores:pickup-share-revoke", kwargs={"number": number}),
    }
    got, wanted = {}, {}
    for role in ROLES:
        shared = shared_pass_create(
            pickup=pickup, user=buyer, friend_name="", language="en", now=timezone.now()
        )
        client = Client()
        if cast.users[role] is not None:
            client.force_login(cast.users[role])
        page = client.get(shared_pass_url(shared=shared))
        got[role, "friend page"] = (
            page.status_code,
            client.post(page.request["PATH_INFO"]).status_code,
        )
        wanted[role, "friend page"] = (200, 405)
        if role != "shopper":
            html = page.content.decode()
            assert buyer.email not in html and str(earlier.number) not in html, role
        for name, url in urls.items():
            got[role, name] = (client.get(url).status_code, client.post(url).status_code)
            wanted[role, name] = (405, 302 if role == "shopper" else 404)
        # Nobody but the buyer changed anything: the pass is still the active one.
        still = shared_pass_active(pickup=pickup)
        assert (still is None) if role == "shopper" else (still == shared), role
    assert got == wanted


# --- Revocation against a hand-over, at the same moment ------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_r47_a_revocation_and_a_hand_over_with_the_friends_code_never_both_succeed():
    from stores.models import Pickup
    from tests.concurrency import hold_row_locks, run_concurrently

    buyer, pickup, _earlier = buyer_with_history(store("Centre"))
    shared = shared_pass_create(
        pickup=pickup, user=buyer, friend_name="", language="en", now=timezone.now()
    )
    code = shared_pass_code(shared=shared)

    results = run_concurrently(
        [
            lambda: shared_pass_revoke(pickup=pickup, user=buyer, now=timezone.now()),
            lambda: pickup_hand_over_by_code(pickup=pickup, code=code, now=timezone.now()),
        ],
        until_blocked=2,
        lock=hold_row_locks("stores_pickup", [pickup.pk]),
    )

    pickup = Pickup.objects.get(pk=pickup.pk)
    shared.refresh_from_db()
    revoked_first = results[0] == 1
    if revoked_first:
        assert "revoked" in str(results[1]), results
        assert pickup.status == PickupStatus.READY
        assert shared.revoked_at is not None and shared.collected_at is None
    else:
        assert isinstance(results[0], SharingRefused), results
        assert pickup.status == PickupStatus.COLLECTED
        assert shared.collected_at is not None and shared.revoked_at is None
