"""Records to the host's log, for the publisher, never shown to users
(`[capabilities.log]`)."""

from __future__ import annotations

try:
    from wit_world.imports import log as _wit
except ImportError:
    raise ImportError(
        "plaza_sdk.log needs [capabilities.log] in plaza.toml: `plaza build` makes the world "
        "from the capabilities it declares, and only those"
    ) from None

__all__ = ["trace", "debug", "info", "warn", "error"]


def trace(message: str) -> None:
    _wit.write(_wit.Level.TRACE, message)


def debug(message: str) -> None:
    _wit.write(_wit.Level.DEBUG, message)


def info(message: str) -> None:
    _wit.write(_wit.Level.INFO, message)


def warn(message: str) -> None:
    _wit.write(_wit.Level.WARN, message)


def error(message: str) -> None:
    _wit.write(_wit.Level.ERROR, message)
