"""Make points adjustments and their decisions append-only in the database itself.

The same triggers as the ledger's (migration 0002): an UPDATE or DELETE of a row of
loyalty_pointsadjustment or loyalty_pointsadjustmentdecision fails whoever sends it.
An approval or a rejection is a new decision row, never a change to the adjustment.
"""

from django.db import migrations

TABLES = ("loyalty_pointsadjustment", "loyalty_pointsadjustmentdecision")


def _create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
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


def _drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0004_counter_adjustments")]

    operations = [migrations.RunPython(_create, _drop, elidable=False)]
