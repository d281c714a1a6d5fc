"""Who may see and change the pages outside the dashboard added with the PWA, the local
inventory feeds and gifts of points (the dashboard's own pages are in
tests/shop/dashboard/test_roles_matrix.py): (GET, POST) for each of the eight roles.

The manifest, the offline page and the feeds are public and read-only. The gift pages are
for signed-in members: anonymous visitors go to the login page, a signed-in user who is not
a member (none of the role users has joined the programme) gets 404, and the confirmation
page answers a GET by sending back to the form.

A gift link's page is for anyone with its secret address; accepting it is for any signed-in
user but its giver (one who never joined is enrolled), anonymous visitors go to the login
page; cancelling it is for its giver alone (404 to everyone else)."""

import pytest
from django.test import Client
from django.urls import reverse

from loyalty.models import GiftLink, GiftLinkStatus
from loyalty.services.gift_links import gift_link_create
from tests.loyalty.factories import funded_member
from tests.roles import ROLES, cast_create

pytestmark = pytest.mark.django_db

PUBLIC_READ_ONLY = {"GET": 200, "POST": 405}
MEMBERS_ONLY = {
    "gift": {"anonymous": (302, 302), "signed in": (404, 404)},
    "gift-send": {"anonymous": (302, 302), "signed in": (302, 404)},
}


def test_each_role_gets_exactly_its_answer_on_the_public_and_gift_pages():
    cast = cast_create()
    slug = cast.store_a.slug
    public = {
        "manifest": reverse("pwa-manifest", kwargs={"language": "fr"}),
        "offline": reverse("pwa-offline"),
        "inventory index": reverse("stores-api:inventory-index"),
        "inventory csv": reverse("stores-api:inventory-csv", kwargs={"slug": slug}),
        "inventory json": reverse("stores-api:inventory-json", kwargs={"slug": slug}),
    }
    gifts = {"gift": reverse("loyalty:gift"), "gift-send": reverse("loyalty:gift-send")}
    got, wanted = {}, {}
    for role in ROLES:
        client = Client()
        if cast.users[role] is not None:
            client.force_login(cast.users[role])
        for name, url in {**public, **gifts}.items():
            got[role, name] = (
                client.get(url).status_code,
                client.post(url, {"number": "1", "points": "1"}).status_code,
            )
            if name in public:
                wanted[role, name] = (PUBLIC_READ_ONLY["GET"], PUBLIC_READ_ONLY["POST"])
            else:
                who = "anonymous" if role == "anonymous" else "signed in"
                wanted[role, name] = MEMBERS_ONLY[name][who]
    assert got == wanted


def test_each_role_gets_exactly_its_answer_on_the_gift_link_pages():
    cast = cast_create()
    giver = funded_member(1000)
    got, wanted = {}, {}
    for role in ROLES:
        client = Client()
        if cast.users[role] is not None:
            client.force_login(cast.users[role])
        link = gift_link_create(sender=giver, points=10, key=role)
        # Making a link first: none of the role users has joined yet.
        urls = {"gift-link-create": reverse("loyalty:gift-link-create")}
        for name in ("gift-link", "gift-link-accept", "gift-link-cancel"):
            urls[name] = reverse(f"loyalty:{name}", kwargs={"token": link.token})
        for name, url in urls.items():
            got[role, name] = (
                client.get(url).status_code,
                client.post(url, {"points": "1", "key": "a" * 32}).status_code,
            )
        link.refresh_from_db()
        got[role, "link"] = (link.status, link.recipient and link.recipient.user)
        signed_in = role != "anonymous"
        wanted.update(
            {
                (role, "gift-link"): (200, 405),
                (role, "gift-link-accept"): (302, 302),
                # The cancel comes after the accept: signed in, the link is taken by then.
                (role, "gift-link-cancel"): (302, 404 if signed_in else 302),
                (role, "gift-link-create"): (302, 404 if signed_in else 302),
                (role, "link"): (
                    (GiftLinkStatus.ACCEPTED, cast.users[role])
                    if signed_in
                    else (GiftLinkStatus.OPEN, None)
                ),
            }
        )
    assert got == wanted
    assert GiftLink.objects.filter(sender=giver, status=GiftLinkStatus.CANCELLED).count() == 0
