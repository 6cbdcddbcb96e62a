"""Who the user is, as far as the user lets this mini-app know
(`[capabilities.identity]`, with a purpose for each consent scope).

`openid` and `unionid` need no consent. Every other call reads a scope: the
host asks the user at the first call and remembers the answer; a refusal
raises `Denied`.
"""

from __future__ import annotations

try:
    from wit_world.imports import identity as _wit
except ImportError:
    raise ImportError(
        "plaza_sdk.identity needs [capabilities.identity] in plaza.toml: `plaza build` makes the world "
        "from the capabilities it declares, and only those"
    ) from None

from .errors import call

__all__ = [
    "openid",
    "unionid",
    "login",
    "profile",
    "phone",
    "real_name",
    "location",
    "insurance_card",
    "Profile",
    "RealName",
    "Location",
    "InsuranceCard",
    "LoginCode",
]

Profile = _wit.Profile
RealName = _wit.RealName
Location = _wit.Location
InsuranceCard = _wit.InsuranceCard
LoginCode = _wit.LoginCode


def openid() -> str:
    """The user's pseudonymous id in this mini-app (the publisher API's
    `openid`): the same in every session."""
    return call(_wit.openid)


def unionid() -> str:
    """The user's pseudonymous id for the publisher, in all its mini-apps."""
    return call(_wit.unionid)


def login() -> LoginCode:
    """A single-use login code for the mini-app's back-end (five minutes)."""
    return call(_wit.login)


def profile() -> Profile:
    """The nickname and avatar. Scope `profile`."""
    return call(_wit.get_profile)


def phone() -> str:
    """The phone number. Scope `phone`."""
    return call(_wit.get_phone)


def real_name() -> RealName:
    """The verified legal name. Scope `real-name`."""
    return call(_wit.get_real_name)


def location(precise: bool = False) -> Location:
    """Where the user is. Scope `location` (about a kilometre) or, with
    `precise`, `precise-location`."""
    precision = _wit.LocationPrecision.PRECISE if precise else _wit.LocationPrecision.COARSE
    return call(_wit.get_location, precision)


def insurance_card() -> InsuranceCard:
    """The bound medical insurance card. Scope `insurance-card`."""
    return call(_wit.get_insurance_card)
