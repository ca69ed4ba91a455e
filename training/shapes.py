"""Digit shapes as Indonesians write them, added to MNIST's American writing.

MNIST's writers rarely cross a 7 or give a 1 its long flag; at a polling station most do, and
a flagged 1 must not read as 7 nor a crossed 7 as anything else. The strokes are drawn at four
times the glyph's size with the pen width measured from the digit itself, then reduced.
"""

from __future__ import annotations

import cv2
import numpy as np

_SCALE = 4
SHARE = 0.35  # of the 1's and 7's, each epoch


def local(glyph: np.ndarray, label: int, rng: np.random.Generator) -> np.ndarray:
    """``glyph`` (28x28 float ink) with a local stroke added to some 1's and 7's."""
    if label not in (1, 7) or rng.random() >= SHARE:
        return glyph
    box = _ink_box(glyph)
    if box is None:
        return glyph
    return crossed_seven(glyph, box, rng) if label == 7 else flagged_one(glyph, box, rng)


def crossed_seven(
    glyph: np.ndarray, box: tuple[int, int, int, int], rng: np.random.Generator
) -> np.ndarray:
    """A short bar across the 7's stem, a little below half its height."""
    top, bottom, left, right = box
    y = top + (bottom - top) * rng.uniform(0.45, 0.62)
    row = glyph[round(y)]
    stem = float(np.average(np.arange(row.size), weights=row)) if row.sum() > 0.3 else None
    if stem is None:
        return glyph
    half = (right - left) * rng.uniform(0.22, 0.38)
    tilt = rng.normal(0, 0.8)
    return _stroke(glyph, (stem - half, y + tilt), (stem + half * rng.uniform(0.7, 1.1), y - tilt))


def flagged_one(
    glyph: np.ndarray, box: tuple[int, int, int, int], rng: np.random.Generator
) -> np.ndarray:
    """The long up-stroke that starts a 1, from the left down to the stem's top."""
    top, bottom, left, right = box
    height = bottom - top
    if right - left > 0.45 * height:  # already flagged or slanted: leave it
        return glyph
    row = glyph[top]
    x = float(np.average(np.arange(row.size), weights=row)) if row.sum() > 0 else (left + right) / 2
    start = (x - height * rng.uniform(0.18, 0.35), top + height * rng.uniform(0.15, 0.32))
    return _stroke(glyph, start, (x, float(top)))


def _ink_box(glyph: np.ndarray) -> tuple[int, int, int, int] | None:
    rows, cols = np.nonzero(glyph > 0.3)
    if rows.size < 8:
        return None
    return int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())


def _pen(glyph: np.ndarray) -> int:
    """The digit's stroke width at the drawing scale, from the ink's distance transform."""
    dist = cv2.distanceTransform((glyph > 0.5).astype(np.uint8), cv2.DIST_L2, 3)
    inside = dist[dist > 0]
    width = 2 * float(np.percentile(inside, 90)) if inside.size else 2.0
    return max(2, round(width * _SCALE))


def _stroke(glyph: np.ndarray, start: tuple[float, float], end: tuple[float, float]) -> np.ndarray:
    side = glyph.shape[0] * _SCALE
    canvas = np.zeros((side, side), np.uint8)
    points = [(round(x * _SCALE), round(y * _SCALE)) for x, y in (start, end)]
    cv2.line(canvas, points[0], points[1], 255, _pen(glyph), cv2.LINE_AA)
    small = cv2.resize(canvas, glyph.shape[::-1], interpolation=cv2.INTER_AREA) / 255.0
    return np.maximum(glyph, small.astype(np.float32))
