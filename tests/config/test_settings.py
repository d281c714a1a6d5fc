"""Start-up configuration: production refuses insecure settings, bad values name the variable."""

from pathlib import Path

import pytest

from tests.config.fixtures import manage

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k3y-" + "x7Qp9LmZ2vR8tW4n" * 4


PRODUCTION = {"DJANGO_SETTINGS_MODULE": "config.settings.production"}
# Where production sends messages: a real server or an explicit file sink, never the console.
MESSAGES = {
    "EMAIL_URL": "smtp+tls://shop:secret@smtp.example.com:587",
    "SMS_BACKEND": "http",
    "SMS_GATEWAY_URL": "https://sms.example.com/send",
}
SITE = {
    "SECRET_KEY": STRONG_KEY,
    "ALLOWED_HOSTS": "shop.example.com",
    "SITE_URL": "https://shop.example.com",
    **MESSAGES,
}


def test_production_check_deploy_has_no_warnings():
    # Given a production configuration with a strong key and real host names
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **PRODUCTION,
        **SITE,
    )
    # Then Django's deployment checklist passes with no warning at all (R33)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ALLOWED_HOSTS": "shop.example.com"}, "SECRET_KEY must be set in the environment"),
        ({"SECRET_KEY": STRONG_KEY}, "ALLOWED_HOSTS must be set in the environment"),
        (
            {"SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "shop.example.com"},
            "SITE_URL must be set in the environment",
        ),
        ({**SITE, "SITE_URL": "shop.example.com"}, "SITE_URL must be the shop's address"),
        (
            {"SECRET_KEY": "short", "ALLOWED_HOSTS": "shop.example.com"},
            "SECRET_KEY is too weak for production",
        ),
        (
            {"SECRET_KEY": "django-insecure-" + "a1b2c3d4e5" * 5, "ALLOWED_HOSTS": "x.example"},
            "SECRET_KEY is too weak for production",
        ),
        ({"SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS must list"),
        (
            {**SITE, "STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_PUBLISHABLE_KEY": "pk_live_x"},
            "STRIPE_WEBHOOK_SECRET must be set when Stripe keys are",
        ),
        ({**SITE, "STRIPE_API_BASE": "http://127.0.0.1:12111"}, "STRIPE_API_BASE is for tests"),
        ({**SITE, "PAYMENT_TEST_METHOD": "True"}, "PAYMENT_TEST_METHOD is for local demos only"),
    ],
    ids=[
        "no-secret-key",
        "no-allowed-hosts",
        "no-site-url",
        "site-url-without-scheme",
        "short-key",
        "insecure-key",
        "wildcard-host",
        "stripe-without-webhook-secret",
        "stripe-api-base",
        "test-payment-method",
    ],
)
def test_production_refuses_insecure_configuration(env, message):
    result = manage("check", **PRODUCTION, **env)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"EMAIL_URL": ""},
            "EMAIL_URL must not be consolemail:// in production (the default)",
        ),
        ({"EMAIL_URL": "consolemail://"}, "EMAIL_URL must not be consolemail://"),
        ({"EMAIL_URL": "memorymail://"}, "EMAIL_URL must not be memorymail://"),
        ({"EMAIL_URL": "dummymail://"}, "EMAIL_URL must not be dummymail://"),
        ({"SMS_BACKEND": ""}, "SMS_BACKEND must not be console in production"),
        ({"SMS_BACKEND": "console"}, "SMS_BACKEND must not be console in production"),
    ],
    ids=[
        "email-default",
        "email-console",
        "email-memory",
        "email-dummy",
        "sms-default",
        "sms-console",
    ],
)
def test_r46_production_refuses_messages_on_the_console(env, message):
    # Given an otherwise valid production configuration whose messages would be printed
    environment = {**SITE, **env}
    environment = {name: value for name, value in environment.items() if value}

    result = manage("check", **PRODUCTION, **environment)

    # Then start-up stops, naming the variable and what to set instead
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
    if "EMAIL_URL" in message:
        assert "smtp+tls://user:password@smtp.example.com:587" in result.stderr
        assert "filemail:////var/mail/solomo" in result.stderr
    else:
        assert "SMS_BACKEND=http with SMS_GATEWAY_URL" in result.stderr


@pytest.mark.parametrize(
    "env",
    [
        {"EMAIL_URL": "filemail:////var/mail/solomo", "SMS_BACKEND": "file"},
        {"EMAIL_URL": "smtp://mail:25", "SMS_BACKEND": "http", "SMS_GATEWAY_URL": "https://s.x"},
    ],
    ids=["file-sinks", "smtp-and-gateway"],
)
def test_production_accepts_a_file_sink_or_a_real_server(env):
    environment = {
        "SECRET_KEY": STRONG_KEY,
        "ALLOWED_HOSTS": "shop.example.com",
        "SITE_URL": "https://shop.example.com",
        **env,
    }
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s; print(s.EMAIL_BACKEND, s.SMS_BACKEND)",
        **PRODUCTION,
        **environment,
    )
    assert result.returncode == 0, result.stderr
    backend = (
        "django.core.mail.backends.filebased.EmailBackend"
        if env["EMAIL_URL"].startswith("filemail")
        # Django's SMTP backend with the hook before DATA (README "Delivery guarantees")
        else "shop.communication.smtp.EmailBackend"
    )
    assert result.stdout.split() == [
        backend,
        env["SMS_BACKEND"],
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://root@localhost/shop"}, "DATABASE_URL must be a postgres://"),
        ({"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/"}, "DATABASE_URL has no database"),
        ({"SHOP_CURRENCY": "EURO"}, "SHOP_CURRENCY must be an ISO 4217 currency code"),
        ({"CONN_MAX_AGE": "forever"}, "CONN_MAX_AGE must be an integer"),
        (
            {"STRIPE_SECRET_KEY": "sk_test_x"},
            "Set both STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY",
        ),
        ({"PAYMENT_HOLD_MINUTES": "1"}, "PAYMENT_HOLD_MINUTES must be at least 5 minutes"),
        ({"SITE_URL": "https://shop.example.com/fr/"}, "SITE_URL must be the shop's address"),
        ({"STORES_STATUS_LINK_DAYS": "0"}, "STORES_STATUS_LINK_DAYS 1 or more"),
    ],
    ids=[
        "garbage-url",
        "unsupported-engine",
        "no-db-name",
        "unknown-currency",
        "bad-conn-max-age",
        "one-stripe-key",
        "short-payment-hold",
        "site-url-with-path",
        "no-status-link-days",
    ],
)
def test_bad_environment_values_stop_start_up_naming_the_variable(env, message):
    result = manage("check", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_no_environment_at_all_uses_sqlite_locmem_and_in_process_tasks():
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], "
        "s.CELERY_TASK_ALWAYS_EAGER, s.OSCAR_DEFAULT_CURRENCY, "
        "s.DATABASES['default']['CONN_MAX_AGE'])",
        DATABASE_URL="",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "django.core.cache.backends.locmem.LocMemCache",
        "True",
        "EUR",
        "60",
    ]


def test_urls_select_postgresql_and_redis():
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], "
        "s.CACHES['default']['BACKEND'], s.CELERY_BROKER_URL, s.CELERY_TASK_ALWAYS_EAGER, "
        "s.OSCAR_DEFAULT_CURRENCY)",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/solomo_settings",
        REDIS_URL="redis://127.0.0.1:6379/0",
        SHOP_CURRENCY="gbp",
        DJANGO_SETTINGS_MODULE="config.settings.local",
    )
    # `shell` does not connect to the database, so this needs no server.
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "solomo_settings",
        "django_redis.cache.RedisCache",
        "redis://127.0.0.1:6379/0",
        "False",
        "GBP",
    ]
