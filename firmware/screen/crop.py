"""A field cut out of the page's photograph, at the scale the screen asks for.

The look shows the KPPS the very handwriting the kit read, large: each digit box and (on
forms with them) each bubble column, warped straight from the camera's frame through the
page's homography, so nothing is lost to an intermediate rectified page. Boxes are found
where their print lies (edge.read.placement, as the reader found them) so a folded sheet's
field is not cut off; where the print cannot be found the marks' place is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from edge.align.aligner import AlignConfig
from edge.errors import PageRefusedError
from edge.read.page import PageReading
from edge.read.placement import place_fields
from protocol.forms import layout
from protocol.forms.schema import Rect

# A box is cut along the middle of its printed border (the template's box is that line):
# half the border frames the digit, and none of the screen goes to the paper around it.
BOX_MARGIN_MM = 0.0
BUBBLE_MARGIN_MM = 1.0


@dataclass(frozen=True)
class FieldPhoto:
    """Where one field lies in one photograph (template mm, as placed on this sheet)."""

    frame: np.ndarray  # the photo, grey
    homography: np.ndarray  # template mm -> frame px
    boxes: tuple[Rect, ...]
    bubbles: tuple[tuple[tuple[float, float], ...], ...]  # per column, the centres of 0-9
    bubble_r: float
    stroke: float  # the boxes' printed border, mm

    @property
    def box_mm(self) -> tuple[float, float]:
        """A box as shown (border and margin included): width, height in mm."""
        box = self.boxes[0]
        return box.w + 2 * BOX_MARGIN_MM, box.h + 2 * BOX_MARGIN_MM

    def interior_px(self, px_per_mm: float) -> float:
        """How tall the inside of a box, where the digit is written, is on the screen."""
        return (self.boxes[0].h - self.stroke) * px_per_mm

    @property
    def column_mm(self) -> tuple[float, float]:
        """A bubble column as shown: width, height in mm."""
        column = self.bubbles[0]
        span = column[-1][1] - column[0][1]
        side = 2 * (self.bubble_r + BUBBLE_MARGIN_MM)
        return side, span + side


def field_photo(
    frame: np.ndarray, reading: PageReading, field_id: str, config: AlignConfig | None = None
) -> FieldPhoto:
    """The field ``field_id`` of the page ``reading`` in its photo ``frame``."""
    spec = reading.fields[field_id].spec
    page = reading.template.page(reading.page)
    boxes: Sequence[Rect] = spec.boxes
    bubbles = [tuple(column) for column in layout.bubble_centres(spec)]
    try:
        placed = place_fields(
            frame, reading.alignment, [spec], page.box_style, config or AlignConfig()
        )
        boxes = placed[field_id].boxes
        bubbles = [tuple(column) for column in placed[field_id].bubbles]
    except PageRefusedError:
        pass  # the reader accepted this page: the marks' place is close enough to show
    return FieldPhoto(
        frame=frame,
        homography=reading.alignment.homography,
        boxes=tuple(boxes),
        bubbles=tuple(bubbles),
        bubble_r=layout.bubble_radius(spec) or 0.0,
        stroke=page.box_style.stroke,
    )


def cut(photo: FieldPhoto, x0: float, y0: float, x1: float, y1: float, k: float) -> np.ndarray:
    """The page's region (mm) at ``k`` px/mm, grey, straight from the frame."""
    size = (max(1, round((x1 - x0) * k)), max(1, round((y1 - y0) * k)))
    to_frame = photo.homography @ np.array([[1 / k, 0, x0], [0, 1 / k, y0], [0, 0, 1.0]])
    return cv2.warpPerspective(
        photo.frame,
        to_frame,
        size,
        flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
        borderValue=255,
    )


def box_images(photo: FieldPhoto, k: float) -> list[np.ndarray]:
    """Each digit box with its border and a margin, at ``k`` px/mm, contrast stretched."""
    m = BOX_MARGIN_MM
    images = [cut(photo, b.x - m, b.y - m, b.x + b.w + m, b.y + b.h + m, k) for b in photo.boxes]
    return stretch(images)


def column_images(photo: FieldPhoto, k: float) -> list[np.ndarray]:
    """Each bubble column, 0 at the top, at ``k`` px/mm, contrast stretched."""
    reach = photo.bubble_r + BUBBLE_MARGIN_MM
    images = []
    for column in photo.bubbles:
        (x_top, y_top), (x_end, y_end) = column[0], column[-1]
        x = (x_top + x_end) / 2
        images.append(cut(photo, x - reach, y_top - reach, x + reach, y_end + reach, k))
    return stretch(images)


def stretch(images: list[np.ndarray]) -> list[np.ndarray]:
    """Paper to white and ink to black alike in every piece (one mapping for them all), so
    a grey photo under a dim lamp still shows its strokes plainly."""
    if not images:
        return images
    pixels = np.concatenate([i.ravel() for i in images])
    ink, paper = np.percentile(pixels, [0.5, 80])
    if paper - ink < 20:  # nothing written, or nothing to stretch
        return images
    scale = 245.0 / (paper - ink)
    return [np.clip((i.astype(np.float32) - ink) * scale, 0, 255).astype(np.uint8) for i in images]
