"""Host errors as exceptions: one class per case of the WIT `error` variant.

A host call that cannot do what was asked returns a WIT `error`;
componentize-py raises it as `componentize_py_types.Err` whose `value` is a
dataclass (`types.Error_Denied(value='...')`). The SDK's wrappers raise the
matching subclass of `HostError` instead, so a mini-app catches what it can
handle by class:

    try:
        storage.set_json("order", order)
    except LimitExceeded as e:
        return page.notice(f"Your order was not saved: {e}", "error")

Every case carries a message for people (`str(e)`, `e.message`): show it,
never parse it. A denial is data, not a crash: an uncaught exception traps
the instance and ends the session with the host's error.
"""

from __future__ import annotations

from typing import Callable, TypeVar

from componentize_py_types import Err
from wit_world.imports import types

__all__ = [
    "HostError",
    "Denied",
    "InvalidArgument",
    "LimitExceeded",
    "NotFound",
    "Unavailable",
    "from_wit",
    "call",
]


class HostError(Exception):
    """Why a host call did not do what was asked (WIT `types.error`)."""

    #: The WIT case's name, as in `types.wit`.
    case: str = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        #: The host's message, for people.
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class Denied(HostError):
    """The mini-app may not do this for this user now: the manifest does not
    declare it, the host's policy does not allow it for the publisher's
    category, or the user refused consent (WIT `denied`)."""

    case = "denied"


class InvalidArgument(HostError):
    """An argument is malformed or out of range (WIT `invalid-argument`)."""

    case = "invalid-argument"


class LimitExceeded(HostError):
    """A limit was reached: a value too large, a quota full, a rate limit
    hit; nothing was written (WIT `limit-exceeded`)."""

    case = "limit-exceeded"


class NotFound(HostError):
    """The thing asked for does not exist (WIT `not-found`)."""

    case = "not-found"


class Unavailable(HostError):
    """The capability is not available in this host right now; try later or
    offer the user another way (WIT `unavailable`)."""

    case = "unavailable"


# WIT case dataclass -> exception class. One row per case of `types.error`.
_CASES: dict[type, type[HostError]] = {
    types.Error_Denied: Denied,
    types.Error_InvalidArgument: InvalidArgument,
    types.Error_LimitExceeded: LimitExceeded,
    types.Error_NotFound: NotFound,
    types.Error_Unavailable: Unavailable,
}


def from_wit(error: types.Error) -> HostError:
    """The exception for a WIT `error` value."""
    cls = _CASES.get(type(error), HostError)
    return cls(str(getattr(error, "value", error)))


T = TypeVar("T")


def call(fn: Callable[..., T], *args: object) -> T:
    """Calls a generated binding, raising a `HostError` subclass instead of
    `Err` when the host returns an error."""
    try:
        return fn(*args)
    except Err as e:
        raise from_wit(e.value) from None
