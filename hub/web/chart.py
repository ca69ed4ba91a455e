"""A contest's vote shares as a bar chart: an SVG drawn here, served as a file, so the
dashboard, the pages without JavaScript and the README show the same picture and nothing
is fetched from elsewhere.

Names are text nodes written by ElementTree (escaped, never markup); the SVG has no
script and is shown through <img>, where a browser runs none anyway.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping

from hub.recap.shares import Share
from hub.web.numbers import number, percent

WIDTH = 400
_PAD = 6
_LINE = 18  # a name line's height
_BAR = 20
_GAP = 14
_LABEL_W = 112  # room right of the bars for "100,0% · 999.999"
_COLOURS = ("#1f6feb", "#cf222e", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#0a7d91")
_SVG = "http://www.w3.org/2000/svg"


def option_label(number_: int, names: Mapping[int, str]) -> str:
    """How an option is called: its names from the manifest, or "Paslon 01"."""
    return names.get(number_) or f"Paslon {number_:02d}"


def summary(shares: list[Share], names: Mapping[int, str]) -> str:
    """The chart in words (its alt text): "01 NAME: 33,3% (1.234 suara); ..."."""
    if not shares:
        return "Tidak ada perolehan suara."
    return "; ".join(
        f"{s.number:02d} {option_label(s.number, names)}: {percent(s.share)} "
        f"({number(s.votes)} suara)"
        for s in shares
    )


def bar_chart(shares: list[Share], names: Mapping[int, str]) -> bytes:
    """One bar per option, its names above it (one line per candidate of the pair), its
    share and votes beside it."""
    rows = [(s, option_label(s.number, names).split(" / ")) for s in shares]
    height = _PAD * 2 + sum(len(lines) * _LINE + _BAR + _GAP for _, lines in rows) or 40
    svg = ET.Element(
        "svg",
        {
            "xmlns": _SVG,
            "viewBox": f"0 0 {WIDTH} {height}",
            "width": str(WIDTH),
            "height": str(height),
            "role": "img",
            "font-family": "system-ui, 'Segoe UI', Roboto, 'Noto Sans', sans-serif",
            "font-size": "14",
        },
    )
    ET.SubElement(svg, "title").text = "Perolehan suara: " + summary(shares, names)
    y = _PAD
    track = WIDTH - _LABEL_W - _PAD
    for i, (share, lines) in enumerate(rows):
        for j, line in enumerate(lines):
            y += _LINE
            x = _PAD if j == 0 else _PAD + 24  # the running mate under the candidate
            text = ET.SubElement(svg, "text", {"x": str(x), "y": str(y - 4), "fill": "#1b1f24"})
            if j == 0:
                ET.SubElement(text, "tspan", {"font-weight": "700"}).text = f"{share.number:02d} "
            ET.SubElement(text, "tspan").text = line
        colour = _COLOURS[i % len(_COLOURS)]
        ET.SubElement(
            svg,
            "rect",
            {
                "x": str(_PAD),
                "y": str(y),
                "width": str(track),
                "height": str(_BAR),
                "fill": "#eaeef2",
            },
        )
        width = round(track * (share.share or 0), 1)
        ET.SubElement(
            svg,
            "rect",
            {
                "x": str(_PAD),
                "y": str(y),
                "width": str(width),
                "height": str(_BAR),
                "fill": colour,
                "data-option": str(share.number),
            },
        )
        value = ET.SubElement(
            svg, "text", {"x": str(WIDTH - _PAD), "y": str(y + 15), "text-anchor": "end"}
        )
        ET.SubElement(value, "tspan", {"font-weight": "700"}).text = percent(share.share)
        ET.SubElement(value, "tspan", {"fill": "#57606a"}).text = f" · {number(share.votes)}"
        y += _BAR + _GAP
    return ET.tostring(svg, encoding="utf-8", xml_declaration=True)
