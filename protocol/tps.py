"""TPS codes: ``PP.KK.CC.DDDD.TTT`` (province, regency/city, district, village, TPS).

The code places a TPS in the recapitulation tree: its prefixes are the province, the
kabupaten/kota, the kecamatan (PPK) and the desa/kelurahan (PPS). SIREKAP writes the same
13 digits without dots; :func:`parse` accepts both and always returns the dotted form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from protocol.errors import FieldError

Level = Literal["provinsi", "kabkota", "kecamatan", "desa", "tps"]
LEVELS: tuple[Level, ...] = ("provinsi", "kabkota", "kecamatan", "desa", "tps")
_WIDTHS = (2, 2, 2, 4, 3)
# [0-9], not \d: \d also matches other scripts' digits ("١"), which are not a TPS code.
_DOTTED = re.compile(r"([0-9]{2})\.([0-9]{2})\.([0-9]{2})\.([0-9]{4})\.([0-9]{3})")
_PLAIN = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{4})([0-9]{3})")


@dataclass(frozen=True, order=True)
class TpsCode:
    """A validated TPS code. ``str(code)`` is the dotted form used everywhere in the protocol."""

    province: str
    regency: str
    district: str
    village: str
    tps: str

    def __str__(self) -> str:
        return ".".join(self.parts)

    @property
    def parts(self) -> tuple[str, str, str, str, str]:
        return (self.province, self.regency, self.district, self.village, self.tps)

    @property
    def digits(self) -> str:
        """The 13-digit form SIREKAP uses in its URLs."""
        return "".join(self.parts)

    def prefix(self, level: Level) -> str:
        """The code of the region at ``level`` that holds this TPS, e.g. ``31.71`` for kabkota."""
        return ".".join(self.parts[: LEVELS.index(level) + 1])

    def prefixes(self) -> dict[Level, str]:
        return {level: self.prefix(level) for level in LEVELS}


def parse(text: str, *, field: str = "tps") -> TpsCode:
    """Parse a TPS code, dotted or 13 digits; raise :class:`FieldError` naming ``field``."""
    if not isinstance(text, str):
        raise FieldError(field, f"a TPS code must be a string, not {type(text).__name__}")
    match = _DOTTED.fullmatch(text.strip()) or _PLAIN.fullmatch(text.strip())
    if match is None:
        raise FieldError(
            field,
            f"{text!r} is not a TPS code: expected PP.KK.CC.DDDD.TTT "
            "(province, regency/city, district, village, TPS number), e.g. 31.71.01.1001.001",
        )
    parts = match.groups()
    if int(parts[0]) == 0 or int(parts[4]) == 0:
        raise FieldError(field, f"{text!r}: province and TPS number start at 1, not 0")
    return TpsCode(*parts)


def region_prefix_valid(prefix: str) -> bool:
    """True if ``prefix`` is a whole-level prefix of some TPS code (``31``, ``31.71``...)."""
    pieces = prefix.split(".")
    if not 1 <= len(pieces) <= len(_WIDTHS):
        return False
    return all(
        re.fullmatch(f"[0-9]{{{w}}}", p) is not None for p, w in zip(pieces, _WIDTHS, strict=False)
    )


def within(region: str, code: str) -> bool:
    """True if ``code`` (a region or TPS code) lies in ``region`` (itself included); the
    empty region is the whole election."""
    return region == "" or code == region or code.startswith(region + ".")
