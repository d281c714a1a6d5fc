"""What a campaign message says to one member: tokens, rendering, signed links.

Tokens are ``{{ name }}`` placeholders in a CampaignMessage (README.md "Campaigns"); they
are replaced by plain text, never evaluated as a template, so a marketer's message cannot
run template code. Every link a message carries (unsubscribe, open pixel, click) holds a
signed token naming the (campaign, member, channel) send, so it identifies its recipient
without any row being written before the message is recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext_lazy as _

from loyalty.models import Campaign, CampaignMessage

TOKENS = {
    "first_name": _("the member's first name"),
    "points": _("their points balance"),
    "tier": _("their tier"),
    "store": _("their store (chosen, else last pickup)"),
    "store_hours": _("their store's opening hours today"),
    "voucher_code": _("their personal voucher code (campaigns with a voucher reward)"),
    "recommended_products": _("products recommended to them, in stock at their store first"),
    "link": _("the message's link, tracked"),
    "unsubscribe_url": _("the unsubscribe link"),
}
TOKEN_PATTERN = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
LINK_NAMESPACE = "loyalty.campaign-link"
CHANNEL_LETTERS = {"email": "e", "sms": "s", "push": "p"}
LETTER_CHANNELS = {letter: channel for channel, letter in CHANNEL_LETTERS.items()}


def tokens_used(texts: list[str]) -> set[str]:
    """The tokens named in any of `texts`."""
    return {name for text in texts for name in TOKEN_PATTERN.findall(text or "")}


def tokens_unknown(text: str) -> list[str]:
    """The placeholders of `text` that are not tokens, for the form to refuse."""
    return sorted({name for name in TOKEN_PATTERN.findall(text or "") if name not in TOKENS})


def tokens_fill(text: str, values: dict[str, str]) -> str:
    return TOKEN_PATTERN.sub(lambda match: values.get(match.group(1), match.group(0)), text or "")


# --- Signed links -------------------------------------------------------------------------


@dataclass(frozen=True)
class SendKey:
    """The (campaign, member, channel, occurrence) a link was made for: a CampaignSend's
    unique key (the occurrence is "" but for triggered campaigns)."""

    campaign_id: int
    member_id: int
    channel: str
    occurrence: str = ""


def send_token(key: SendKey) -> str:
    """A short signed token (for SMS too) naming the send; checked by `send_token_read`."""
    value = f"{key.campaign_id}.{key.member_id}.{CHANNEL_LETTERS[key.channel]}"
    if key.occurrence:
        value += f".{key.occurrence}"
    return signing.TimestampSigner(salt=LINK_NAMESPACE, sep="~").sign(value)


def send_token_read(token: str) -> SendKey | None:
    """The send a token names, or None if it was tampered with or is too old."""
    try:
        value = signing.TimestampSigner(salt=LINK_NAMESPACE, sep="~").unsign(
            token, max_age=settings.LOYALTY_CAMPAIGN_LINK_DAYS * 86400
        )
        campaign_id, member_id, letter, *occurrence = value.split(".", 3)
        return SendKey(
            int(campaign_id), int(member_id), LETTER_CHANNELS[letter], "".join(occurrence)
        )
    except (signing.BadSignature, ValueError, KeyError):
        return None


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def unsubscribe_url(key: SendKey) -> str:
    return absolute(reverse("loyalty:campaign-unsubscribe", args=[send_token(key)]))


def open_pixel_url(key: SendKey) -> str:
    return absolute(reverse("loyalty:campaign-open", args=[send_token(key)]))


def click_url(key: SendKey) -> str:
    return absolute(reverse("loyalty:campaign-click", args=[send_token(key)]))


def link_is_ours(link: str) -> bool:
    """A campaign link must be a page of this shop: a path, or an address on SITE_URL."""
    if not link:
        return True
    if link.startswith("/"):
        return not link.startswith("//") and "\\" not in link
    site = urlsplit(settings.SITE_URL)
    parts = urlsplit(link)
    return (parts.scheme, parts.netloc) == (site.scheme, site.netloc)


def link_with_utm(*, link: str, channel: str, campaign: Campaign) -> str:
    """The absolute address of `link` (a page of ours) with the campaign's UTM tags."""
    parts = urlsplit(link if not link.startswith("/") else absolute(link))
    query = [(name, value) for name, value in parse_qsl(parts.query) if not name.startswith("utm_")]
    query += [
        ("utm_source", "solomo"),
        ("utm_medium", channel),
        ("utm_campaign", campaign.utm_campaign),
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


# --- Rendering ----------------------------------------------------------------------------


def message_for_language(messages: list[CampaignMessage], language: str) -> CampaignMessage | None:
    """The message in `language`, else in the shop's default language, else the first."""
    by_language = {message.language: message for message in messages}
    return (
        by_language.get(language)
        or by_language.get(settings.LANGUAGE_CODE.split("-")[0])
        or (messages[0] if messages else None)
    )


def message_render(
    *, message: CampaignMessage, channel: str, key: SendKey, values: dict[str, str]
) -> dict:
    """The content of one channel for one member, as the Dispatcher records it.

    Email: subject, text and HTML bodies (the HTML carries the open pixel) and the RFC 8058
    List-Unsubscribe headers; SMS: the text ending with a short unsubscribe link; push:
    title, text and the tracked link. In the message's language.
    """
    return MessageRenderer(message).render(channel=channel, key=key, values=values)


# Stands for the signed token in the link addresses a renderer reverses once.
_LINK_SLOT = "LINKSLOT"


class MessageRenderer:
    """`message_render` for many members: what is the same for all of them (the words of
    the footers in the message's language, the addresses of the tracked links) is worked
    out once; each member then costs one signature and the token replacements."""

    def __init__(self, message: CampaignMessage):
        self.message = message
        with translation.override(message.language):
            self._links = {
                name: absolute(reverse(f"loyalty:campaign-{name}", args=[_LINK_SLOT]))
                for name in ("unsubscribe", "open", "click")
            }
            self._footer = str(_("Unsubscribe: %(url)s"))
            self._unsubscribe = escape(str(_("Unsubscribe")))
            self._stop = str(_("STOP"))
        self._home = absolute("/")

    def _link(self, name: str, token: str) -> str:
        return self._links[name].replace(_LINK_SLOT, token)

    def render(self, *, channel: str, key: SendKey, values: dict[str, str]) -> dict:
        message = self.message
        token = send_token(key)
        unsubscribe = self._link("unsubscribe", token)
        values = {
            **values,
            "link": self._link("click", token) if message.link_url else self._home,
            "unsubscribe_url": unsubscribe,
        }
        if channel == "email":
            body = tokens_fill(message.body, values)
            footer = self._footer % {"url": unsubscribe}
            html = (
                linebreaks(escape(body), autoescape=False)
                + f'<p><a href="{escape(unsubscribe)}">'
                + self._unsubscribe
                + "</a></p>"
                + f'<img src="{escape(self._link("open", token))}" width="1" height="1" alt="">'
            )
            return {
                "subject": tokens_fill(message.subject, values).replace("\n", " "),
                "body": f"{body}\n\n--\n{footer}",
                "html": html,
                "headers": {
                    "List-Unsubscribe": f"<{unsubscribe}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
            }
        if channel == "sms":
            text = tokens_fill(message.sms_text, values)
            return {"body": f"{text} {self._stop}: {unsubscribe}"}
        return {
            "subject": tokens_fill(message.push_title, values),
            "body": tokens_fill(message.push_body, values),
            "url": values["link"],
        }
