"""R40: two Oscar views that changed state on GET too are POST only; their POST still works."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.factories import product
from tests.stores.factories import store

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture(autouse=True)
def _default_language():
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def shopper():
    user = User.objects.create_user("lea", "lea@example.com", "pw")
    client = Client()
    client.force_login(user)
    return user, client


def test_r40_adding_to_a_wish_list_by_get_is_refused(shopper):
    user, client = shopper
    item = product("Blue mug")
    url = reverse("customer:wishlists-add-product", kwargs={"product_pk": item.pk})

    assert client.get(url).status_code == 405
    assert user.wishlists.count() == 0

    assert client.post(url).status_code == 302
    assert list(user.wishlists.get().lines.values_list("product_id", flat=True)) == [item.pk]


def test_r40_adding_to_a_named_wish_list_by_get_is_refused(shopper):
    user, client = shopper
    item = product("Blue mug")
    wishlist = user.wishlists.create(name="Gifts")
    url = reverse(
        "customer:wishlists-add-product", kwargs={"key": wishlist.key, "product_pk": item.pk}
    )

    assert client.get(url).status_code == 405
    assert wishlist.lines.count() == 0
    assert client.post(url).status_code == 302
    assert wishlist.lines.count() == 1


def test_product_page_adds_to_one_of_several_wish_lists_by_post(shopper):
    user, client = shopper
    item = product("Blue mug")
    first, second = user.wishlists.create(name="A"), user.wishlists.create(name="B")

    html = client.get(item.get_absolute_url()).content.decode()

    for wishlist in (first, second):
        url = reverse(
            "customer:wishlists-add-product", kwargs={"key": wishlist.key, "product_pk": item.pk}
        )
        assert f'<form method="post" action="{url}">' in html
        assert f'href="{url}"' not in html


def test_r40_linking_a_user_to_a_partner_by_get_is_refused():
    shop = store("Centre")
    admin = User.objects.create_superuser("root", "root@example.com", "pw")
    newcomer = User.objects.create_user("zoe", "zoe@example.com", "pw")
    client = Client()
    client.force_login(admin)
    url = reverse(
        "dashboard:partner-user-link",
        kwargs={"partner_pk": shop.partner.pk, "user_pk": newcomer.pk},
    )

    assert client.get(url).status_code == 405
    assert not shop.partner.users.filter(pk=newcomer.pk).exists()

    assert client.post(url).status_code == 302
    assert shop.partner.users.filter(pk=newcomer.pk).exists()


def test_partner_user_link_keeps_oscars_permission_check():
    shop = store("Centre")
    staff = User.objects.create_user("sam", "sam@example.com", "pw", is_staff=True)
    client = Client()
    client.force_login(staff)
    url = reverse(
        "dashboard:partner-user-link", kwargs={"partner_pk": shop.partner.pk, "user_pk": staff.pk}
    )

    response = client.post(url)

    assert response.status_code == 403
    assert not shop.partner.users.filter(pk=staff.pk).exists()
