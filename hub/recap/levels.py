"""The recapitulation tree: which regions a TPS counts in, and the name of each level.

Regions are TPS code prefixes (protocol/tps.py): desa/kelurahan ``PP.KK.CC.DDDD``,
kecamatan ``PP.KK.CC``, kabupaten/kota ``PP.KK``, provinsi ``PP``; the whole election is
the region ``""`` at level ``nasional`` (all the TPS of the election this hub holds).
"""

from __future__ import annotations

from typing import Literal

from hub.recap.errors import RecapError
from protocol import tps as tps_codes
from protocol.tps import within as within  # the recap's readers take it with the levels

RecapLevel = Literal["nasional", "provinsi", "kabkota", "kecamatan", "desa", "tps"]
# Top down; a region's children are at the next level.
LEVELS: tuple[RecapLevel, ...] = ("nasional", "provinsi", "kabkota", "kecamatan", "desa", "tps")
AGGREGATED: tuple[RecapLevel, ...] = LEVELS[:-1]  # the TPS level is the documents themselves
WHOLE = ""  # the region code of the whole election
_BELOW_WHOLE: tuple[Literal["provinsi", "kabkota", "kecamatan", "desa"], ...] = (
    "provinsi",
    "kabkota",
    "kecamatan",
    "desa",
)

# The forms' names for each level, for headers people read.
LEVEL_NAMES: dict[RecapLevel, str] = {
    "nasional": "SELURUH WILAYAH",
    "provinsi": "PROVINSI",
    "kabkota": "KABUPATEN/KOTA",
    "kecamatan": "KECAMATAN",
    "desa": "KELURAHAN/DESA",
    "tps": "TPS",
}


def regions_of(tps: str) -> list[tuple[RecapLevel, str, str | None]]:
    """(level, region, parent) of every aggregated region that holds ``tps``, top down."""
    prefixes = tps_codes.parse(tps).prefixes()
    chain: list[tuple[RecapLevel, str, str | None]] = [("nasional", WHOLE, None)]
    parent = WHOLE
    for level in _BELOW_WHOLE:
        region = prefixes[level]
        chain.append((level, region, parent))
        parent = region
    return chain


def level_of(region: str) -> RecapLevel:
    """The level a region code names; RecapError if it is not a region or TPS code."""
    if region == WHOLE:
        return "nasional"
    if not tps_codes.region_prefix_valid(region):
        raise RecapError(
            f"{region!r} is not a region code: give PP, PP.KK, PP.KK.CC, PP.KK.CC.DDDD "
            "or a TPS code PP.KK.CC.DDDD.TTT (or nothing for the whole election)"
        )
    return LEVELS[len(region.split("."))]


def child_level(level: RecapLevel) -> RecapLevel | None:
    index = LEVELS.index(level)
    return LEVELS[index + 1] if index + 1 < len(LEVELS) else None


def parent_of(region: str) -> str | None:
    if region == WHOLE:
        return None
    return region.rpartition(".")[0]


def check_level(level: str) -> RecapLevel:
    for known in LEVELS:
        if level == known:
            return known
    raise RecapError(f"unknown level {level!r}; levels: {', '.join(LEVELS)}")
