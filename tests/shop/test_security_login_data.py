"""R46: failed logins leave no typed password (nor any other form data) in the database."""

import pytest
from axes.models import AccessAttempt
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import translation

from tests.factories import product

pytestmark = pytest.mark.django_db

HERE = "203.0.113.7"
MIGRATION = ("shop", "0001_access_attempts_without_form_data")


@pytest.fixture(autouse=True)
def _default_language():
    with translation.override(settings.LANGUAGE_CODE):
        yield


def axes_rows_text() -> str:
    """Every value of every row of every axes table, as one text."""
    values = []
    for model in apps.get_app_config("axes").get_models():
        for row in model.objects.values():
            values.extend(str(value) for value in row.values())
    return "\n".join(values)


def test_failed_logins_store_no_typed_password_anywhere(client):
    # Given a customer and a superuser
    get_user_model().objects.create_user("ann", "ann@example.com", "right-password-1")
    get_user_model().objects.create_user("ben", "ben@example.com", "right-password-3")
    get_user_model().objects.create_superuser("root", "root@example.com", "right-password-2")
    item = product("Mug")
    client.post(reverse("basket:add", kwargs={"pk": item.pk}), {"quantity": 1}, REMOTE_ADDR=HERE)

    # When passwords are mistyped three times on each login form (one also in the URL)
    for n in range(3):
        response = client.post(
            reverse("customer:login") + f"?next=/&login-password=url-secret-{n}",
            {
                "login-username": "ann@example.com",
                "login-password": f"customer-secret-{n}",
                "login_submit": "1",
            },
            REMOTE_ADDR=HERE,
        )
        assert response.status_code == 200
        response = client.post(
            reverse("checkout:index"),
            {
                "username": "ben@example.com",
                "options": "existing",
                "password": f"checkout-secret-{n}",
            },
            REMOTE_ADDR=HERE,
        )
        assert response.status_code == 200
        response = client.post(
            reverse("admin:login"),
            {"username": "root", "password": f"admin-secret-{n}", "next": "/admin/"},
            REMOTE_ADDR=HERE,
        )
        assert response.status_code == 200

    # Then the failures are counted, and no form data is kept with them
    counts = dict(AccessAttempt.objects.values_list("username", "failures_since_start"))
    assert counts == {"ann@example.com": 3, "ben@example.com": 3, "root": 3}
    assert set(AccessAttempt.objects.values_list("get_data", "post_data")) == {("", "")}
    text = axes_rows_text()
    assert "ann@example.com" in text  # the scan does see the rows
    for n in range(3):
        for secret in (
            f"url-secret-{n}",
            f"customer-secret-{n}",
            f"checkout-secret-{n}",
            f"admin-secret-{n}",
        ):
            assert secret not in text
    assert "secret" not in text


# Migrating back and forth inside the test's transaction needs a schema editor that works
# in a transaction: PostgreSQL's does; SQLite's refuses while foreign keys are enforced.
@pytest.mark.postgres
def test_the_migration_forgets_the_form_data_stored_before(db):
    # Given failed-login rows written before this release, with passwords in their data
    kept = AccessAttempt.objects.create(
        username="ann@example.com",
        ip_address=HERE,
        user_agent="ua",
        http_accept="*/*",
        path_info="/accounts/login/",
        failures_since_start=2,
    )
    other = AccessAttempt.objects.create(
        username="root",
        ip_address=HERE,
        user_agent="ua",
        http_accept="*/*",
        path_info="/admin/login/",
        failures_since_start=1,
    )
    AccessAttempt.objects.filter(pk=kept.pk).update(
        get_data="next=/", post_data="login-username=ann@example.com\nlogin-password=hunter2"
    )
    AccessAttempt.objects.filter(pk=other.pk).update(post_data="password=********************")
    executor = MigrationExecutor(connection)
    executor.migrate([("shop", None)])

    # When the migration runs
    executor.loader.build_graph()
    executor.migrate([MIGRATION])

    # Then the data is gone and the rest of each row (the lockout's count) is kept
    rows = AccessAttempt.objects.order_by("pk").values_list(
        "username", "failures_since_start", "get_data", "post_data"
    )
    assert list(rows) == [("ann@example.com", 2, "", ""), ("root", 1, "", "")]
    assert "hunter2" not in axes_rows_text()
