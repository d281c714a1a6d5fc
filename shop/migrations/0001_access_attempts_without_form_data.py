"""Forget the form data django-axes stored with failed logins: it held typed passwords.

From now on no form data is stored (shop.security.lockout); this empties the rows written
before. Irreversible by nature: the reverse does nothing.
"""

from django.db import migrations


def access_attempts_forget_form_data(apps, schema_editor) -> None:
    AccessAttempt = apps.get_model("axes", "AccessAttempt")
    AccessAttempt.objects.exclude(get_data="", post_data="").update(get_data="", post_data="")


class Migration(migrations.Migration):
    dependencies = [("axes", "0010_accessattemptexpiration")]

    operations = [
        migrations.RunPython(access_attempts_forget_form_data, migrations.RunPython.noop),
    ]
