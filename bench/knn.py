"""Nearest 10 stores among 100,000 on PostgreSQL: stores_near against a PostGIS KNN, one run.

Run from the project root (bench/README.md "knn.py"):

    .venv/bin/python bench/knn.py                          # 100,000 stores, 300 points
    .venv/bin/python bench/knn.py --template solomo_load   # copy a migrated database (faster)

A throw-away database (bench/common.py; a copy of `--template` if given, then migrated) gets
the stores of bench/stores.py (a fifth around 12 cities, the rest anywhere in metropolitan
France) and, when the server has PostGIS (`apt-get install postgresql-15-postgis-3`), the
extension and a GiST index on the stores' points as geography. From the same points (half in
cities, half anywhere), timed in turn for each point after 20 warm-up points:

- `stores_near`: what the shop runs (the sphere index's KNN on PostgreSQL);
- `stores_near_in_boxes`: the bounding-box search (SQLite's path, PostgreSQL's before);
- `postgis_orm`: PostGIS's `<->` on geography, as Store instances through the ORM;
- `postgis_sql` and `sphere_sql`: each KNN query alone, ids from a cursor.

Every answer is compared with the exact one (haversine over every store, Python). p50 / p95
/ max in ms and the 1-minute load average go to bench/results/knn-<date>.json.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import django_on_scratch_postgres, log, postgres_server_default  # noqa: E402
from bench.stores import random_point, stores_fill  # noqa: E402

GEOGRAPHY = "(ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)::geography)"
# ORDER BY the distance alone: PostgreSQL walks a GiST index in distance order only for that.
POSTGIS_KNN = (
    f"SELECT id FROM stores_store WHERE is_active ORDER BY {GEOGRAPHY} <-> "  # noqa: S608
    "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography LIMIT %s"
)


def postgis_install() -> bool:
    from django.db import DatabaseError, connection, transaction

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            cursor.execute(f"CREATE INDEX store_geography ON stores_store USING gist ({GEOGRAPHY})")
            cursor.execute("ANALYZE stores_store")
    except DatabaseError as error:
        log(f"no PostGIS here ({error}); timing the shop's paths only")
        return False
    return True


def exact_nearest(stores: list[tuple], lat: float, lng: float, limit: int) -> list[int]:
    """The exact answer: every store ranked by the cosine of its angle from the point (one
    cosine a store), then the best few ranked again by haversine and id as stores_near does."""
    from stores.selectors import haversine_km

    phi, lmb = math.radians(lat), math.radians(lng)
    sin_phi, cos_phi = math.sin(phi), math.cos(phi)
    near = heapq.nlargest(
        limit + 10,
        stores,
        key=lambda s: sin_phi * s[2] + cos_phi * s[3] * math.cos(s[4] - lmb),
    )
    return [
        pk for _, pk in sorted((haversine_km(lat, lng, s[1], s[5]), s[0]) for s in near)[:limit]
    ]


def methods(limit: int, postgis: bool) -> dict:
    """name -> function(lat, lng) returning the ids found, nearest first."""
    from django.db import connection

    from stores.models import Store
    from stores.selectors import SPHERE_SQL, stores_near, stores_near_in_boxes

    def ids(found) -> list[int]:
        return [item.store.pk for item in found]

    def sql(query: str, params) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return [row[0] for row in cursor.fetchall()]

    def unit(lat: float, lng: float) -> list[float]:
        phi, lmb = math.radians(lat), math.radians(lng)
        return [math.cos(phi) * math.cos(lmb), math.cos(phi) * math.sin(lmb), math.sin(phi)]

    point = SPHERE_SQL.format(t="stores_store")
    sphere = (
        f"SELECT id FROM stores_store WHERE is_active ORDER BY {point}"  # noqa: S608
        " <-> cube(ARRAY[%s, %s, %s]::float8[]) LIMIT %s"
    )
    found = {
        "stores_near": lambda lat, lng: ids(stores_near(lat=lat, lng=lng, limit=limit)),
        "stores_near_in_boxes": lambda lat, lng: ids(
            stores_near_in_boxes(lat=lat, lng=lng, limit=limit)
        ),
        "sphere_sql": lambda lat, lng: sql(sphere, [*unit(lat, lng), limit]),
    }
    if postgis:
        found["postgis_sql"] = lambda lat, lng: sql(POSTGIS_KNN, [lng, lat, limit])
        found["postgis_orm"] = lambda lat, lng: [
            store.pk
            for store in Store.objects.raw(POSTGIS_KNN.replace("id", "*", 1), [lng, lat, limit])
        ]
    return found


def run(count: int, queries: int, limit: int) -> dict:
    from stores.models import Store
    from stores.selectors import sphere_index_ready

    rng = random.Random(42)
    log(f"filling {count:,} stores")
    filled = stores_fill(count, rng)
    postgis = postgis_install()
    assert sphere_index_ready(), "migration stores 0003 made no sphere index"
    points = [random_point(rng, clustered=i % 2 == 0) for i in range(queries + 20)]
    stores = [
        (pk, lat, math.sin(math.radians(lat)), math.cos(math.radians(lat)), math.radians(lng), lng)
        for pk, lat, lng in Store.objects.active().values_list("pk", "latitude", "longitude")
    ]
    timed = methods(limit, postgis)
    timings: dict[str, list[float]] = {name: [] for name in timed}
    wrong: dict[str, int] = dict.fromkeys(timed, 0)
    loads = [os.getloadavg()[0]]
    log(f"timing {len(timed)} ways from {queries} points")
    for number, (lat, lng) in enumerate(points):
        exact = exact_nearest(stores, lat, lng, limit)
        names = list(timed)
        rng.shuffle(names)  # no way always runs first (or right after another) on a busy box
        for name in names:
            t0 = time.perf_counter()
            found = timed[name](lat, lng)
            elapsed = (time.perf_counter() - t0) * 1000
            if number >= 20:
                timings[name].append(elapsed)
                wrong[name] += found != exact
        if number % 50 == 0:
            loads.append(os.getloadavg()[0])
            log(f"{number} points")
    result = {"stores": len(stores), "fill_seconds": round(filled, 1), "points": queries}
    for name, values in timings.items():
        values.sort()
        result[name] = {
            "p50_ms": round(statistics.median(values), 3),
            "p95_ms": round(values[int(len(values) * 0.95) - 1], 3),
            "max_ms": round(values[-1], 3),
            "answers_not_exact": wrong[name],
        }
    result["load_average_1min"] = {"min": min(loads), "max": max(loads)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--postgres", default=postgres_server_default(), metavar="URL")
    parser.add_argument("--template", default=None, help="a migrated database to copy")
    parser.add_argument("--label", default=time.strftime("%Y-%m-%d", time.gmtime()))
    args = parser.parse_args()
    name = f"solomo_bench_knn_{os.getpid()}"
    with django_on_scratch_postgres(args.postgres, name, template=args.template):
        result = run(args.count, args.queries, args.limit)
    out = ROOT / "bench" / "results" / f"knn-{args.label}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
