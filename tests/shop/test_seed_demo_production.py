"""`seed_demo` on a live shop: refused, or with --allow-production the catalogue and stores
without a single account (the demo passwords are printed in the README)."""

import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from oscar.core.loading import get_model

from stores.models import Pickup, Store

ROOT = Path(__file__).resolve().parents[2]
Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")
User = get_user_model()


def test_seed_demo_is_refused_under_the_real_production_settings():
    # Given the production settings, as docker compose runs them
    database = Path(tempfile.mkdtemp()) / "never-created.sqlite3"
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "k3y-" + "x7Qp9LmZ2vR8tW4n" * 4,
        "ALLOWED_HOSTS": "shop.example.com",
        "SITE_URL": "https://shop.example.com",
        "DATABASE_URL": f"sqlite:///{database}",
        "EMAIL_URL": "filemail:////tmp/solomo-mail",
        "SMS_BACKEND": "file",
    }

    # When seed_demo runs without --allow-production
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    # Then it stops before touching the database, saying what to do instead
    assert result.returncode == 1
    assert "is refused under production settings" in result.stderr
    assert "--allow-production" in result.stderr
    assert "createsuperuser" in result.stderr
    assert not database.exists()


@pytest.mark.django_db
def test_seed_demo_refuses_production_settings_without_the_flag(settings):
    settings.IS_PRODUCTION = True

    with pytest.raises(CommandError, match="refused under production settings"):
        call_command("seed_demo", stdout=io.StringIO())

    assert (Product.objects.count(), User.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_allow_production_adds_the_catalogue_and_stores_and_never_an_account(settings):
    settings.IS_PRODUCTION = True
    out = io.StringIO()

    call_command("seed_demo", allow_production=True, stdout=out)

    # The shop has something to sell, in its stores
    assert Product.objects.count() == 66
    assert StockRecord.objects.count() == 290
    assert Store.objects.count() > 0
    # and nobody can sign in with a README password: no account, no order, no pickup
    assert User.objects.count() == 0
    assert (Order.objects.count(), Pickup.objects.count()) == (0, 0)
    output = out.getvalue()
    assert "python manage.py createsuperuser" in output
    assert "solomo-admin" not in output
    assert "Demo logins" not in output


@pytest.mark.django_db
def test_local_settings_still_seed_the_demo_accounts(settings):
    settings.IS_PRODUCTION = False
    out = io.StringIO()

    call_command("seed_demo", stdout=out)

    assert User.objects.filter(email="admin@solomo.example").exists()
    assert "Demo logins (local demo only)" in out.getvalue()
