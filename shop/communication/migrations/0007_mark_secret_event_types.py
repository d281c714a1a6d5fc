"""Mark the known secret event types, and treat the messages already written for them as
secret: their bodies are hidden from staff, and erased where delivery is over.

The codes are copied here (not imported) so this migration keeps meaning what it meant.
"""

from django.db import migrations

SECRET_EVENT_CODES = (
    "PASSWORD_RESET",
    "PASSWORD_CHANGED",
    "EMAIL_CHANGED",
    "EMAIL_CHANGE_CONFIRM",
    "PICKUP_READY",
    "PICKUP_REMINDER",
)
DELIVERY_OVER = ("sent", "failed", "cancelled")


def mark_secrets(apps, schema_editor):
    CommunicationEventType = apps.get_model("communication", "CommunicationEventType")
    OutboxMessage = apps.get_model("communication", "OutboxMessage")
    CommunicationEventType.objects.filter(code__in=SECRET_EVENT_CODES).update(carries_secret=True)
    secret_codes = set(SECRET_EVENT_CODES) | set(
        CommunicationEventType.objects.filter(carries_secret=True).values_list("code", flat=True)
    )
    OutboxMessage.objects.filter(event_code__in=secret_codes).update(has_secret=True)
    OutboxMessage.objects.filter(has_secret=True, status__in=DELIVERY_OVER).update(
        body="", html="", url="", attachments=[]
    )


class Migration(migrations.Migration):
    dependencies = [("communication", "0006_outbox_secrets_and_order")]

    operations = [migrations.RunPython(mark_secrets, migrations.RunPython.noop)]
