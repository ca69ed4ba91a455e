"""One drawing description of a printed page, shared by the PDF and the raster backends.

``page_primitives`` turns a template page plus the TPS and election it is printed for into a
flat list of primitives in mm (origin top-left, y down). The PDF backend (pdf.py) and the
OpenCV raster backend (raster.py) only know how to draw these five shapes, so a printed sheet
and a synthesized photo of it cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import segno

from protocol import tps as tps_codes
from protocol.forms.qr import qr_payload
from protocol.forms.schema import (
    TAG_CELLS,
    TAG_DICTIONARIES,
    Box,
    Circle,
    Decor,
    FieldSpec,
    Grid,
    Line,
    Page,
    Tag,
    Template,
    Text,
)

# Digit boxes are printed thin: the reader looks at the box interior, and a heavy border
# bleeding into it after blur costs more than a faint one that is harder to see.
BOX_STROKE = 0.5
BUBBLE_STROKE = 0.35
# Bubble digits in mid grey: legible for the KPPS, yet far lighter than a filled bubble.
BUBBLE_DIGIT_GREY = 55


@dataclass(frozen=True)
class PRect:
    x: float
    y: float
    w: float
    h: float
    stroke: float = 0.0
    fill: int = 0  # percent black; 0 = no fill


@dataclass(frozen=True)
class PLine:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: float
    dotted: bool = False


@dataclass(frozen=True)
class PCircle:
    cx: float
    cy: float
    r: float
    stroke: float
    fill: int = 0


@dataclass(frozen=True)
class PText:
    x: float
    y: float
    text: str
    size: float
    bold: bool = False
    align: str = "left"
    rotate: int = 0
    grey: int = 100


@dataclass(frozen=True)
class PCells:
    """A matrix of square cells (tag bits, QR modules): black where ``bits`` is 1."""

    x: float
    y: float
    cell: float
    bits: tuple[tuple[int, ...], ...]


Primitive = PRect | PLine | PCircle | PText | PCells


def page_primitives(template: Template, number: int, tps: str, election: str) -> list[Primitive]:
    """Everything printed on page ``number`` of ``template`` for one TPS and election."""
    page = template.page(number)
    payload = qr_payload(election, template.id, number, tps)
    out: list[Primitive] = []
    for item in page.decor:
        out += decor_primitives(item)
    out.append(text_primitive(page.page_label))
    for f in page.fields:
        out += field_primitives(f)
    out += [PRect(m.x, m.y, m.size, m.size, fill=100) for m in page.marks]
    out.append(tag_primitive(page.tag))
    out += qr_primitives(page, payload, str(tps_codes.parse(tps)), election)
    return out


def decor_primitives(item: Decor) -> list[Primitive]:
    if isinstance(item, Text):
        return [text_primitive(item)]
    if isinstance(item, Box):
        return [PRect(item.x, item.y, item.w, item.h, item.stroke, item.fill)]
    if isinstance(item, Line):
        return [PLine(item.x1, item.y1, item.x2, item.y2, item.stroke, item.dotted)]
    if isinstance(item, Circle):
        return [PCircle(item.cx, item.cy, item.r, item.stroke, item.fill)]
    return grid_lines(item)


def grid_lines(g: Grid) -> list[Primitive]:
    xs = [g.x + sum(g.cols[:i]) for i in range(len(g.cols) + 1)]
    ys = [g.y + sum(g.rows[:i]) for i in range(len(g.rows) + 1)]
    out: list[Primitive] = [PLine(x, ys[0], x, ys[-1], g.stroke) for x in xs]
    out += [PLine(xs[0], y, xs[-1], y, g.stroke) for y in ys]
    return out


def text_primitive(t: Text) -> PText:
    return PText(t.x, t.y, t.text, t.size, t.bold, t.align, t.rotate)


def field_primitives(f: FieldSpec) -> list[Primitive]:
    out: list[Primitive] = [PRect(b.x, b.y, b.w, b.h, BOX_STROKE) for b in f.boxes]
    for col in f.bubbles or []:
        for digit in range(10):
            cx, cy = col.centre(digit)
            out.append(PCircle(cx, cy, col.r, BUBBLE_STROKE))
            size = col.r * 1.25
            out.append(
                PText(
                    cx, cy + size * 0.36, str(digit), size, align="centre", grey=BUBBLE_DIGIT_GREY
                )
            )
    return out


def tag_bits(tag: Tag) -> np.ndarray:
    """The tag's 8 x 8 cells (1 = black) as printed, i.e. turned by ``tag.rotation``."""
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, TAG_DICTIONARIES[tag.family]))
    image = cv2.aruco.generateImageMarker(dictionary, tag.id, TAG_CELLS)
    return np.rot90((image < 128).astype(np.uint8), k=tag.rotation // 90)


def tag_primitive(tag: Tag) -> PCells:
    bits = tag_bits(tag)
    return PCells(tag.x, tag.y, tag.size / TAG_CELLS, tuple(tuple(int(b) for b in r) for r in bits))


def qr_primitives(page: Page, payload: str, tps: str, election: str) -> list[Primitive]:
    """The QR symbol, and the TPS and election under it for people."""
    q = page.qr
    symbol = segno.make(payload, error="l", micro=False)  # boost_error raises it when it fits
    rows = tuple(tuple(int(v) for v in row) for row in symbol.matrix)
    size = q.size * 0.1
    below = q.y + q.size + q.quiet + size
    return [
        PCells(q.x, q.y, q.size / len(rows), rows),
        PText(q.x + q.size / 2, below, f"TPS {tps}", size, bold=True, align="centre"),
        PText(q.x + q.size / 2, below + size * 1.3, election, size * 0.8, align="centre"),
    ]
