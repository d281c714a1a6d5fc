"""The sphere index of stores.selectors.stores_nearest_by_index (PostgreSQL only).

`cube` is a contrib extension shipped with PostgreSQL and marked trusted (the database's
owner may create it). Where it cannot be created, nothing is: stores_near keeps its
bounding-box search (stores.selectors.sphere_index_ready). Built-in functions only in the
expression, so pg_dump writes it schema-qualified and a restore rebuilds it.
"""

from django.db import DatabaseError, migrations, transaction

# stores.selectors.SPHERE_INDEX and SPHERE_SQL as of this migration (a migration does not
# import app code; tests/stores/test_nearest.py checks the selector's query uses the index).
SPHERE_INDEX = "store_sphere_knn"
SPHERE_SQL = (
    "cube(ARRAY[cos(radians({t}.latitude)) * cos(radians({t}.longitude)), "
    "cos(radians({t}.latitude)) * sin(radians({t}.longitude)), sin(radians({t}.latitude))])"
)


def sphere_index_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS cube")
    except DatabaseError:
        return
    expression = SPHERE_SQL.format(t="stores_store")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {SPHERE_INDEX} ON stores_store USING gist (({expression}))"
    )


def sphere_index_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {SPHERE_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("stores", "0002_shared_pickup_pass")]

    operations = [migrations.RunPython(sphere_index_create, sphere_index_drop, elidable=False)]
