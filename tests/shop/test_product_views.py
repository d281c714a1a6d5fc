"""Product page views and basket additions: counted in Redis by the request, written to
Oscar's analytics tables by a Celery worker (shop/catalogue/product_views.py)."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from oscar.core.loading import get_model
from oscar.test.factories import UserFactory

from config.settings.base import redis_cache
from shop.catalogue.product_views import (
    FLUSHING,
    PENDING,
    PENDING_VIEWS,
    _redis,
    product_view_record,
    product_views_flush,
)
from shop.catalogue.tasks import product_views_flush_task
from tests.celery_worker import free_port
from tests.factories import product

ProductRecord = get_model("analytics", "ProductRecord")
UserRecord = get_model("analytics", "UserRecord")
UserProductView = get_model("analytics", "UserProductView")


@pytest.fixture
def pending_cleared():
    keys = [PENDING, PENDING_VIEWS, PENDING + FLUSHING, PENDING_VIEWS + FLUSHING]
    _redis().delete(*keys)
    yield
    _redis().delete(*keys)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_views_are_written_by_the_worker_not_by_the_request(
    client, celery_worker_process, pending_cleared
):
    # Given a product, viewed 3 times by a guest and twice by a signed-in shopper
    mug = product("Mug", stock=5)
    shopper = UserFactory()
    url = mug.get_absolute_url()
    with CaptureQueriesContext(connection) as guest:
        statuses = [client.get(url).status_code for _ in range(3)]
    client.force_login(shopper)
    with CaptureQueriesContext(connection) as signed_in:
        statuses += [client.get(url).status_code for _ in range(2)]

    # Then no request touched the analytics tables
    assert statuses == [200] * 5
    queries = guest.captured_queries + signed_in.captured_queries
    assert [q["sql"] for q in queries if "analytics_" in q["sql"]] == []
    assert not ProductRecord.objects.filter(product=mug).exists()

    # When the worker flushes
    written = product_views_flush_task.delay().get(timeout=30)

    # Then the tables hold what Oscar's receiver would have written, once
    assert written == {"product_views": 5, "user_views": 2, "basket_additions": 0}
    assert ProductRecord.objects.get(product=mug).num_views == 5
    assert UserRecord.objects.get(user=shopper).num_product_views == 2
    assert UserProductView.objects.filter(user=shopper, product=mug).count() == 2
    again = product_views_flush_task.delay().get(timeout=30)
    assert again == {"product_views": 0, "user_views": 0, "basket_additions": 0}
    assert ProductRecord.objects.get(product=mug).num_views == 5


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_views_counted_during_flushes_are_all_written_once(pending_cleared):
    # Given 4 shoppers viewing a product 50 times each while two flushers run in a loop
    mug = product("Mug", stock=5)
    shoppers = [UserFactory() for _ in range(4)]
    viewing_done = threading.Event()
    errors: list[BaseException] = []

    def viewer(user_id: int) -> None:
        for _ in range(50):
            product_view_record(product_id=mug.pk, user_id=user_id)

    def flusher() -> None:
        try:
            while not viewing_done.is_set():
                product_views_flush()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    flushers = [threading.Thread(target=flusher) for _ in range(2)]
    viewers = [threading.Thread(target=viewer, args=(s.pk,)) for s in shoppers]
    for thread in flushers + viewers:
        thread.start()
    for thread in viewers:
        thread.join()
    viewing_done.set()
    for thread in flushers:
        thread.join()
    product_views_flush()

    # Then every view is written exactly once
    assert errors == []
    assert ProductRecord.objects.get(product=mug).num_views == 200
    assert sorted(
        UserRecord.objects.filter(user__in=shoppers).values_list("num_product_views", flat=True)
    ) == [50, 50, 50, 50]
    assert UserProductView.objects.filter(product=mug).count() == 200


@pytest.mark.django_db
def test_without_redis_a_view_is_written_at_once(client, settings):
    settings.REDIS_URL = ""
    mug = product("Mug", stock=5)
    client.force_login(UserFactory())

    client.get(mug.get_absolute_url())

    assert ProductRecord.objects.get(product=mug).num_views == 1
    assert UserProductView.objects.filter(product=mug).count() == 1


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_basket_additions_are_written_by_the_worker_not_by_the_request(
    client, celery_worker_process, pending_cleared
):
    # Given a product added 3 times by a guest and twice by a signed-in shopper
    mug = product("Mug", stock=50)
    shopper = UserFactory()
    url = reverse("basket:add", kwargs={"pk": mug.pk})
    with CaptureQueriesContext(connection) as guest:
        statuses = [client.post(url, {"quantity": 1}).status_code for _ in range(3)]
    client.force_login(shopper)
    with CaptureQueriesContext(connection) as signed_in:
        statuses += [client.post(url, {"quantity": 1}).status_code for _ in range(2)]

    # Then no request touched the analytics tables
    assert statuses == [302] * 5
    queries = guest.captured_queries + signed_in.captured_queries
    assert [q["sql"] for q in queries if "analytics_" in q["sql"]] == []
    assert not ProductRecord.objects.filter(product=mug).exists()

    # When the worker flushes
    written = product_views_flush_task.delay().get(timeout=30)

    # Then the tables hold what Oscar's receiver would have written, once
    assert written == {"product_views": 0, "user_views": 0, "basket_additions": 5}
    record = ProductRecord.objects.get(product=mug)
    assert (record.num_basket_additions, record.num_views) == (5, 0)
    assert UserRecord.objects.get(user=shopper).num_basket_additions == 2
    again = product_views_flush_task.delay().get(timeout=30)
    assert again == {"product_views": 0, "user_views": 0, "basket_additions": 0}
    assert ProductRecord.objects.get(product=mug).num_basket_additions == 5


@pytest.mark.django_db
def test_without_redis_a_basket_addition_is_written_at_once(client, settings):
    settings.REDIS_URL = ""
    mug = product("Mug", stock=5)
    shopper = UserFactory()
    client.force_login(shopper)

    client.post(reverse("basket:add", kwargs={"pk": mug.pk}), {"quantity": 1})

    assert ProductRecord.objects.get(product=mug).num_basket_additions == 1
    assert UserRecord.objects.get(user=shopper).num_basket_additions == 1


@pytest.mark.django_db
def test_when_redis_fails_views_and_basket_additions_are_written_at_once(client, settings):
    """Redis configured but unreachable (nothing listens on its port): the counts are not
    lost, they are written as Oscar writes them, in the request."""
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    settings.CACHES = {"default": redis_cache(settings.REDIS_URL)}
    mug = product("Mug", stock=5)
    shopper = UserFactory()
    client.force_login(shopper)

    viewed = client.get(mug.get_absolute_url())
    added = client.post(reverse("basket:add", kwargs={"pk": mug.pk}), {"quantity": 1})

    assert (viewed.status_code, added.status_code) == (200, 302)
    record = ProductRecord.objects.get(product=mug)
    assert (record.num_views, record.num_basket_additions) == (1, 1)
    user_record = UserRecord.objects.get(user=shopper)
    assert (user_record.num_product_views, user_record.num_basket_additions) == (1, 1)
    assert UserProductView.objects.filter(product=mug, user=shopper).count() == 1
