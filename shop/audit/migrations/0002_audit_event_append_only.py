"""Make audit_auditevent append-only in the database itself, like loyalty's ledger
(loyalty/migrations/0002_points_entry_append_only.py): an UPDATE or DELETE of a row
fails whoever sends it (the ORM, raw SQL, the admin, another process).
PostgreSQL's TRUNCATE (Django's test flush) needs the table owner and is not blocked.
"""

from django.db import migrations

from loyalty.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_audit_event")]

    operations = [append_only("audit_auditevent")]
