"""Codes the user scans (`[capabilities.scan]` in plaza.toml): ask while
handling the user's tap or form; the embedding app opens its scanner. A
scanned Plaza link to an installed mini-app is also offered to the user by
the host, who opens it after this event's page if the user accepts."""

from __future__ import annotations

from typing import Sequence

try:
    from wit_world.imports import scan as _wit
except ImportError:
    raise ImportError(
        "plaza_sdk.scan needs [capabilities.scan] in plaza.toml: `plaza build` makes the world "
        "from the capabilities it declares, and only those"
    ) from None

from componentize_py_types import Err

from .errors import Denied, Unavailable

__all__ = ["CodeKind", "Scanned", "Cancelled", "scan_code"]

#: What kind of code: `CodeKind.QR` or `CodeKind.BARCODE`.
CodeKind = _wit.CodeKind
#: What the user scanned: `text` and `kind`.
Scanned = _wit.Scanned


class Cancelled(Exception):
    """The user closed the scanner without scanning."""


def scan_code(purpose: str, kinds: Sequence[CodeKind] = ()) -> Scanned:
    """Asks the user to scan a code of one of `kinds` (both when empty);
    `purpose` is shown to the user. Raises `Cancelled` when the user closes
    the scanner, `Denied` outside a tap or form, `Unavailable` when the
    phone cannot scan."""
    try:
        return _wit.scan_code(purpose, list(kinds))
    except Err as e:
        error = e.value
        if isinstance(error, _wit.ScanError_Cancelled):
            raise Cancelled("the user closed the scanner") from None
        if isinstance(error, _wit.ScanError_Denied):
            raise Denied(error.value) from None
        raise Unavailable(str(getattr(error, "value", error))) from None
