"""Writing many new rows fast: primary keys reserved up front, then COPY on PostgreSQL.

Used by the synthetic population (loyalty/population/) and the ledger's bulk history
import, which link rows to each other before any of them is written (an order's lines, a
lot's entry), so keys are reserved first. On PostgreSQL the keys come from the table's
own sequence (`nextval`), so concurrent writers never collide, and the rows are streamed
with COPY (several times faster than INSERT); elsewhere (SQLite, small numbers) keys
follow the table's largest one and the rows go through `bulk_create`, which assumes no
other process writes the same tables meanwhile.

Rows are written as they are: no `save()`, no signals, `auto_now` and `auto_now_add`
fields only filled when left empty. Callers inside `transaction.atomic()` get all or
nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TypeVar, cast

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import Max
from django.db.models.base import ModelState
from django.utils import timezone

_M = TypeVar("_M", bound=models.Model)


@functools.cache
def _layout(model: type[models.Model]) -> tuple[tuple[str, ...], tuple]:
    fields = model._meta.concrete_fields
    return tuple(f.attname for f in fields), tuple(f.get_default for f in fields)


def row(model: type[_M], **values: object) -> _M:
    """An unsaved instance from column values (`user_id=...`, not `user=...`); fields not
    given take their default. Filled like an unpickled instance (no __init__, no
    descriptors, no signals): several times faster than `model(**values)`, and all that
    writing it here needs."""
    attnames, defaults = _layout(model)
    data = {}
    for name, default in zip(attnames, defaults, strict=True):
        data[name] = values.pop(name) if name in values else default()
    if values:
        raise TypeError(f"{model.__name__} has no column {', '.join(values)}")
    obj = model.__new__(model)
    obj.__dict__.update(data)
    obj._state = ModelState()
    return obj


def ids_reserve(model: type[models.Model], count: int) -> list[int]:
    """`count` new primary keys for `model`, in increasing order."""
    if count <= 0:
        return []
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, column, count],
            )
            return sorted(row[0] for row in cursor.fetchall())
    start = (model._default_manager.aggregate(top=Max("pk"))["top"] or 0) + 1
    return list(range(start, start + count))


def rows_insert(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Insert unsaved instances of `model`; those without a primary key get one first."""
    if not objs:
        return
    missing = [obj for obj in objs if obj.pk is None]
    for obj, pk in zip(missing, ids_reserve(model, len(missing)), strict=True):
        obj.pk = pk
    fields = list(model._meta.concrete_fields)
    now = timezone.now()
    automatic = [
        field
        for field in fields
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    ]
    for field in automatic:
        for obj in objs:
            if getattr(obj, field.attname) is None:
                setattr(obj, field.attname, now)
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs, batch_size=500)
        if automatic:
            # bulk_create stamps automatic dates with now; bulk_update writes them as given.
            model._default_manager.bulk_update(objs, [f.name for f in automatic], batch_size=500)
        return
    # psycopg adapts plain Python values itself; only JSON needs Django's wrapper.
    json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
    attnames = [f.attname for f in fields]
    prep = {f.attname: f.get_db_prep_save for f in fields if f.attname in json_fields}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    real = connections[DEFAULT_DB_ALIAS]
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for obj in objs:
            values = obj.__dict__
            copy.write_row(
                [
                    prep[name](values[name], real) if name in prep else values[name]
                    for name in attnames
                ]
            )


def rows_update(model: type[models.Model], objs: Sequence[models.Model], fields: list[str]) -> None:
    """Write `fields` of saved instances: one UPDATE ... FROM (VALUES ...) per 5,000 rows on
    PostgreSQL (bulk_update's CASE per row is slow), bulk_update elsewhere."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(objs, fields, batch_size=500)
        return
    meta = model._meta
    columns = [cast(models.Field, meta.get_field(name)) for name in fields]
    table = connection.ops.quote_name(meta.db_table)
    pk = connection.ops.quote_name(meta.pk.column)
    assignments = ", ".join(
        f"{connection.ops.quote_name(c.column)} = v.{connection.ops.quote_name(c.column)}"
        for c in columns
    )
    names = ", ".join(connection.ops.quote_name(c.column) for c in [meta.pk, *columns])
    types = [meta.pk.db_type(connection)] + [c.db_type(connection) for c in columns]
    for start in range(0, len(objs), 5000):
        chunk = objs[start : start + 5000]
        rows = ", ".join("(" + ", ".join(f"%s::{t}" for t in types) + ")" for _ in chunk)
        params = [
            value
            for obj in chunk
            for value in [obj.pk, *(getattr(obj, c.attname) for c in columns)]
        ]
        with connection.cursor() as cursor:
            # Identifiers come from the model's meta, values are parameters.
            sql = f"UPDATE {table} SET {assignments} FROM (VALUES {rows}) AS v({names}) "  # noqa: S608
            cursor.execute(f"{sql} WHERE {table}.{pk} = v.{pk}", params)
