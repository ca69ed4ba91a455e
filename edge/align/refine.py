"""Local refinement: where the printed boxes really are on a sheet that does not lie flat.

A plano sheet arrives folded and curls: one homography from the corner marks and the tag
places a box some millimetres from where it lies. The printed box borders and bubble rings
around what is read are far better anchors than four marks: each anchor's printed shapes are
drawn as the template says, the photograph is rectified around it, and the shift that best
lines the two up (normalised cross-correlation) is where that anchor really is. The reader then
samples each box and bubble moved by its own anchor's shift.

Nothing is guessed: an anchor whose print cannot be found clearly, or that sits further off
than the search reaches, is reported as such and the page refused by the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

WORK_PX_PER_MM = 3.0  # the boxes' 1 mm borders are 3 px: enough to place them to 0.2 mm


@dataclass(frozen=True)
class Outline:
    """A printed rectangle's border (mm, template axes)."""

    x: float
    y: float
    w: float
    h: float
    stroke: float


@dataclass(frozen=True)
class Ring:
    """A printed circle (a bubble), mm."""

    cx: float
    cy: float
    r: float
    stroke: float


Shape = Outline | Ring


@dataclass(frozen=True)
class Anchor:
    """Printed shapes that move together: a field's boxes, or a group of its bubbles."""

    name: str
    shapes: tuple[Shape, ...]


def box_anchor(
    name: str, boxes: Sequence[tuple[float, float, float, float]], stroke: float
) -> Anchor:
    """A row of digit boxes (x, y, w, h in mm) printed with borders ``stroke`` mm wide."""
    # A hairline border blurs away in the photo; match at least a line the camera resolves.
    return Anchor(name, tuple(Outline(x, y, w, h, max(stroke, 0.3)) for x, y, w, h in boxes))


@dataclass(frozen=True)
class Shift:
    """Where an anchor was found relative to where the homography put it (mm), and how
    clearly (correlation of print and photograph, 1 = identical)."""

    dx: float
    dy: float
    score: float
    beyond: float = 0.0  # the score at the search's edge, where the best place was cut off

    @property
    def distance(self) -> float:
        return float(np.hypot(self.dx, self.dy))


def find_shifts(
    frame: np.ndarray, homography: np.ndarray, anchors: Sequence[Anchor], reach_mm: float
) -> list[Shift]:
    """Each anchor's shift, searched within ``reach_mm`` of where ``homography`` (template mm
    to frame px) puts it. Keep the reach under half the distance at which the print repeats
    (the next box, the next row of boxes, the next bubble): further, a neighbour's print
    matches as well as the anchor's own."""
    return [_find(frame, homography, anchor, reach_mm) for anchor in anchors]


def anchor_centre(anchor: Anchor) -> tuple[float, float]:
    """The middle of an anchor's print, mm."""
    x0, y0, x1, y1 = _bounds(anchor.shapes)
    return ((x0 + x1) / 2, (y0 + y1) / 2)


def _bounds(shapes: Sequence[Shape]) -> tuple[float, float, float, float]:
    xs0, ys0, xs1, ys1 = [], [], [], []
    for s in shapes:
        if isinstance(s, Outline):
            pad = s.stroke
            xs0.append(s.x - pad)
            ys0.append(s.y - pad)
            xs1.append(s.x + s.w + pad)
            ys1.append(s.y + s.h + pad)
        else:
            pad = s.r + s.stroke
            xs0.append(s.cx - pad)
            ys0.append(s.cy - pad)
            xs1.append(s.cx + pad)
            ys1.append(s.cy + pad)
    return min(xs0), min(ys0), max(xs1), max(ys1)


def _find(frame: np.ndarray, homography: np.ndarray, anchor: Anchor, reach: float) -> Shift:
    k = WORK_PX_PER_MM
    x0, y0, x1, y1 = _bounds(anchor.shapes)
    print_ = _draw(anchor.shapes, x0, y0, x1, y1, k)
    view = _rectify(frame, homography, x0 - reach, y0 - reach, x1 + reach, y1 + reach, k)
    if view.shape[0] < print_.shape[0] or view.shape[1] < print_.shape[1]:
        return Shift(0.0, 0.0, 0.0)
    scores = cv2.matchTemplate(view, print_, cv2.TM_CCOEFF_NORMED)
    _, best, _, (bx, by) = cv2.minMaxLoc(scores)
    if bx in (0, scores.shape[1] - 1) or by in (0, scores.shape[0] - 1):
        # The best place is at the search's edge: the print lies further off than the reach
        # (or that is some other print's edge); either way it was not found within reach.
        return Shift(bx / k - reach, by / k - reach, 0.0, beyond=float(best))
    fx, fy = _subpixel(scores, bx, by)
    return Shift(fx / k - reach, fy / k - reach, float(best))


def _draw(
    shapes: Sequence[Shape], x0: float, y0: float, x1: float, y1: float, k: float
) -> np.ndarray:
    """The anchor's print at ``k`` px/mm: dark lines on white, as float32 for matching."""
    size = (round((y1 - y0) * k), round((x1 - x0) * k))
    image = np.full(size, 255, np.uint8)
    shift = 4  # OpenCV fixed-point bits, for sub-pixel placement
    one = 1 << shift
    for s in shapes:
        thick = max(1, round(s.stroke * k))
        if isinstance(s, Outline):
            corners = np.array(
                [[s.x, s.y], [s.x + s.w, s.y], [s.x + s.w, s.y + s.h], [s.x, s.y + s.h]]
            )
            pts = np.round((corners - (x0, y0)) * k * one).astype(np.int32)
            cv2.polylines(image, [pts], True, 0, thick, cv2.LINE_AA, shift)
        else:
            centre = (round((s.cx - x0) * k * one), round((s.cy - y0) * k * one))
            cv2.circle(image, centre, round(s.r * k * one), 0, thick, cv2.LINE_AA, shift)
    return image.astype(np.float32)


def _rectify(
    frame: np.ndarray, homography: np.ndarray, x0: float, y0: float, x1: float, y1: float, k: float
) -> np.ndarray:
    """The frame around a region of the page, resampled to ``k`` px/mm in template axes."""
    to_mm = np.array([[1 / k, 0, x0], [0, 1 / k, y0], [0, 0, 1]])
    size = (round((x1 - x0) * k), round((y1 - y0) * k))
    view = cv2.warpPerspective(
        frame,
        homography @ to_mm,
        size,
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderValue=255,
    )
    return view.astype(np.float32)


def _subpixel(scores: np.ndarray, x: int, y: int) -> tuple[float, float]:
    """The peak to a fraction of a pixel: a parabola through it and its two neighbours."""

    def offset(a: float, b: float, c: float) -> float:
        denominator = a - 2 * b + c
        return 0.0 if denominator >= 0 else 0.5 * (a - c) / denominator

    fx, fy = float(x), float(y)
    if 0 < x < scores.shape[1] - 1:
        fx += offset(scores[y, x - 1], scores[y, x], scores[y, x + 1])
    if 0 < y < scores.shape[0] - 1:
        fy += offset(scores[y - 1, x], scores[y, x], scores[y + 1, x])
    return fx, fy
