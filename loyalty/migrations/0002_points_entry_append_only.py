"""Make loyalty_pointsentry append-only in the database itself (R20).

Corrections are new entries; an UPDATE or DELETE of an entry fails whoever sends it
(the ORM, raw SQL, another process). Both vendors report it as an integrity error.
PostgreSQL's TRUNCATE (used by Django to flush test databases) is a statement of its
own and is not blocked: it needs the table owner's rights, not an application path.
"""

from django.db import migrations


def _create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            """
            CREATE OR REPLACE FUNCTION loyalty_pointsentry_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'loyalty_pointsentry is append-only: % refused', TG_OP
                    USING ERRCODE = 'integrity_constraint_violation';
            END;
            $$;
            """,
            None,  # no parameters: the % in the message is PL/pgSQL's, not a placeholder
        )
        schema_editor.execute(
            """
            CREATE TRIGGER loyalty_pointsentry_append_only
            BEFORE UPDATE OR DELETE ON loyalty_pointsentry
            FOR EACH ROW EXECUTE FUNCTION loyalty_pointsentry_append_only();
            """
        )
    elif vendor == "sqlite":
        for operation in ("UPDATE", "DELETE"):
            schema_editor.execute(
                f"""
                CREATE TRIGGER loyalty_pointsentry_no_{operation.lower()}
                BEFORE {operation} ON loyalty_pointsentry
                BEGIN
                    SELECT RAISE(ABORT, 'loyalty_pointsentry is append-only: {operation} refused');
                END;
                """
            )
    else:
        raise NotImplementedError(f"no append-only trigger for {vendor}")


def _drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            "DROP TRIGGER IF EXISTS loyalty_pointsentry_append_only ON loyalty_pointsentry"
        )
        schema_editor.execute("DROP FUNCTION IF EXISTS loyalty_pointsentry_append_only()")
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS loyalty_pointsentry_no_update")
        schema_editor.execute("DROP TRIGGER IF EXISTS loyalty_pointsentry_no_delete")


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_initial")]

    operations = [migrations.RunPython(_create, _drop, elidable=False)]
