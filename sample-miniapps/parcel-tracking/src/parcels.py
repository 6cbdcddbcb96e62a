"""West Lake Express's parcel records: sample data derived from the tracking
number, so the same number always travels the same route.

A number is `WL` and 10 digits, the last a check digit (the sum of the other
nine, modulo 10): `WL2026112104`. A parcel's journey starts when it is first
tracked in the mini-app (its `since`): picked up two hours before, then it
moves at the hours of `STAGES`, on the host's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

HOUR_MS = 3_600_000

# (city, its sorting centre); origin and destination are picked from these.
CITIES = [
    ("Hangzhou", "Xiaoshan sorting centre"),
    ("Shanghai", "Qingpu sorting centre"),
    ("Suzhou", "Wuzhong sorting centre"),
    ("Ningbo", "Beilun sorting centre"),
    ("Nanjing", "Jiangning sorting centre"),
    ("Wenzhou", "Longwan sorting centre"),
]

# (hours after tracking started, status, where: "origin", "origin-hub",
# "destination-hub" or "destination").
STAGES = [
    (-2, "Picked up", "origin"),
    (5, "Left the sorting centre", "origin-hub"),
    (12, "Arrived at the sorting centre", "destination-hub"),
    (20, "Out for delivery", "destination"),
    (24, "Delivered", "destination"),
]


@dataclass
class Move:
    """One stage a parcel reached."""

    stage: int
    status: str
    place: str
    at_ms: int


@dataclass
class Parcel:
    number: str
    origin: str
    destination: str
    moves: list[Move]

    @property
    def last(self) -> Move:
        return self.moves[-1]

    @property
    def delivered(self) -> bool:
        return self.last.stage == len(STAGES) - 1


def normalise(text: str) -> Optional[str]:
    """The number in `text` (spaces and case ignored), or `None` if it is not
    shaped like one: `WL` and 10 digits."""
    number = "".join(text.split()).upper()
    if len(number) == 12 and number.startswith("WL") and number[2:].isdigit():
        return number
    return None


def exists(number: str) -> bool:
    """Whether the check digit holds (a mistyped number does not)."""
    digits = [int(c) for c in number[2:]]
    return sum(digits[:9]) % 10 == digits[9]


def fnv(text: str) -> int:
    """FNV-1a, 32 bits: a hash that is the same in every run."""
    h = 0x811C9DC5
    for b in text.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def journey(number: str, since_ms: int, now_ms: int) -> Parcel:
    """Where the parcel `number`, tracked since `since_ms`, has been by `now_ms`."""
    h = fnv(number)
    origin = CITIES[h % len(CITIES)]
    destination = CITIES[(h // len(CITIES) + 1 + h % len(CITIES)) % len(CITIES)]
    if destination == origin:
        destination = CITIES[(CITIES.index(origin) + 1) % len(CITIES)]
    places = {
        "origin": origin[0],
        "origin-hub": f"{origin[1]}, {origin[0]}",
        "destination-hub": f"{destination[1]}, {destination[0]}",
        "destination": destination[0],
    }
    moves = []
    for i, (hours, status, where) in enumerate(STAGES):
        at = since_ms + hours * HOUR_MS
        if at > now_ms:
            break
        moves.append(Move(i, status, places[where], at))
    return Parcel(number, origin[0], destination[0], moves)
