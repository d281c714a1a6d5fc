"""Gift links from the member's pages (/loyalty/gift/, /loyalty/g/<token>/): R23."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from oscar.test.factories import UserFactory

from loyalty.models import GiftLink, GiftLinkStatus, Member, PointsEntry
from loyalty.services.gift_links import gift_link_create
from tests.loyalty.factories import funded_member

pytestmark = pytest.mark.django_db

PASSWORD = "skelebrain"  # oscar's UserFactory


@pytest.fixture
def giver(client):
    member = funded_member(400, first_name="Alice", last_name="Martin")
    client.force_login(member.user)
    return client, member


def _signed_in(member_or_user) -> Client:
    client = Client()
    client.force_login(getattr(member_or_user, "user", member_or_user))
    return client


def _link_key(page) -> str:
    return re.search(rb'name="key" value="([0-9a-f]{32})"', page.content).group(1).decode()


def _link_url(link) -> str:
    return reverse("loyalty:gift-link", kwargs={"token": link.token})


def test_r23_a_member_makes_a_link_and_the_friend_who_opens_it_accepts(giver):
    client, member = giver
    form = client.get(reverse("loyalty:gift"))
    data = {"points": 150, "message": "Pour ton anniversaire", "key": _link_key(form)}

    first = client.post(reverse("loyalty:gift-link-create"), data)
    second = client.post(reverse("loyalty:gift-link-create"), data)

    link = GiftLink.objects.get()  # a double tap makes one link
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == _link_url(link)
    own = client.get(_link_url(link))
    url = f"http://testserver{_link_url(link)}"
    assert b"Your gift link is ready: share it with a friend." in own.content
    assert f'data-share-url="{url}" data-copy-url="{url}"'.encode() in own.content
    assert b"Cancel the gift and take my points back" in own.content
    assert b"250</strong> points" in client.get(reverse("loyalty:member")).content

    friend_member = funded_member(0, first_name="Bruno", last_name="Petit")
    friend = _signed_in(friend_member)
    offer = friend.get(_link_url(link))
    assert b"A*** M. offers you 150 points" in offer.content
    assert b"Pour ton anniversaire" in offer.content
    assert b"Martin" not in offer.content
    accepted = friend.post(reverse("loyalty:gift-link-accept", kwargs={"token": link.token}))

    assert accepted.status_code == 302 and accepted["Location"] == reverse("loyalty:member")
    page = friend.get(reverse("loyalty:member"))
    assert b"You received 150 points from A*** M." in page.content
    assert b"Gift from A*** M." in page.content
    assert b"150</strong> points" in page.content
    assert b"Gift to B*** P." in client.get(reverse("loyalty:member")).content
    assert b"Accepted on" in client.get(_link_url(link)).content


def test_r23_a_visitor_signs_in_then_comes_back_to_accept(giver):
    _client, member = giver
    link = gift_link_create(sender=member, points=100, key="k")
    friend = UserFactory(email="bruno@example.com")  # has an account, never joined
    visitor = Client()

    offer = visitor.get(_link_url(link))
    accept_url = reverse("loyalty:gift-link-accept", kwargs={"token": link.token})
    refused = visitor.post(accept_url)

    login = f"{reverse('customer:login')}?next={_link_url(link)}"
    assert b"Sign in or create your account to accept them" in offer.content
    assert f'href="{login}"'.encode() in offer.content
    assert refused.status_code == 302 and refused["Location"].startswith(reverse("customer:login"))
    assert GiftLink.objects.get().status == GiftLinkStatus.OPEN
    signed_in = visitor.post(
        login,
        {
            "login-username": friend.email,
            "login-password": PASSWORD,
            "login-redirect_url": _link_url(link),
            "login_submit": "1",
        },
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == _link_url(link)
    assert b"Accept the points" in visitor.get(_link_url(link)).content
    assert visitor.post(accept_url).status_code == 302

    joined = Member.objects.get(user=friend)  # accepting enrolled them
    assert GiftLink.objects.get().recipient == joined
    assert joined.entries.filter(idempotency_key=f"giftlink:{link.pk}:in").get().amount == 100


def test_r23_a_second_friend_is_told_the_gift_is_gone(giver):
    _client, member = giver
    link = gift_link_create(sender=member, points=100, key="k")
    accept_url = reverse("loyalty:gift-link-accept", kwargs={"token": link.token})
    _signed_in(funded_member(0)).post(accept_url)
    late = _signed_in(funded_member(0))

    refused = late.post(accept_url, follow=True)

    assert refused.redirect_chain == [(_link_url(link), 302)]
    assert refused.content.count(b"This gift has already been accepted.") == 2  # message, page
    assert b"Accept the points" not in refused.content
    assert PointsEntry.objects.filter(idempotency_key__endswith=":in").count() == 1


def test_r23_the_giver_cancels_from_the_link_page_and_nobody_else_can(giver):
    client, member = giver
    link = gift_link_create(sender=member, points=100, key="k")
    cancel_url = reverse("loyalty:gift-link-cancel", kwargs={"token": link.token})

    assert _signed_in(funded_member(0)).post(cancel_url).status_code == 404
    assert (
        client.post(
            reverse("loyalty:gift-link-accept", kwargs={"token": link.token}), follow=True
        ).content.count(b"This is your own gift link")
        == 1
    )
    cancelled = client.post(cancel_url, follow=True)

    assert cancelled.redirect_chain == [(reverse("loyalty:gift"), 302)]
    assert b"Gift link cancelled: 100 points are back in your balance." in cancelled.content
    member.refresh_from_db()
    assert member.balance == 400
    assert b"The 100 points came back to you." in client.get(_link_url(link)).content
    offer = _signed_in(funded_member(0)).get(_link_url(link))
    assert b"The giver cancelled this gift." in offer.content


def test_r23_clear_errors_when_making_a_link(giver):
    client, _member = giver
    form = client.get(reverse("loyalty:gift"))
    url = reverse("loyalty:gift-link-create")

    too_many = client.post(url, {"points": 401, "key": _link_key(form)})
    zero = client.post(url, {"points": 0, "key": _link_key(form)})
    no_key = client.post(url, {"points": 10})

    assert b"Not enough points: 400 available, 401 asked." in too_many.content
    assert b"Ensure this value is greater than or equal to 1." in zero.content
    assert b"Please try again." in no_key.content
    assert _link_key(no_key) != _link_key(form)
    assert not GiftLink.objects.exists()
    assert client.get(reverse("loyalty:gift-link", kwargs={"token": "x" * 32})).status_code == 404


def test_r23_the_link_page_is_never_cached_nor_indexed(giver):
    _client, member = giver
    link = gift_link_create(sender=member, points=10, key="k")

    page = Client().get(_link_url(link))

    assert page["Cache-Control"] == "private, no-store"
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    assert b'<meta name="robots" content="noindex, nofollow">' in page.content


def test_r23_the_gift_link_pages_speak_french(giver):
    client, member = giver
    link = gift_link_create(sender=member, points=20, key="k")

    gift_page = client.get("/fr/loyalty/gift/").content.decode()
    offer = Client().get(f"/fr/loyalty/g/{link.token}/").content.decode()

    assert "Ou envoyez un lien cadeau" in gift_page
    assert "Créer le lien" in gift_page
    assert "En attente d&#x27;un ami" in gift_page
    assert "A*** M. vous offre 20 points" in offer
    assert "Connectez-vous ou créez votre compte pour les accepter" in offer


def test_r23_a_link_past_its_time_can_still_be_cancelled_before_the_task_runs(giver):
    client, member = giver
    past = timezone.now() - timedelta(days=settings.LOYALTY_GIFT_LINK_DAYS, minutes=1)
    link = gift_link_create(sender=member, points=100, key="k", at=past)

    own = client.get(_link_url(link))
    offer = _signed_in(funded_member(0)).get(_link_url(link))

    assert b"This gift link has expired." in own.content
    assert b"Share the link" not in own.content
    assert b"This gift link has expired." in offer.content
    assert b"Accept the points" not in offer.content
    client.post(reverse("loyalty:gift-link-cancel", kwargs={"token": link.token}))
    member.refresh_from_db()
    assert member.balance == 400
