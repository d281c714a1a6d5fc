"""Shared test fixtures.

Real services: with DATABASE_URL the suite runs on PostgreSQL, with REDIS_URL
on Redis with a real Celery worker. Tests that need them are marked `postgres`
or `redis`; without the service they skip and say why, except under CI=true,
where a missing service fails the run.
"""

import fcntl
import os
import tempfile
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation

from tests.browser import browser  # noqa: F401  (one Chromium per browser test module)
from tests.celery_worker import Worker
from tests.fake_stripe import fake_stripe, fast_retries  # noqa: F401  (the offline Stripe, R11)
from tests.no_network import no_network

IN_CI = os.environ.get("CI", "").lower() == "true"


def _service_missing(marker: str) -> str | None:
    if marker == "postgres" and connection.vendor != "postgresql":
        return "needs PostgreSQL: set DATABASE_URL=postgres://... (SQLite is in use)"
    if marker == "redis" and not settings.REDIS_URL:
        return "needs Redis and a Celery worker: set REDIS_URL=redis://... (tasks run in-process)"
    return None


@pytest.fixture(autouse=True)
def _require_services(request):
    for marker in ("postgres", "redis"):
        if request.node.get_closest_marker(marker):
            reason = _service_missing(marker)
            if reason and IN_CI:
                pytest.fail(f"CI=true but this test {reason}")
            if reason:
                pytest.skip(reason)


@pytest.fixture(autouse=True, scope="session")
def _fresh_cache():
    """Start every run with an empty cache: Redis outlives a test run, and thumbnails an
    earlier run recorded there point at media files that were in its temporary MEDIA_ROOT."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_local_cache():
    """Without Redis the cache is this process's memory: empty it before each test. SQLite
    hands a rolled-back test's row ids to the next test, so an entry keyed by id (a member's
    segment membership) would otherwise answer for a different row. Redis is shared by the
    parallel workers, which is why it is only emptied once per run."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()


@pytest.fixture(autouse=True)
def _own_recommendation_lists():
    """Each test reads its own cached recommendation lists: they are named by a version
    the job sets after commit, which tests rolled back never reach, and SQLite gives the
    ids of a rolled-back test to the next one."""
    from loyalty.services.recommendations import recommendations_version_bump

    recommendations_version_bump()


@pytest.fixture(autouse=True)
def _own_offers_version():
    """Each test reads its own cached offers (shop/offer/cache.py): an offer saved by a
    rolled-back test was cached under a version that test's commit would have replaced."""
    from shop.offer.cache import offers_version_replace

    offers_version_replace()


@pytest.fixture(autouse=True)
def _own_rate_limit_counters(settings):
    """Each test counts rate-limited attempts (R37) from zero: the counters live in the
    cache, which tests share, and most tests post from the same address (127.0.0.1)."""
    settings.RATELIMIT_CACHE_PREFIX = f"ratelimit:{uuid.uuid4().hex}:"


@pytest.fixture(autouse=True)
def _redis_circuits_closed():
    """Each test starts with every Redis reachable as far as this process knows
    (shop/redis_circuit.py): a test that stops one must not make the next skip it."""
    from shop.redis_circuit import circuit

    circuit.reset()
    yield
    circuit.reset()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request to a /fr/ page activates French
    in the thread, and reverse() in a later test on the same worker would give /fr/ URLs."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True, scope="session")
def _missing_product_image():
    """Put Oscar's 'missing image' placeholder in the test MEDIA_ROOT once, before any test
    runs, as the web service's deploy step does (shop/catalogue/missing_image.py): Oscar
    would create it lazily and raise ImproperlyConfigured when two threads race to."""
    from shop.catalogue.missing_image import missing_image_install

    missing_image_install()


# --- One migrated database per run, cloned for each xdist worker ----------------------


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_modify_db_settings,
    django_db_keepdb,
    django_db_createdb,
):
    """Create the test database, migrating once per run even with several xdist workers.

    Migrating takes about 40 s of CPU; two workers doing it side by side on a 2-core CI
    machine took 80 s each. On PostgreSQL under xdist, the first worker to take a file lock
    migrates a template database (`test_<name>_template`) and every worker then copies it
    with `CREATE DATABASE … TEMPLATE` (Django's own clone for parallel test runs), which
    takes about a second. Elsewhere this is pytest-django's set-up: no data is serialised,
    since no test asks for `serialized_rollback`, and `--reuse-db` keeps each worker's
    database as pytest-django does.
    """
    from django.test.utils import setup_databases, teardown_databases

    verbosity = request.config.option.verbose
    workerinput = getattr(request.config, "workerinput", None)
    keepdb = django_db_keepdb and not django_db_createdb
    if workerinput is None or connection.vendor != "postgresql" or keepdb:
        with django_db_blocker.unblock():
            db_cfg = setup_databases(
                verbosity=verbosity,
                interactive=False,
                serialized_aliases=set(),
                keepdb=keepdb,
            )
        yield
        if not keepdb:
            with django_db_blocker.unblock():
                teardown_databases(db_cfg, verbosity=verbosity)
        return

    worker_id = workerinput["workerid"]
    original_name = connection.settings_dict["NAME"]
    # pytest-django named this worker's database test_<name>_<worker id>.
    template = connection.settings_dict["TEST"]["NAME"].removesuffix(f"_{worker_id}") + "_template"
    lock_path = Path(tempfile.gettempdir()) / f"{template}.lock"
    made_in_this_run = Path(tempfile.gettempdir()) / f"{template}.{workerinput['testrunuid']}"
    creation = connection.creation
    with django_db_blocker.unblock(), lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if made_in_this_run.exists():
                connection.settings_dict["NAME"] = template
            else:
                connection.settings_dict["TEST"]["NAME"] = template
                creation.create_test_db(verbosity=verbosity, autoclobber=True, serialize=False)
                made_in_this_run.touch()
            creation.clone_test_db(suffix=worker_id, verbosity=verbosity)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
        clone = creation.get_test_db_clone_settings(worker_id)["NAME"]
        connection.close()
        connection.settings_dict["NAME"] = settings.DATABASES["default"]["NAME"] = clone
    yield
    with django_db_blocker.unblock():
        creation.destroy_test_db(original_name, verbosity=verbosity)


def pytest_sessionfinish(session):
    """The xdist controller drops the template database its workers cloned (above)."""
    if hasattr(session.config, "workerinput") or not session.config.pluginmanager.has_plugin(
        "dsession"
    ):
        return
    if connection.vendor != "postgresql":
        return
    import psycopg

    db = connection.settings_dict
    template = f"{db['TEST'].get('NAME') or 'test_' + db['NAME']}_template"
    params = {k.lower(): db[k] for k in ("HOST", "PORT", "USER", "PASSWORD") if db.get(k)}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{template}"')
    for marker in Path(tempfile.gettempdir()).glob(f"{template}.*"):
        if marker.suffix != ".lock":
            marker.unlink(missing_ok=True)


@pytest.fixture(autouse=True, scope="session")
def _quick_flush():
    """Empty only the tables that hold rows after a transactional test, by DELETE.

    Django ends each transactional test (live server, threads, workers) with a TRUNCATE
    of all ~250 tables, which PostgreSQL does by creating new files for each table and
    index: 3 s on the CI machine, about 50 times a run. Deleting the rows of the few
    tables a test filled empties the same tables in milliseconds. Triggers (the foreign
    keys' and the append-only tables' refusals of DELETE, docs/guarantees.md#r20) are
    off for that one transaction, as TRUNCATE bypasses them too; that needs a superuser,
    and without one (or when sequences are to be reset) Django's TRUNCATE runs as before.
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        quote = self.quote_name
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if not cursor.fetchone()[0]:
                return truncate(self, style, tables, allow_cascade=allow_cascade)
            cursor.execute(
                " UNION ALL ".join(
                    f"SELECT %s WHERE EXISTS (SELECT 1 FROM {quote(table)})" for table in tables
                ),
                list(tables),
            )
            filled = [row[0] for row in cursor.fetchall()]
        if not filled:
            return []
        return ["SET LOCAL session_replication_role = replica"] + [
            f"DELETE FROM {quote(table)}" for table in filled
        ]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = truncate


# --- No network (R11): a test may only talk to this machine (tests/no_network.py). ------


@pytest.fixture(autouse=True, scope="session")
def _no_network():
    with no_network():
        yield


# --- A real Celery worker ----------------------------------------------------------------


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """Start `celery worker` in a subprocess on the test database and Redis; yield it.

    The worker reads the same settings module, so it uses this process's Redis
    database (see config/settings/test.py) and, through DATABASE_URL, the test
    database that pytest-django created.
    """
    if not settings.REDIS_URL:
        reason = "needs Redis and a Celery worker: set REDIS_URL=redis://..."
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    from config.celery_app import app

    app.control.purge()
    try:
        worker = Worker(broker_url=app.conf.broker_url)
    except RuntimeError as exc:
        pytest.fail(f"Celery worker did not start: {exc}")
    yield worker.proc
    worker.stop()
