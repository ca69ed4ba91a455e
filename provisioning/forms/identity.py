"""The TPS's identity written into a printed form's header: Provinsi, Kabupaten / Kota,
Kecamatan, Kelurahan / Desa and Nomor TPS, each on the dotted line after its label.

The templates print those labels and their dotted write-in lines as decoration; the line
to fill is the dotted one that starts right of the label on the label's baseline, so every
template that prints the header (plano and A4 alike) is filled without a change to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from protocol import tps as tps_codes
from protocol.forms.schema import Line, Page, Text
from provisioning.forms.draw import PText

# The header's labels as the templates print them, by the level of the name they take.
LABELS = {
    "Provinsi": "provinsi",
    "Kabupaten": "kabkota",
    "Kecamatan": "kecamatan",
    "Kelurahan": "desa",
    "Nomor TPS": "tps",
}
_GAP = 1.5  # mm between the label (or the line's start) and the name


def header_names(tps: str, names: Mapping[str, str] | None) -> dict[str, str]:
    """What goes on each line: a region's name and code, or its code alone without names."""
    code = tps_codes.parse(tps)
    lines = {}
    for level in ("provinsi", "kabkota", "kecamatan", "desa"):
        prefix = code.prefix(level)
        name = (names or {}).get(level)
        lines[level] = f"{name} ({prefix})" if name else prefix
    lines["tps"] = code.tps
    return lines


# The printed width in mm of a text at a size in mm, bold or not (the backend's font).
Width = Callable[[str, float, bool], float]


def identity_primitives(page: Page, lines: Mapping[str, str], width: Width) -> list[PText]:
    """A text on each header line the page prints, shrunk to fit the line if need be."""
    texts = [d for d in page.decor if isinstance(d, Text) and not d.rotate]
    dotted = [d for d in page.decor if isinstance(d, Line) and d.dotted and d.y1 == d.y2]
    out = []
    for label in texts:
        level = next((v for k, v in LABELS.items() if label.text.startswith(k)), None)
        if level is None or level not in lines or label.align != "left":
            continue
        line = min(
            (d for d in dotted if d.x1 > label.x and 0 <= d.y1 - label.y <= 1.5),
            key=lambda d: d.x1,
            default=None,
        )
        if line is None:
            continue  # a label in running text (the A4 page 1's narrative), no line to fill
        text = lines[level]
        # A long label runs onto its own line on some sheets (Kabupaten / Kota on page 1).
        start = max(line.x1, label.x + width(label.text, label.size, label.bold)) + _GAP
        room = line.x2 - start
        size = min(label.size, label.size * room / width(text, label.size, True))
        out.append(PText(start, line.y1 - 0.5, text, round(size, 2), bold=True))
    return out
