"""Key-value storage kept for the current user in this mini-app, with JSON
and text values (`[capabilities.storage]`).

Values survive the session and a restart of the host. Limits: a key is 1 to
256 bytes, a value at most 1 MiB, all of a user's at most the manifest's
`quota-bytes`; a write over a limit raises `LimitExceeded` and writes
nothing.
"""

from __future__ import annotations

import json
from typing import Any, Optional

try:
    from wit_world.imports import storage as _wit
except ImportError:
    raise ImportError(
        "plaza_sdk.storage needs [capabilities.storage] in plaza.toml: `plaza build` makes the world "
        "from the capabilities it declares, and only those"
    ) from None

from .errors import call

__all__ = ["get", "set", "delete", "keys", "usage", "get_text", "set_text", "get_json", "set_json", "Usage"]

#: How much of the quota is used: `used_bytes`, `quota_bytes`, `keys`.
Usage = _wit.Usage


def get(key: str) -> Optional[bytes]:
    """The value under `key`, or `None`."""
    return call(_wit.get, key)


def set(key: str, value: bytes) -> None:  # noqa: A001 - the WIT name
    """Stores `value` under `key`, replacing any value there."""
    call(_wit.set, key, bytes(value))


def delete(key: str) -> bool:
    """Removes `key`; whether it was there."""
    return call(_wit.delete, key)


def keys(prefix: str = "", limit: int = 1000) -> list[str]:
    """The keys that start with `prefix`, in byte order, at most `limit` (at most 1000)."""
    return call(_wit.list_keys, prefix, limit)


def usage() -> Usage:
    """How much of the quota the user's space uses."""
    return call(_wit.get_usage)


def get_text(key: str, default: str = "") -> str:
    """The value under `key` as UTF-8 text; `default` when absent."""
    value = get(key)
    return default if value is None else value.decode("utf-8", errors="replace")


def set_text(key: str, text: str) -> None:
    """Stores `text` under `key`, as UTF-8."""
    set(key, text.encode())


def get_json(key: str, default: Any = None) -> Any:
    """The JSON value under `key`; `default` when absent or not JSON (a
    value written by an older version of the mini-app, say)."""
    value = get(key)
    if value is None:
        return default
    try:
        return json.loads(value)
    except ValueError:
        return default


def set_json(key: str, value: Any) -> None:
    """Stores `value` under `key` as compact JSON (`TypeError` for a value
    JSON cannot hold)."""
    set(key, json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
