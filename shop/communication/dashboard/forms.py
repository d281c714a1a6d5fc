from typing import TYPE_CHECKING

from django import forms
from django.template import Template, TemplateSyntaxError

from ..models import CommunicationEventType, CommunicationEventTypeTranslation

# A mixin for model forms: typed as one, a plain class at run time.
if TYPE_CHECKING:
    _FormBase = forms.ModelForm
else:
    _FormBase = object

CHANNEL_FIELDS = ["sms_template", "push_title_template", "push_body_template", "push_url_template"]


class TemplateFieldsMixin(_FormBase):
    """Empty fields mean "use the default" (None); filled ones must compile."""

    template_fields: list[str] = []

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        for name in self.template_fields:
            value = data.get(name)
            if value is None or value == "":
                data[name] = None
                continue
            try:
                Template(value)
            except TemplateSyntaxError as exc:
                self.add_error(name, str(exc))
        return data


class ChannelTemplatesForm(TemplateFieldsMixin, forms.ModelForm):
    template_fields = CHANNEL_FIELDS

    class Meta:
        model = CommunicationEventType
        fields = CHANNEL_FIELDS
        widgets = {"push_body_template": forms.Textarea(attrs={"rows": 3})}


class TranslationForm(TemplateFieldsMixin, forms.ModelForm):
    template_fields = [
        "email_subject_template",
        "email_body_template",
        "email_body_html_template",
        *CHANNEL_FIELDS,
    ]

    class Meta:
        model = CommunicationEventTypeTranslation
        fields = [
            "email_subject_template",
            "email_body_template",
            "email_body_html_template",
            *CHANNEL_FIELDS,
        ]
        widgets = {
            "email_body_template": forms.Textarea(attrs={"rows": 6}),
            "email_body_html_template": forms.Textarea(attrs={"rows": 6}),
            "push_body_template": forms.Textarea(attrs={"rows": 3}),
        }
