"""The campaign editor: the campaign's settings and its message in each language."""

from __future__ import annotations

from typing import cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from loyalty.campaign_messages import TOKENS, link_is_ours, tokens_unknown
from loyalty.models import (
    Campaign,
    CampaignChannel,
    CampaignMessage,
    CampaignRewardKind,
    CampaignTrigger,
    Segment,
)
from loyalty.services.campaigns import MESSAGE_FIELDS


def _voucher_offers():
    from oscar.core.loading import get_model

    offer_model = get_model("offer", "ConditionalOffer")
    return offer_model.objects.filter(offer_type=offer_model.VOUCHER).order_by("name")


class CampaignForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(
        label=_("Channels"),
        choices=CampaignChannel.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=_("Each member gets it on the channels they agreed to receive offers on."),
    )
    send_at = forms.DateTimeField(
        label=_("Send at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Empty: as soon as it is launched. Only for “once” campaigns."),
    )

    class Meta:
        model = Campaign
        fields = [
            "name",
            "segment",
            "channels",
            "control_percent",
            "attribution_window_days",
            "reward_kind",
            "reward_points",
            "reward_offer",
            "trigger",
            "trigger_days",
            "send_at",
        ]
        help_texts = {
            "reward_offer": _(
                "A voucher offer (Offers dashboard): each member gets their own "
                "single-use code for it."
            ),
            "trigger_days": _(
                "For “N days after the last order”; for expiring points, how many days "
                "ahead (30 if empty)."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["reward_offer"]).queryset = _voucher_offers()
        segment = cast(forms.ModelChoiceField, self.fields["segment"])
        segment.queryset = Segment.objects.order_by("name")
        # Empty means the model's default window.
        self.fields["attribution_window_days"].required = False

    def clean_attribution_window_days(self) -> int:
        value = self.cleaned_data.get("attribution_window_days")
        return value or Campaign._meta.get_field("attribution_window_days").default

    def clean(self):
        super().clean()
        data = self.cleaned_data
        kind = data.get("reward_kind")
        if kind == CampaignRewardKind.POINTS and not data.get("reward_points"):
            self.add_error("reward_points", _("Enter the bonus points of the reward."))
        if kind == CampaignRewardKind.VOUCHER and not data.get("reward_offer"):
            self.add_error("reward_offer", _("Choose the offer of the voucher reward."))
        if data.get("trigger") == CampaignTrigger.DAYS_AFTER_LAST_ORDER and not data.get(
            "trigger_days"
        ):
            self.add_error("trigger_days", _("Enter the number of days after the last order."))
        return data


def token_help() -> str:
    return " ".join(f"{{{{ {name} }}}}: {label}." for name, label in TOKENS.items())


class CampaignMessageForm(forms.ModelForm):
    class Meta:
        model = CampaignMessage
        fields = list(MESSAGE_FIELDS)
        widgets = {
            "body": forms.Textarea(attrs={"rows": 6}),
            "sms_text": forms.Textarea(attrs={"rows": 2}),
            "push_body": forms.Textarea(attrs={"rows": 2}),
        }

    def clean(self):
        super().clean()
        data = self.cleaned_data
        for name in MESSAGE_FIELDS:
            unknown = tokens_unknown(data.get(name) or "")
            if unknown:
                self.add_error(
                    name,
                    _("Unknown token: %(tokens)s. The tokens are listed above.")
                    % {"tokens": ", ".join(unknown)},
                )
        if not link_is_ours(data.get("link_url") or ""):
            self.add_error(
                "link_url", _("The link must be a page of this shop, such as /catalogue/.")
            )
        return data


def message_forms(data=None, *, campaign: Campaign | None = None) -> list:
    """One message form per language of the shop (LANGUAGES), prefixed by its code."""
    existing = {m.language: m for m in campaign.messages.all()} if campaign else {}
    return [
        (
            code,
            name,
            CampaignMessageForm(data, prefix=f"message-{code}", instance=existing.get(code)),
        )
        for code, name in settings.LANGUAGES
    ]
