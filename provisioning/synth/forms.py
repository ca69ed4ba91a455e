"""Whole forms, filled and photographed, with the truth kept beside each page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np

from protocol.forms import layout
from protocol.forms.schema import FieldSpec, Template
from protocol.manifest import OfficialDpt
from provisioning.forms.raster import render_page
from provisioning.synth.handwriting import (
    DigitBank,
    Rect,
    fill_bubble,
    number_boxes,
    write_digit,
    write_x,
)
from provisioning.synth.photo import CameraGeometry, Conditions, photograph
from provisioning.synth.values import consistent_values

OVERSAMPLE = 1.25  # render a little finer than the camera sees, so the photo resamples down
BOX_INSET_MM = 1.2  # handwriting keeps off the printed border, mostly
# How KPPS fill a bubble: mostly well, sometimes sloppy, faint or not at all.
LEAD_BLANK = 0.1  # some KPPS leave an unused leading box empty instead of writing X
BUBBLE_STYLES = ("good", "sloppy", "faint", "missing")
BUBBLE_ODDS = (0.85, 0.07, 0.05, 0.03)


@dataclass
class SynthPage:
    number: int
    jpeg: bytes
    truth: dict[str, Any] = field(default_factory=dict)


def _box_px(box: Any, k: float) -> Rect:
    inner = layout.box_interior(box, BOX_INSET_MM)
    return Rect(inner.x * k, inner.y * k, inner.w * k, inner.h * k)


def _fill_field(
    image: np.ndarray,
    spec: FieldSpec,
    value: int,
    bank: DigitBank,
    rng: np.random.Generator,
    k: float,
) -> tuple[list[str], list[dict[str, Any]]]:
    """Write one number into its boxes (and bubbles); return what each box and bubble holds."""
    boxes, bubbles = [], []
    for index, digit in enumerate(number_boxes(value, spec.digits)):
        rect = _box_px(spec.boxes[index], k)
        if digit is None and rng.random() < LEAD_BLANK:
            boxes.append("blank")
        elif digit is None:
            write_x(image, rect, rng)
            boxes.append("X")
        else:
            write_digit(image, rect, bank.draw(digit, rng), rng)
            boxes.append(str(digit))
        if spec.bubbles:
            bubbles.append(_fill_column(image, spec, index, digit, rng, k))
    return boxes, bubbles


def _fill_column(
    image: np.ndarray,
    spec: FieldSpec,
    index: int,
    digit: int | None,
    rng: np.random.Generator,
    k: float,
) -> dict[str, Any]:
    column = spec.bubbles[index]  # type: ignore[index]
    if digit is None:  # an X box: some KPPS blacken 0, others leave the column empty
        if rng.random() < 0.5:
            return {"filled": None, "style": "none"}
        digit = 0
    style = str(rng.choice(BUBBLE_STYLES, p=BUBBLE_ODDS))
    if style != "missing":
        cx, cy = column.centre(digit)
        fill_bubble(image, (cx * k, cy * k), column.r * k, rng, style)
    return {"filled": None if style == "missing" else digit, "digit": digit, "style": style}


def camera_px_per_mm(template: Template, geometry: CameraGeometry) -> float:
    """How many frame pixels a millimetre of this form's first page covers, nominally."""
    page = template.pages[0]
    return geometry.fill * max(geometry.frame_w, geometry.frame_h) / max(page.width, page.height)


def synthesize_form(
    template: Template,
    *,
    tps: str,
    election: str,
    bank: DigitBank,
    rng: np.random.Generator,
    values: dict[str, int] | None = None,
    dpt: OfficialDpt | None = None,
    geometry: CameraGeometry | None = None,
    conditions: Conditions | None = None,
    only_pages: Sequence[int] | None = None,
    before_photo: Callable[[np.ndarray, float], None] | None = None,
    qr: bool = False,
    blank: Callable[[int, float], np.ndarray] | None = None,
    fold: bool = False,
    max_blur: float = 1.2,
) -> list[SynthPage]:
    """Every page of one filled form, photographed; ``values`` default to a consistent set
    (whose rows I.A are the TPS's official ``dpt`` where given).

    ``before_photo(image, px_per_mm)`` may change the filled page before it is photographed
    (a hand over a corner mark, a coffee stain): the tests use it for the refusals.
    ``qr`` prints the optional QR code. ``blank(page, px_per_mm)`` gives the printed page to
    write on instead of ours (uint8 grey, white 255, the template's size in mm at that
    scale): KPU's own sheet, say. Where ``conditions`` are not given they are drawn, with a
    folded, curled sheet if ``fold`` and a blur up to ``max_blur`` px.
    """
    if qr and blank is not None:
        raise ValueError("qr adds the QR code to our print; a blank page given is printed already")
    values = values if values is not None else consistent_values(template, rng, dpt)
    geometry = geometry or CameraGeometry()
    k = OVERSAMPLE * camera_px_per_mm(template, geometry)
    pages = []
    for page in template.pages:
        if only_pages is not None and page.number not in only_pages:
            continue
        image = _blank_page(template, page.number, tps, election, k, qr=qr, blank=blank)
        truth_fields, truth_boxes, truth_bubbles = {}, {}, {}
        for spec in page.fields:
            boxes, bubbles = _fill_field(image, spec, values[spec.id], bank, rng, k)
            truth_fields[spec.id] = values[spec.id]
            truth_boxes[spec.id] = boxes
            if bubbles:
                truth_bubbles[spec.id] = bubbles
        if before_photo is not None:
            before_photo(image, k)
        # Drawn here, not in photograph, to pass the options: the random stream is the same.
        drawn = conditions or Conditions.draw(rng, geometry, fold=fold, max_blur=max_blur)
        jpeg, to_frame, used = photograph(
            image, rng, geometry=geometry, conditions=drawn, px_per_mm=k
        )
        truth = {
            "form": template.id,
            "page": page.number,
            "tps": tps,
            "election": election,
            "fields": truth_fields,
            "boxes": truth_boxes,
            "bubbles": truth_bubbles,
            "qr": qr,
            "photo": _rounded(asdict(used)),
            "corners": _corners(to_frame, image.shape),
        }
        pages.append(SynthPage(page.number, jpeg, truth))
    return pages


def _blank_page(
    template: Template,
    number: int,
    tps: str,
    election: str,
    k: float,
    *,
    qr: bool,
    blank: Callable[[int, float], np.ndarray] | None,
) -> np.ndarray:
    if blank is None:
        return render_page(template, number, tps, election, k, qr=qr)
    page = template.page(number)
    image = blank(number, k)
    expected = (round(page.height * k), round(page.width * k))
    if image.dtype != np.uint8 or image.shape != expected:
        raise ValueError(
            f"blank page {number}: {image.dtype} {image.shape}, expected uint8 {expected}"
        )
    return image.copy()  # a provider may cache its pages: the handwriting goes on a copy


def _corners(to_frame: np.ndarray, shape: tuple[int, ...]) -> list[list[float]]:
    """Where the page's corners (top-left, then clockwise) landed in the photo, px."""
    h, w = shape[:2]
    page = np.array([[[0, 0], [w, 0], [w, h], [0, h]]], np.float64)
    framed = cv2.perspectiveTransform(page, to_frame)[0]
    return [[round(float(x), 2), round(float(y), 2)] for x, y in framed]


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value
