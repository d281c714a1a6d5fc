"""The two messages of an e-mail address change (R39), in English; staff may edit them in
the dashboard. EMAIL_CHANGED is Oscar's code, so Oscar's own file templates (which offer a
password reset link) are never used for it: the old address gets one message, with an undo
link. Both carry a link that acts on the account."""

from django.db import migrations

EVENT_TYPES = {
    "EMAIL_CHANGE_CONFIRM": {
        "name": "E-mail change: confirm the new address",
        "category": "User related",
        "email_subject_template": "Confirm your new e-mail address",
        "email_body_template": (
            "{% autoescape off %}Hello,\n\n"
            "Someone, hopefully you, asked to sign in to {{ shop_name }} with this address "
            "({{ new_email }}) from now on.\n\n"
            "To confirm, open this link within {{ hours }} hours:\n{{ confirm_url }}\n\n"
            "If it was not you, ignore this message: nothing changes.\n{% endautoescape %}"
        ),
        "email_body_html_template": "",
        "sms_template": "",
    },
    "EMAIL_CHANGED": {
        "name": "E-mail changed: tell the previous address",
        "category": "User related",
        "email_subject_template": "Your e-mail address was changed",
        "email_body_template": (
            "{% autoescape off %}Hello,\n\n"
            "Your {{ shop_name }} account now signs in with {{ new_email }} instead of "
            "{{ old_email }}.\n\n"
            "If you did not ask for this, open this link within {{ days }} days to put "
            "{{ old_email }} back:\n{{ undo_url }}\n"
            "You will be signed out everywhere and asked to choose a new password.\n"
            "{% endautoescape %}"
        ),
        "email_body_html_template": "",
        "sms_template": "",
    },
}


def create_event_types(apps, schema_editor):
    CommunicationEventType = apps.get_model("communication", "CommunicationEventType")
    for code, fields in EVENT_TYPES.items():
        # Wording a shop already edited is kept.
        # Both carry a secret link: never shown to staff, erased once sent.
        CommunicationEventType.objects.get_or_create(
            code=code, defaults={**fields, "carries_secret": True}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_email_change"),
        ("communication", "0007_mark_secret_event_types"),
    ]

    operations = [migrations.RunPython(create_event_types, migrations.RunPython.noop)]
