"""Make loyalty_pointsentry append-only in the database itself (R20).

Corrections are new entries; an UPDATE or DELETE of an entry fails whoever sends it
(the ORM, raw SQL, another process). Both vendors report it as an integrity error.
PostgreSQL's TRUNCATE (used by Django to flush test databases) is a statement of its
own and is not blocked: it needs the table owner's rights, not an application path.
"""

from django.db import migrations

from loyalty.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_initial")]

    operations = [append_only("loyalty_pointsentry")]
