"""shop/security/dashboard_link.py: the account menu's "Dashboard" link is cached per user,
yet shows for exactly the roles that may open the dashboard, and follows every change of
a user's groups or permissions at once; the dashboard itself checks live permissions."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from shop.security import roles
from tests.roles import ROLES, cast_create
from tests.stores.factories import store

pytestmark = pytest.mark.django_db

LINK = 'class="header-action header-action--dashboard"'


def link_shown(client: Client) -> bool:
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return LINK in response.content.decode()


def dashboard_opens(client: Client) -> bool:
    """The dashboard's home answers (store staff start on their pickup queue); anybody
    else is sent to sign in."""
    response = client.get(reverse("dashboard:index"))
    if response.status_code == 302 and response.url == reverse("stores-dashboard:queue"):
        return client.get(response.url).status_code == 200
    return response.status_code == 200


def test_the_link_shows_for_the_roles_that_may_open_the_dashboard():
    cast = cast_create()
    shown = {}
    for role in ROLES:
        client = Client()
        if cast.users[role] is not None:
            client.force_login(cast.users[role])
        link_shown(client)  # the answer cached
        shown[role] = (link_shown(client), dashboard_opens(client))

    assert shown == {
        "superuser": (True, True),
        "catalogue manager": (True, True),
        "marketer": (True, True),
        "support": (True, True),
        "store A staff": (True, True),
        "store B staff": (True, True),
        "shopper": (False, False),
        "anonymous": (False, False),
    }


def test_a_group_or_permission_change_shows_at_once():
    roles.roles_sync()
    group = Group.objects.get(name=roles.STORE_STAFF)
    access = Permission.objects.get(content_type__app_label="partner", codename="dashboard_access")
    user = cast_create().users["shopper"]
    client = Client()
    client.force_login(user)
    assert link_shown(client) is False

    user.groups.add(group)  # made store staff
    assert (link_shown(client), link_shown(client)) == (True, True)
    group.permissions.remove(access)  # the role loses the dashboard
    assert (link_shown(client), dashboard_opens(client)) == (False, False)
    group.permissions.add(access)
    assert link_shown(client) is True
    user.groups.remove(group)
    assert link_shown(client) is False
    user.user_permissions.add(access)  # a permission of their own
    assert link_shown(client) is True
    access_holder = Group.objects.create(name="Temporary")
    access_holder.permissions.add(access)
    user.user_permissions.clear()
    user.groups.add(access_holder)
    assert link_shown(client) is True
    access_holder.delete()  # the group deleted, its members' links with it
    assert (link_shown(client), dashboard_opens(client)) == (False, False)


def test_a_superuser_flag_on_the_users_own_row_shows_at_once():
    store("Centre")
    user = cast_create().users["shopper"]
    client = Client()
    client.force_login(user)
    assert link_shown(client) is False

    user.is_superuser = True
    user.save()
    assert link_shown(client) is True
    user.is_superuser = False
    user.save(update_fields=["is_superuser"])
    assert link_shown(client) is False
