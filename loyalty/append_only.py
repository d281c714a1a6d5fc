"""Append-only tables in the database itself: the one copy of the trigger SQL.

An UPDATE or DELETE of a row of such a table fails whoever sends it (the ORM, raw SQL,
the admin, another process); both vendors report it as an integrity error. PostgreSQL's
TRUNCATE (Django's test flush) is a statement of its own, needs the table owner's rights
and is not blocked. Used by the migrations of the points ledger, points adjustments, the
staff audit log and marketing consent records (README "Privacy").

Migrations call `append_only(*tables)` for a RunPython operation; the functions are plain
(no model state), so the operation keeps working as the models change.
"""

from __future__ import annotations

from django.db import migrations


def append_only_create(schema_editor, table: str) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"""
            CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{table} is append-only: % refused', TG_OP
                    USING ERRCODE = 'integrity_constraint_violation';
            END;
            $$;
            """,
            None,  # no parameters: the % in the message is PL/pgSQL's
        )
        schema_editor.execute(
            f"""
            CREATE TRIGGER {table}_append_only
            BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_append_only();
            """
        )
    elif vendor == "sqlite":
        for operation in ("UPDATE", "DELETE"):
            schema_editor.execute(
                f"""
                CREATE TRIGGER {table}_no_{operation.lower()}
                BEFORE {operation} ON {table}
                BEGIN
                    SELECT RAISE(ABORT, '{table} is append-only: {operation} refused');
                END;
                """
            )
    else:
        raise NotImplementedError(f"no append-only trigger for {vendor}")


def append_only_drop(schema_editor, table: str) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
    elif vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")


def append_only(*tables: str) -> migrations.RunPython:
    """A migration operation making `tables` append-only (and undoing it in reverse)."""

    def create(apps, schema_editor) -> None:
        for table in tables:
            append_only_create(schema_editor, table)

    def drop(apps, schema_editor) -> None:
        for table in tables:
            append_only_drop(schema_editor, table)

    return migrations.RunPython(create, drop, elidable=False)
