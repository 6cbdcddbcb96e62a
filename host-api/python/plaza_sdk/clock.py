"""The host's clock (`[capabilities.clock]`; a test clock in scenarios)."""

from __future__ import annotations

import datetime

try:
    from wit_world.imports import clock as _wit
except ImportError:
    raise ImportError(
        "plaza_sdk.clock needs [capabilities.clock] in plaza.toml: `plaza build` makes the world "
        "from the capabilities it declares, and only those"
    ) from None

__all__ = ["now", "now_ms", "today"]


def now_ms() -> int:
    """Milliseconds since the Unix epoch."""
    return _wit.now().unix_ms


def now() -> datetime.datetime:
    """The time, in the host's time zone."""
    t = _wit.now()
    zone = datetime.timezone(datetime.timedelta(minutes=t.utc_offset_minutes))
    return datetime.datetime.fromtimestamp(t.unix_ms / 1000, zone)


def today() -> datetime.date:
    """Today's date in the host's time zone."""
    return now().date()
