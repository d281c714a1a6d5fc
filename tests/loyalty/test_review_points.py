"""Reviews are moderated before they are published, and earn their bonus only once approved
(loyalty/receivers.py, loyalty/services/earning.py: review_bonus_award)."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation
from oscar.core.loading import get_model

from loyalty.models import EntryKind, Member
from loyalty.selectors import earning_rule
from tests.factories import product
from tests.loyalty.factories import member_factory

pytestmark = pytest.mark.django_db

ProductReview = get_model("reviews", "ProductReview")


@pytest.fixture(autouse=True)
def _default_language():
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def reviewer(client):
    member = member_factory(email="rita@example.com")
    assert earning_rule().review_bonus == 25
    client.force_login(member.user)
    return member


@pytest.fixture
def moderator(db):
    from django.test import Client

    moderator = Client()
    moderator.force_login(get_user_model().objects.create_superuser("mod", "mod@example.com", "pw"))
    return moderator


def write_review(client, item) -> ProductReview:
    response = client.post(
        reverse("catalogue:reviews-add", kwargs={"product_slug": item.slug, "product_pk": item.pk}),
        {"title": "Lovely", "score": 5, "body": "Keeps my tea hot."},
    )
    assert response.status_code == 302
    return ProductReview.objects.get(product=item)


def set_status(moderator, review, status: int) -> None:
    response = moderator.post(
        reverse("dashboard:reviews-list"),
        {
            "action": "update_selected_review_status",
            "selected_review": [review.pk],
            "status": status,
        },
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == status


def review_points(member) -> tuple[int, int]:
    """(balance, number of bonus entries) of the member."""
    member = Member.objects.get(pk=member.pk)
    return member.balance, member.entries.filter(kind=EntryKind.BONUS).count()


def test_a_new_review_waits_for_moderation_unpublished_and_earns_nothing(client, reviewer):
    item = product("Mug")

    review = write_review(client, item)

    assert review.status == ProductReview.FOR_MODERATION
    page = client.get(item.get_absolute_url())
    assert "Keeps my tea hot." not in page.content.decode()
    assert review_points(reviewer) == (0, 0)


def test_approval_publishes_the_review_and_earns_its_bonus_once(client, reviewer, moderator):
    item = product("Mug")
    review = write_review(client, item)

    set_status(moderator, review, ProductReview.APPROVED)
    set_status(moderator, review, ProductReview.APPROVED)
    # Rejected, then approved again: still one bonus
    set_status(moderator, review, ProductReview.REJECTED)
    set_status(moderator, review, ProductReview.APPROVED)

    assert review_points(reviewer) == (25, 1)
    assert "Keeps my tea hot." in client.get(item.get_absolute_url()).content.decode()


def test_a_rejected_review_earns_nothing(client, reviewer, moderator):
    review = write_review(client, product("Mug"))

    set_status(moderator, review, ProductReview.REJECTED)

    assert review_points(reviewer) == (0, 0)


def test_a_review_deleted_before_approval_earns_nothing(client, reviewer, moderator):
    review = write_review(client, product("Mug"))

    response = moderator.post(reverse("dashboard:reviews-delete", kwargs={"pk": review.pk}))

    assert response.status_code == 302
    assert not ProductReview.objects.filter(pk=review.pk).exists()
    assert review_points(reviewer) == (0, 0)
