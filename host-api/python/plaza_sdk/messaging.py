"""Messages to the user's inbox (`[capabilities.messaging]`, with the
templates): subscription messages, broadcasts to followers, replies in a
conversation.

    answers = messaging.subscribe("parcel-moved")      # from a tap
    if messaging.accepted(answers, "parcel-moved"):
        messaging.send("parcel-moved", parcel="SF1234", status="Out for delivery")
"""

from __future__ import annotations

from typing import Mapping, Optional

try:
    from wit_world.imports import messaging as _wit
except ImportError:
    raise ImportError(
        "plaza_sdk.messaging needs [capabilities.messaging] in plaza.toml: `plaza build` makes the world "
        "from the capabilities it declares, and only those"
    ) from None
from wit_world.imports import types as _types

from .errors import call

__all__ = ["subscribe", "accepted", "send", "broadcast", "reply", "Answer", "BroadcastResult"]

#: The user's answer for a template: `ACCEPTED_ONCE`, `ACCEPTED_LONG_TERM`, `REJECTED`.
Answer = _wit.SubscriptionAnswer
#: How a broadcast went: `delivered`, `skipped`.
BroadcastResult = _wit.BroadcastResult


def subscribe(*template_ids: str) -> dict[str, Answer]:
    """Asks the user to accept the templates (only while handling a tap);
    the answer for each template id."""
    return {r.template_id: r.answer for r in call(_wit.subscribe, list(template_ids))}


def accepted(answers: Mapping[str, Answer], template_id: str) -> bool:
    """Whether the user accepted `template_id` (once or long-term)."""
    answer = answers.get(template_id)
    return answer is not None and answer != Answer.REJECTED


def send(template_id: str, fields: Optional[Mapping[str, str]] = None, **more: str) -> str:
    """Sends the user a message with an accepted template, filling every
    field it declares (from `fields` and keyword arguments). The message id."""
    values = {**(fields or {}), **more}
    return call(_wit.send, template_id, [_types.FieldValue(k, str(v)) for k, v in values.items()])


def broadcast(title: str, text: str) -> BroadcastResult:
    """Sends a message to every follower of the account (four a month each)."""
    return call(_wit.broadcast, title, text)


def reply(text: str) -> str:
    """Replies in the user's conversation, within 48 hours of the user's
    last message (`Denied` after). The message id."""
    return call(_wit.reply, text)
