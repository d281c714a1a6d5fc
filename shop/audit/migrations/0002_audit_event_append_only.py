"""Make audit_auditevent append-only in the database itself, like loyalty's ledger
(loyalty/migrations/0002_points_entry_append_only.py): an UPDATE or DELETE of a row
fails whoever sends it (the ORM, raw SQL, the admin, another process).
PostgreSQL's TRUNCATE (Django's test flush) needs the table owner and is not blocked.
"""

from django.db import migrations

TABLE = "audit_auditevent"


def _create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"""
            CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{TABLE} is append-only: % refused', TG_OP
                    USING ERRCODE = 'integrity_constraint_violation';
            END;
            $$;
            """,
            None,  # no parameters: the % in the message is PL/pgSQL's
        )
        schema_editor.execute(
            f"""
            CREATE TRIGGER {TABLE}_append_only
            BEFORE UPDATE OR DELETE ON {TABLE}
            FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only();
            """
        )
    elif vendor == "sqlite":
        for operation in ("UPDATE", "DELETE"):
            schema_editor.execute(
                f"""
                CREATE TRIGGER {TABLE}_no_{operation.lower()}
                BEFORE {operation} ON {TABLE}
                BEGIN
                    SELECT RAISE(ABORT, '{TABLE} is append-only: {operation} refused');
                END;
                """
            )
    else:
        raise NotImplementedError(f"no append-only trigger for {vendor}")


def _drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {TABLE}_append_only()")
    elif vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_update")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_delete")


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_audit_event")]

    operations = [migrations.RunPython(_create, _drop, elidable=False)]
