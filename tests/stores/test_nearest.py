"""stores_near against the exact answer (haversine over every store), on SQLite and on
PostgreSQL, where it is one nearest-neighbour query on the sphere index (bench/README.md
"knn.py")."""

import random

import pytest
from django.db import connection

from stores.models import Store
from stores.selectors import (
    SPHERE_INDEX,
    haversine_km,
    sphere_index_ready,
    stores_near,
    stores_near_in_boxes,
)
from tests.stores.factories import stores_scattered

pytestmark = pytest.mark.django_db


def exact(lat: float, lng: float, limit: int) -> list[tuple[int, float]]:
    every = Store.objects.filter(is_active=True).values_list("pk", "latitude", "longitude")
    ranked = sorted((haversine_km(lat, lng, a, b), pk) for pk, a, b in every)
    return [(pk, distance) for distance, pk in ranked[:limit]]


def answer(found) -> list[tuple[int, float]]:
    return [(item.store.pk, item.distance_km) for item in found]


def test_the_nearest_stores_are_exactly_the_brute_force_answer_in_the_city_and_the_country():
    stores_scattered(400, seed=7)
    rng = random.Random(11)
    points = [(48.58 + rng.gauss(0, 0.05), 7.75 + rng.gauss(0, 0.07)) for _ in range(15)]
    points += [(rng.uniform(42.5, 51.0), rng.uniform(-4.5, 8.0)) for _ in range(15)]
    for lat, lng in points:
        for limit in (1, 10, 25):
            expected = exact(lat, lng, limit)
            assert answer(stores_near(lat=lat, lng=lng, limit=limit)) == expected
            assert answer(stores_near_in_boxes(lat=lat, lng=lng, limit=limit)) == expected


def test_stores_on_the_same_spot_come_nearest_first_by_id_and_closed_ones_never():
    stores = stores_scattered(30, seed=3)
    spot = stores[25]  # stores_scattered puts number 26 where number 25 is
    assert (stores[26].latitude, stores[26].longitude) == (spot.latitude, spot.longitude)
    found = stores_near(lat=spot.latitude, lng=spot.longitude, limit=2)
    assert [item.store.pk for item in found] == [stores[25].pk, stores[26].pk]
    assert all(item.store.is_active for item in stores_near(lat=48.58, lng=7.75, limit=30))
    assert len(stores_near(lat=48.58, lng=7.75, limit=30)) == 27  # 3, 13 and 23 are closed


@pytest.mark.postgres
def test_on_postgresql_it_is_one_query_that_the_sphere_index_answers(django_assert_num_queries):
    stores_scattered(50, seed=5)
    assert sphere_index_ready()
    with django_assert_num_queries(1) as captured:
        stores_near(lat=48.6, lng=7.7, limit=10)
    (query,) = captured.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # 50 rows: a scan would be cheaper
        cursor.execute("EXPLAIN " + query["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"Index Scan using {SPHERE_INDEX}" in plan, plan
