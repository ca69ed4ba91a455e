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
    BoxStyle,
    Circle,
    CornerMark,
    Decor,
    FieldSpec,
    Grid,
    Line,
    Page,
    Rect,
    Tag,
    Template,
    Text,
)

BUBBLE_STROKE = 0.35
# Bubble digits in mid grey: legible for the KPPS, yet far lighter than a filled bubble.
BUBBLE_DIGIT_GREY = 55
# KPU's dotted writing guide in a digit box, measured on its plano PDF (a 20 mm box): 5 x 9
# light grey squares of 0.7 mm drawing an "8", columns 10.3 % and rows 8.3 % of the box apart.
GUIDE_COLUMNS, GUIDE_ROWS = 5, 9
GUIDE_PITCH = (0.103, 0.083)
GUIDE_DOT = 0.7
GUIDE_GREY = 21


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
    dashed: bool = False
    grey: int = 100  # percent black


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


def page_primitives(
    template: Template, number: int, tps: str, election: str, *, qr: bool = False
) -> list[Primitive]:
    """Everything printed on page ``number`` of ``template`` for one TPS and election.

    ``qr`` adds the optional QR code naming election, form, page and TPS (KPU prints none).
    """
    page = template.page(number)
    out: list[Primitive] = []
    for item in page.decor:
        out += decor_primitives(item)
    out.append(text_primitive(page.page_label))
    for f in page.fields:
        out += field_primitives(f, page.box_style)
    for m in page.marks:
        out += mark_primitives(m)
    out.append(tag_primitive(page.tag))
    if qr:
        payload = qr_payload(election, template.id, number, tps)
        out += qr_primitives(page, payload, str(tps_codes.parse(tps)), election)
    return out


def mark_primitives(m: CornerMark) -> list[Primitive]:
    """A solid square, or KPU's checkerboard: black top-left and bottom-right cells."""
    if m.pattern == "solid":
        return [PRect(m.x, m.y, m.size, m.size, fill=100)]
    half = m.size / 2
    return [
        PRect(m.x, m.y, half, half, fill=100),
        PRect(m.x + half, m.y + half, half, half, fill=100),
    ]


def decor_primitives(item: Decor) -> list[Primitive]:
    if isinstance(item, Text):
        return [text_primitive(item)]
    if isinstance(item, Box):
        return [PRect(item.x, item.y, item.w, item.h, item.stroke, item.fill)]
    if isinstance(item, Line):
        return [
            PLine(
                item.x1, item.y1, item.x2, item.y2, item.stroke, item.dotted, item.dashed, item.grey
            )
        ]
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


def field_primitives(f: FieldSpec, style: BoxStyle) -> list[Primitive]:
    out: list[Primitive] = []
    for b in f.boxes:
        out.append(PRect(b.x, b.y, b.w, b.h, style.stroke))
        if style.guides == "dots":
            out += guide_dots(b)
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


def guide_dots(box: Rect) -> list[Primitive]:
    """KPU's dotted "8": full top, middle and bottom rows; left, centre and right columns."""
    cx, cy = box.centre
    dx, dy = GUIDE_PITCH[0] * box.w, GUIDE_PITCH[1] * box.h
    half = GUIDE_DOT / 2
    out: list[Primitive] = []
    for row in range(GUIDE_ROWS):
        for col in range(GUIDE_COLUMNS):
            full_row = row in (0, GUIDE_ROWS // 2, GUIDE_ROWS - 1)
            if full_row or col % 2 == 0:
                x = cx + (col - GUIDE_COLUMNS // 2) * dx
                y = cy + (row - GUIDE_ROWS // 2) * dy
                out.append(PRect(x - half, y - half, GUIDE_DOT, GUIDE_DOT, fill=GUIDE_GREY))
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


DASH_MM = (1.2, 3.6)  # dash length and period of KPU's fold line


def dashes(line: PLine, inset: float = 0.0) -> list[tuple[float, float, float, float]]:
    """The dashes of a dashed line, as (x1, y1, x2, y2) segments in mm, each shortened by
    ``inset`` mm at both ends."""
    length = float(np.hypot(line.x2 - line.x1, line.y2 - line.y1))
    on, period = DASH_MM
    out = []
    start = 0.0
    while start < length:
        a, b = (start + inset) / length, (min(start + on, length) - inset) / length
        dx, dy = line.x2 - line.x1, line.y2 - line.y1
        out.append((line.x1 + a * dx, line.y1 + a * dy, line.x1 + b * dx, line.y1 + b * dy))
        start += period
    return out
