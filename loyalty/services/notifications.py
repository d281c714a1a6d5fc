"""Messages to members, through the (forked, asynchronous) communication Dispatcher."""

from __future__ import annotations

from typing import Any

from oscar.core.loading import get_class

from loyalty.models import Member


def member_notify(*, member: Member, event_code: str, context: dict[str, Any]) -> None:
    """Queue a message to the member on their chosen channels.

    Call it inside the transaction that changes what the message is about: the
    Dispatcher records outbox rows there, and they are sent after commit.
    """
    dispatcher_class = get_class("communication.utils", "Dispatcher")
    dispatcher = dispatcher_class()
    messages = dispatcher.get_messages(event_code, {"member": member, **context})
    dispatcher.dispatch_user_messages(member.user, messages)
