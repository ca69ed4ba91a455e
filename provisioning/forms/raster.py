"""Raster backend: a printed page as a grayscale image, drawn with OpenCV.

``render_page`` is the blank sheet the form synthesizer writes digits onto and photographs;
it draws exactly the primitives the PDF backend prints. Solid shapes (marks, tag cells, QR
modules) are filled on whole pixels so detectors see sharp edges; lines, circles and text are
anti-aliased like a scan.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from protocol.forms.schema import Template
from provisioning.forms.draw import (
    PCells,
    PCircle,
    PLine,
    PRect,
    Primitive,
    PText,
    dashes,
    page_primitives,
)

SHIFT = 4  # cv2 fixed-point bits: sub-pixel positions for lines and circles
ONE = 1 << SHIFT
HERSHEY_CAP = 22.0  # height of a capital at fontScale 1 for FONT_HERSHEY_SIMPLEX, px


def render_page(
    template: Template, page: int, tps: str, election: str, px_per_mm: float, *, qr: bool = False
) -> np.ndarray:
    """Page ``page`` of ``template`` printed for ``tps`` and ``election``: uint8, white 255.

    ``qr`` adds the optional QR code (see ``page_primitives``)."""
    p = template.page(page)
    image = np.full((round(p.height * px_per_mm), round(p.width * px_per_mm)), 255, np.uint8)
    for item in page_primitives(template, page, tps, election, qr=qr):
        draw(image, item, px_per_mm)
    return image


def draw(image: np.ndarray, item: Primitive, k: float) -> None:
    """Draw one primitive (mm) onto ``image`` at ``k`` pixels per mm."""
    if isinstance(item, PRect):
        _rect(image, item, k)
    elif isinstance(item, PLine):
        _line(image, item, k)
    elif isinstance(item, PCircle):
        _circle(image, item, k)
    elif isinstance(item, PText):
        _text(image, item, k)
    else:
        _cells(image, item, k)


def _grey(percent: int) -> int:
    return round(255 * (1 - percent / 100))


def _fx(v: float, k: float) -> int:
    return round(v * k * ONE)


def _thick(stroke: float, k: float) -> int:
    return max(1, round(stroke * k))


def _rect(image: np.ndarray, r: PRect, k: float) -> None:
    if r.fill:
        (x0, x1), (y0, y1) = _span(r.x, r.x + r.w, k), _span(r.y, r.y + r.h, k)
        image[y0:y1, x0:x1] = np.minimum(image[y0:y1, x0:x1], _grey(r.fill))
    if r.stroke:
        corners = [(r.x, r.y), (r.x + r.w, r.y), (r.x + r.w, r.y + r.h), (r.x, r.y + r.h)]
        pts = np.array([[_fx(x, k), _fx(y, k)] for x, y in corners], np.int32)
        cv2.polylines(image, [pts], True, 0, _thick(r.stroke, k), cv2.LINE_AA, SHIFT)


def _span(start: float, end: float, k: float) -> tuple[int, int]:
    """The pixels whose centres lie within [start, end] mm, as a slice: a filled shape is
    centred where the template says, as lines drawn at sub-pixel positions are."""
    return math.ceil(start * k), math.floor(end * k) + 1


def _line(image: np.ndarray, ln: PLine, k: float) -> None:
    t, grey = _thick(ln.stroke, k), _grey(ln.grey)
    if ln.dashed:
        # OpenCV caps a thick line with half its width at each end: shorten by as much.
        for x1, y1, x2, y2 in dashes(ln, inset=ln.stroke / 2):
            cv2.line(
                image,
                (_fx(x1, k), _fx(y1, k)),
                (_fx(x2, k), _fx(y2, k)),
                grey,
                t,
                cv2.LINE_AA,
                SHIFT,
            )
        return
    if not ln.dotted:
        p1, p2 = (_fx(ln.x1, k), _fx(ln.y1, k)), (_fx(ln.x2, k), _fx(ln.y2, k))
        cv2.line(image, p1, p2, grey, t, cv2.LINE_AA, SHIFT)
        return
    length = float(np.hypot(ln.x2 - ln.x1, ln.y2 - ln.y1))
    for i in range(int(length / 1.4) + 1):
        f = i * 1.4 / length if length else 0.0
        x, y = ln.x1 + f * (ln.x2 - ln.x1), ln.y1 + f * (ln.y2 - ln.y1)
        cv2.circle(
            image, (_fx(x, k), _fx(y, k)), max(ONE // 2, _fx(0.2, k)), grey, -1, cv2.LINE_AA, SHIFT
        )


def _circle(image: np.ndarray, c: PCircle, k: float) -> None:
    centre, radius = (_fx(c.cx, k), _fx(c.cy, k)), _fx(c.r, k)
    if c.fill:
        cv2.circle(image, centre, radius, _grey(c.fill), -1, cv2.LINE_AA, SHIFT)
    cv2.circle(image, centre, radius, 0, _thick(c.stroke, k), cv2.LINE_AA, SHIFT)


def _text(image: np.ndarray, t: PText, k: float) -> None:
    scale = 0.72 * t.size * k / HERSHEY_CAP
    if scale < 0.12:
        return  # below ~3 px a glyph is noise: leave it out rather than smudge
    thick = max(1, round(scale * (2.6 if t.bold else 1.6)))
    if t.rotate:
        _rotated_text(image, t, k, scale, thick)
        return
    font = cv2.FONT_HERSHEY_SIMPLEX
    (w, _), _ = cv2.getTextSize(t.text, font, scale, thick)
    x = t.x * k - {"left": 0, "centre": w / 2, "right": w}[t.align]
    cv2.putText(
        image, t.text, (round(x), round(t.y * k)), font, scale, _grey(t.grey), thick, cv2.LINE_AA
    )


def _rotated_text(image: np.ndarray, t: PText, k: float, scale: float, thick: int) -> None:
    font = cv2.FONT_HERSHEY_SIMPLEX
    (w, h), base = cv2.getTextSize(t.text, font, scale, thick)
    tile = np.full((h + base + 2, w + 2), 255, np.uint8)
    cv2.putText(tile, t.text, (1, h + 1), font, scale, _grey(t.grey), thick, cv2.LINE_AA)
    tile = np.rot90(tile, k=t.rotate // 90)
    y0, x0 = round(t.y * k - tile.shape[0] / 2), round(t.x * k - tile.shape[1] / 2)
    region = image[y0 : y0 + tile.shape[0], x0 : x0 + tile.shape[1]]
    np.minimum(region, tile[: region.shape[0], : region.shape[1]], out=region)


def _cells(image: np.ndarray, c: PCells, k: float) -> None:
    for r, row in enumerate(c.bits):
        y0, y1 = _span(c.y + r * c.cell, c.y + (r + 1) * c.cell, k)
        for col, bit in enumerate(row):
            if bit:
                x0, x1 = _span(c.x + col * c.cell, c.x + (col + 1) * c.cell, k)
                image[y0:y1, x0:x1] = 0
