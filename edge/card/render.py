"""Drawing the review card the KPPS checks before pressing KONFIRMASI.

The photographed page is warped through its alignment homography to a rectified image at a
modest scale (``LONG_SIDE_PX`` on the page's long side: about 1.6 px/mm for the 600 x 900 mm
plano, 4 px/mm for A4), enough to see the whole page at once (the PNG of a noisy photograph
is still 1-2 MB); the kit's own screen shows each doubtful field cropped large instead
(firmware/screen/look.py). Each field gets an outline around its boxes in the colour of its
decision, and its value is printed in a margin right of the page, on the field's row, in the
same left-to-right order as the fields of that row: never on the page, where a label would
cover the next field's boxes and the handwriting someone must compare (:func:`place_labels`;
the tests check every template's pages). A band on top carries the form's summary line in
large letters, coloured by the verdict. A form of several pages gets one card per page (the
same summary on each).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.decode.decide import DecodedForm, FieldDecision
from edge.read.page import PageReading
from protocol.forms.schema import FieldSpec, Page

LONG_SIDE_PX = 1400
MAX_PX_PER_MM = 4.0
BAND_PX = 96
OUTLINE_PX = 3
# RGB. Colours are exact in the PNG (outlines are drawn solid, never blended).
READ = (0, 140, 60)
CORRECTED = (0, 90, 255)
DOUBTFUL = (255, 140, 0)
MISTAKE = (220, 0, 0)
BANDS = {
    "accept": (0, 120, 50),
    "needs a look": (230, 120, 0),
    "paper mistake": (200, 0, 0),
    "incomplete": (90, 90, 90),
}
_FONT = cv2.FONT_HERSHEY_DUPLEX
LABEL_FONT = 0.7  # about 15 px capitals: the size of a box's digit at the card's scale
LABEL_PAD = 6  # px around a label, and between the page and the margin's first column


@dataclass(frozen=True)
class Box:
    """A rectangle on the card, pixels: x0, y0 inclusive, x1, y1 exclusive."""

    x0: int
    y0: int
    x1: int
    y1: int

    def overlaps(self, other: Box) -> bool:
        return (
            self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1
        )


def card_scale(width_mm: float, height_mm: float) -> float:
    """Card pixels per millimetre of the page."""
    return min(MAX_PX_PER_MM, LONG_SIDE_PX / max(width_mm, height_mm))


def field_colour(decided: FieldDecision, mistake: bool) -> tuple[int, int, int]:
    if mistake:
        return MISTAKE
    return {"read": READ, "corrected": CORRECTED, "doubtful": DOUBTFUL}[decided.decision]


def rectify(frame: np.ndarray, reading: PageReading, scale: float) -> np.ndarray:
    """The page as seen, rectified at ``scale`` px/mm (grey)."""
    page = reading.template.page(reading.page)
    size = (round(page.width * scale), round(page.height * scale))
    # Shrink the frame first (area averaging) so the warp does not alias fine strokes.
    shrink = max(1, int(reading.alignment.px_per_mm / scale))
    small = cv2.resize(frame, None, fx=1 / shrink, fy=1 / shrink, interpolation=cv2.INTER_AREA)
    card_to_frame = reading.alignment.homography @ np.diag([1 / scale, 1 / scale, 1.0])
    card_to_small = np.diag([1 / shrink, 1 / shrink, 1.0]) @ card_to_frame
    return cv2.warpPerspective(
        small,
        card_to_small,
        size,
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderValue=255,
    )


def field_rect(spec: FieldSpec, scale: float, top: int) -> tuple[int, int, int, int]:
    """The outline around a field's boxes on the card: x0, y0, x1, y1 (pixels)."""
    boxes = spec.boxes
    pad = 1.5  # mm outside the printed boxes, so the outline never hides a digit
    x0 = min(b.x for b in boxes) - pad
    y0 = min(b.y for b in boxes) - pad
    x1 = max(b.right for b in boxes) + pad
    y1 = max(b.bottom for b in boxes) + pad
    return (
        round(x0 * scale),
        round(y0 * scale) + top,
        round(x1 * scale),
        round(y1 * scale) + top,
    )


def covered(page: Page, scale: float, top: int) -> list[Box]:
    """Everything of ``page`` a label must never cover: each field's boxes and bubbles."""
    out = []
    for spec in page.fields:
        x0, y0, x1, y1 = field_rect(spec, scale, top)
        out.append(Box(x0, y0, x1, y1))
        for column in spec.bubbles or ():
            r = column.r + 0.5
            out.append(
                Box(
                    round((column.cx - r) * scale),
                    round((column.cy0 - r) * scale) + top,
                    round((column.cx + r) * scale),
                    round((column.cy0 + 9 * column.pitch + r) * scale) + top,
                )
            )
    return out


def _rows(page: Page, scale: float, top: int) -> list[list[FieldSpec]]:
    """The page's fields in rows (boxes overlapping in height), top to bottom, each row
    left to right."""
    rows: list[list[FieldSpec]] = []
    spans: list[tuple[int, int]] = []
    for spec in sorted(page.fields, key=lambda f: (field_rect(f, scale, top)[1], f.boxes[0].x)):
        _, y0, _, y1 = field_rect(spec, scale, top)
        for row, (r0, r1) in zip(rows, spans, strict=True):
            if y0 < r1 and r0 < y1:
                row.append(spec)
                break
        else:
            rows.append([spec])
            spans.append((y0, y1))
    return [sorted(row, key=lambda f: f.boxes[0].x) for row in rows]


def label_size(text: str) -> tuple[int, int]:
    (w, h), base = cv2.getTextSize(text, _FONT, LABEL_FONT, 2)
    return w + 2 * LABEL_PAD, h + base + 2 * LABEL_PAD


def place_labels(
    page: Page, scale: float, top: int, texts: Mapping[str, str]
) -> tuple[dict[str, Box], int]:
    """Where each field's label goes, and the card's full width (page plus margin).

    The margin right of the page has one column per position in a row (L, P, JML: three),
    each as wide as its longest label; a label sits at its row's height, pushed down below
    the one before it in its column where rows lie closer than a label is tall."""
    page_w = round(page.width * scale)
    rows = _rows(page, scale, top)
    sizes = {f: label_size(t) for f, t in texts.items()}
    columns = max((len(r) for r in rows), default=0)
    widths = [
        max((sizes[r[k].id][0] for r in rows if len(r) > k and r[k].id in sizes), default=0)
        for k in range(columns)
    ]
    starts, x = [], page_w + LABEL_PAD
    for w in widths:
        starts.append(x)
        x += w
    floor = [top] * columns
    out = {}
    for row in rows:
        for k, spec in enumerate(row):
            if spec.id not in sizes:
                continue
            w, h = sizes[spec.id]
            _, y0, _, y1 = field_rect(spec, scale, top)
            y = max((y0 + y1 - h) // 2, floor[k])
            out[spec.id] = Box(starts[k], y, starts[k] + w, y + h)
            floor[k] = y + h
    return out, x + LABEL_PAD


def render_card(frame: np.ndarray, reading: PageReading, decoded: DecodedForm) -> np.ndarray:
    """The card for one page, RGB uint8: summary band on top, the rectified page below and
    the values in a margin right of it."""
    page = reading.template.page(reading.page)
    scale = card_scale(page.width, page.height)
    grey = rectify(frame, reading, scale)
    shown = {f.id: decoded.fields[f.id] for f in page.fields if f.id in decoded.fields}
    texts = {fid: _value_text(d) for fid, d in shown.items()}
    labels, width = place_labels(page, scale, BAND_PX, texts)
    bottom = max((b.y1 for b in labels.values()), default=0)
    height = max(grey.shape[0] + BAND_PX, bottom + LABEL_PAD)
    card = np.full((height, max(width, grey.shape[1]), 3), 255, np.uint8)
    card[BAND_PX : BAND_PX + grey.shape[0], : grey.shape[1]] = grey[..., None]
    mistaken = {f for p in decoded.problems for f in p.fields}
    for spec in page.fields:
        decided = shown.get(spec.id)
        if decided is not None:
            colour = field_colour(decided, spec.id in mistaken)
            _draw_field(card, spec, colour, scale)
            _draw_label(card, labels[spec.id], texts[spec.id], colour)
    _draw_band(card, decoded)
    return card


def _draw_field(
    card: np.ndarray, spec: FieldSpec, colour: tuple[int, int, int], scale: float
) -> None:
    x0, y0, x1, y1 = field_rect(spec, scale, BAND_PX)
    if colour != READ:  # a light wash makes the field stand out
        wash = card[y0:y1, x0:x1].astype(np.float32)
        card[y0:y1, x0:x1] = (0.65 * wash + 0.35 * np.array(colour)).astype(np.uint8)
    cv2.rectangle(card, (x0, y0), (x1, y1), colour, OUTLINE_PX)


def _draw_label(card: np.ndarray, box: Box, text: str, colour: tuple[int, int, int]) -> None:
    (_, th), _ = cv2.getTextSize(text, _FONT, LABEL_FONT, 2)
    at = (box.x0 + LABEL_PAD, box.y0 + LABEL_PAD + th)
    cv2.putText(card, text, at, _FONT, LABEL_FONT, colour, 2, cv2.LINE_AA)


def _value_text(decided: FieldDecision) -> str:
    value = "-" if decided.value is None else str(decided.value)
    if decided.decision == "corrected" and decided.before is not None:
        return f"{value} (dibaca {decided.before})"
    if decided.decision == "doubtful":
        return f"{value} ?"
    return value


def _draw_band(card: np.ndarray, decoded: DecodedForm) -> None:
    card[:BAND_PX] = BANDS[decoded.verdict]
    width = card.shape[1] - 24
    lines = _wrap(decoded.summary, width)
    font = _fit(lines, width, BAND_PX // len(lines) - 14)
    line_h = BAND_PX // len(lines)
    for i, line in enumerate(lines):
        (_, th), _ = cv2.getTextSize(line, _FONT, font, 2)
        y = i * line_h + (line_h + th) // 2
        cv2.putText(card, line, (12, y), _FONT, font, (255, 255, 255), 2, cv2.LINE_AA)


def _fit(lines: list[str], width: int, height: int) -> float:
    """The largest font scale at which every line fits the band."""
    scale = 2.0
    while scale > 0.4:
        sizes = [cv2.getTextSize(line, _FONT, scale, 2)[0] for line in lines]
        if all(w <= width and h <= height for w, h in sizes):
            break
        scale -= 0.1
    return scale


def _wrap(text: str, width: int) -> list[str]:
    """One line if it fits at a readable size, else two, split at a word near the middle."""
    if cv2.getTextSize(text, _FONT, 1.1, 2)[0][0] <= width or " " not in text:
        return [text]
    words = text.split(" ")
    cut = min(
        range(1, len(words)),
        key=lambda i: abs(len(" ".join(words[:i])) - len(" ".join(words[i:]))),
    )
    return [" ".join(words[:cut]), " ".join(words[cut:])]


def card_paths(out: Path, pages: list[int], page_count: int) -> dict[int, Path]:
    """``OUT.png`` for a one-page form; ``OUT-1.png``, ``OUT-2.png``... otherwise."""
    if page_count == 1:
        return {p: out for p in pages}
    return {p: out.with_name(f"{out.stem}-{p}{out.suffix or '.png'}") for p in pages}


def write_card(path: Path, card: np.ndarray) -> None:
    if not cv2.imwrite(str(path), cv2.cvtColor(card, cv2.COLOR_RGB2BGR)):
        raise OSError(f"cannot write {path}")
