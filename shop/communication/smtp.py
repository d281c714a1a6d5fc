"""Django's SMTP email backend, telling its caller when a message's content goes out.

Over plain SMTP the only moment after which a message may have been delivered is the DATA
phase: until then the server holds nothing it could deliver, so a timeout or a refused
connection is safe to retry. Once the content is on its way, a lost reply (timeout,
dropped connection, worker killed) leaves the outcome unknown, and retrying could deliver
it twice. This backend calls `before_data()` (given to `get_connection`) just before the
DATA command, so the outbox can record, durably, that the message may have been delivered
(README "Delivery guarantees per channel").

`EMAIL_URL=smtp://…` selects it (config/settings/base.py); everything else is Django's.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from django.core.mail.backends import smtp

# A mixin for smtplib's clients: typed as one, a plain class at run time.
if TYPE_CHECKING:
    _SMTPBase = smtplib.SMTP
else:
    _SMTPBase = object


class _BeforeData(_SMTPBase):
    """smtplib's client with a hook called before DATA (`sendmail` calls `data` once)."""

    before_data: Callable[[], None] | None = None

    def data(self, msg):
        if self.before_data is not None:
            self.before_data()
        return super().data(msg)


class SMTP(_BeforeData, smtplib.SMTP):
    pass


class SMTP_SSL(_BeforeData, smtplib.SMTP_SSL):  # noqa: N801 (smtplib's name)
    pass


class EmailBackend(smtp.EmailBackend):
    """`before_data`, if given, is called before each message's DATA command; if it raises,
    that message is not sent (the exception propagates)."""

    def __init__(self, *args, before_data: Callable[[], None] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.before_data = before_data

    @property
    def connection_class(self):
        return SMTP_SSL if self.use_ssl else SMTP

    def _send(self, email_message) -> bool:
        # Open by now, and one of this module's clients (connection_class).
        cast(_BeforeData, self.connection).before_data = self.before_data
        # Django's private _send, left out of django-stubs.
        return super()._send(email_message)  # type: ignore[misc]
