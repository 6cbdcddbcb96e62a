"""The host operator's settings of this mini-app (declared by `[[settings]]`
in plaza.toml): an agency's address, an API key. Secrets come back
decrypted, only to the mini-app."""

from __future__ import annotations

from typing import Optional

try:
    from wit_world.imports import config as _wit
except ImportError:
    raise ImportError(
        "plaza_sdk.config needs a [[settings]] table in plaza.toml: `plaza build` makes the world "
        "from the capabilities it declares, and only those"
    ) from None

from .errors import NotFound, call

__all__ = ["get", "get_or"]


def get(name: str) -> str:
    """The setting `name` (`NotFound` when the operator has not set it)."""
    return call(_wit.get, name)


def get_or(name: str, default: Optional[str] = None) -> Optional[str]:
    """The setting `name`, or `default` when it is not set."""
    try:
        return get(name)
    except NotFound:
        return default
