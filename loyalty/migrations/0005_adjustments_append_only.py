"""Make points adjustments and their decisions append-only in the database itself.

The same triggers as the ledger's (migration 0002): an UPDATE or DELETE of a row of
loyalty_pointsadjustment or loyalty_pointsadjustmentdecision fails whoever sends it.
An approval or a rejection is a new decision row, never a change to the adjustment.
"""

from django.db import migrations

from loyalty.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0004_counter_adjustments")]

    operations = [append_only("loyalty_pointsadjustment", "loyalty_pointsadjustmentdecision")]
