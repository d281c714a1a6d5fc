"""R40: logging out is a POST with CSRF; following a link (GET) never signs anybody out."""

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db

LOGOUT = "/accounts/logout/"


@pytest.fixture(autouse=True)
def _default_language():
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def user():
    return get_user_model().objects.create_user(
        username="lea", email="lea@example.com", password="correct horse battery"
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_r40_get_logout_asks_and_keeps_the_session(user):
    client = Client()
    client.force_login(user)

    response = client.get(LOGOUT)

    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'<form method="post" action="/accounts/logout/">', html)
    assert 'name="csrfmiddlewaretoken"' in html
    assert signed_in(client)


def test_r40_logout_post_without_csrf_token_is_refused(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post(LOGOUT)

    assert response.status_code == 403
    assert signed_in(client)


def test_r40_logout_post_with_csrf_token_signs_out(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get(LOGOUT)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]

    response = client.post(LOGOUT, {"csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert not signed_in(client)


def test_anonymous_get_logout_goes_home():
    response = Client().get(LOGOUT)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_r40_every_page_offers_logout_as_a_post_form_not_a_link(user):
    client = Client()
    client.force_login(user)

    html = client.get(reverse("home")).content.decode()

    assert f'href="{LOGOUT}"' not in html
    form = re.search(
        r'<form class="site-footer__logout" method="post" action="/accounts/logout/">(.*?)</form>',
        html,
        re.S,
    )
    assert form is not None
    assert 'name="csrfmiddlewaretoken"' in form[1]
    assert '<button id="logout_link" type="submit"' in form[1]


def test_r40_dashboard_logout_is_post_only(user):
    staff = get_user_model().objects.create_user(
        username="staff", email="staff@example.com", password="x", is_staff=True
    )
    client = Client()
    client.force_login(staff)

    assert client.get(reverse("dashboard:logout")).status_code == 405
    assert signed_in(client)
    html = client.get(reverse("dashboard:index")).content.decode()
    assert 'action="/dashboard/logout/"' in html
    assert 'href="/dashboard/logout/"' not in html
