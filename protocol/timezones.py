"""Indonesia's three time zones, and which one each province keeps: a TPS's times are
shown in its own zone (WIB, WITA, WIT), never in UTC, to the people who read them.

Provinces by their Kemendagri code (a TPS code's first two digits): Sumatra, Java,
West and Central Kalimantan keep WIB (UTC+7); Bali, Nusa Tenggara, the rest of Kalimantan
and Sulawesi keep WITA (UTC+8); Maluku and Papua keep WIT (UTC+9).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

Zone = Literal["WIB", "WITA", "WIT"]
OFFSETS: dict[Zone, int] = {"WIB": 7, "WITA": 8, "WIT": 9}  # hours ahead of UTC
_WITA = {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
DEFAULT: Zone = "WIB"  # Jakarta's: for what no province can be told of


def zone_of(code: str | None) -> Zone:
    """The zone of the province that region or TPS ``code`` lies in (WIB when unknown)."""
    province = (code or "")[:2]
    if not province.isdigit():
        return DEFAULT
    if province in _WITA:
        return "WITA"
    if province >= "81":
        return "WIT"
    return "WIB"


def provinces() -> dict[str, Zone]:
    """Every province code 11..99 that is not WIB, with its zone (the rest keep WIB)."""
    return {f"{p}": zone_of(f"{p}") for p in range(11, 100) if zone_of(f"{p}") != "WIB"}


def local(at: str | dt.datetime | None, code: str | None) -> str:
    """``at`` (UTC, as the hub stores it) in the zone of ``code``: "2024-02-14 20:10 WIB";
    "–" for no time."""
    if at is None or at == "":
        return "–"
    moment = at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    zone = zone_of(code)
    shifted = moment.astimezone(dt.timezone(dt.timedelta(hours=OFFSETS[zone])))
    return f"{shifted:%Y-%m-%d %H:%M} {zone}"
