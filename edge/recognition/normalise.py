"""Turning one digit box as the camera sees it into the digit model's input.

The same function prepares every training sample (training renders a box, then calls
``normalise``) and every box on the kit, so whatever this does, the model has learnt it.

Steps, all on a small fixed working grid so the cost does not depend on the crop's size:

1. pad a crop that is not square with its own paper, then resize it to WORK x WORK;
2. estimate the paper's brightness under each pixel (a grey closing: the brightest value
   nearby) and express ink as relative darkness, 1 - pixel / paper, which cancels uneven
   light and shadows and works for a dim or a bright photo alike;
3. stretch so the darkest strokes reach 1 (but never amplify a faint, nearly empty box into
   a strong mark) and drop the paper's noise floor;
4. erase slivers of the printed box border: a line across most of the box, near its edge;
5. like MNIST's own preparation, scale the ink so it spans about SPAN pixels and put its
   centre of mass in the middle of a SIDE x SIDE image. Marks much smaller than a digit are
   not magnified to digit size, so a stray dot stays a dot and a blank stays blank.

Output: float32 (1, SIDE, SIDE), ink = 1 on background 0 (white on black, like MNIST).
"""

from __future__ import annotations

import cv2
import numpy as np

SIDE = 28  # model input is (1, SIDE, SIDE)
WORK = 32  # working grid for the box crop
SPAN = 19.0  # target extent (px) of the ink's 1 %..99 % mass in the output
# A mark smaller than this fraction of the box is not magnified further: a digit written
# in a box is usually 50-90 % of its height; a speck or stray stroke is far smaller.
MIN_DIGIT_FRACTION = 0.42
NOISE_FLOOR = 0.10  # relative darkness of paper grain, JPEG and sensor noise
MIN_STRETCH = 0.35  # never divide darkness by less than this (faint boxes stay faint)
BORDER_BAND = 0.16  # fraction of the box, from each edge, where a border sliver may lie
BORDER_FILL = 0.75  # a row or column this full of ink in that band is a printed line
LINE_INK = 0.25  # a thin printed line blurs to faint ink: count it as ink from this level
EMPTY_MASS = 2.0  # total ink (in full-ink pixels) below which the box is empty

_PAPER_KERNEL = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))


def normalise(box: np.ndarray) -> np.ndarray:
    """The model input (1, SIDE, SIDE) float32 for one grey uint8 box crop (dark on light)."""
    ink = _relative_ink(_to_work(box))
    _erase_border_slivers(ink)
    return _centre_and_scale(ink)[None]


def normalise_batch(boxes: list[np.ndarray]) -> np.ndarray:
    """Normalise every box: (N, 1, SIDE, SIDE) float32, ready for one model call."""
    out = np.zeros((len(boxes), 1, SIDE, SIDE), dtype=np.float32)
    for i, box in enumerate(boxes):
        out[i] = normalise(box)
    return out


def _to_work(box: np.ndarray) -> np.ndarray:
    if box.ndim == 3:  # tolerate a colour crop; the kit's pipeline is grey
        box = cv2.cvtColor(box, cv2.COLOR_BGR2GRAY)
    if box.ndim != 2 or min(box.shape) < 4:
        raise ValueError(f"expected a grey box crop, got shape {box.shape}")
    box = _squared(box)
    shrinking = box.shape[0] > WORK or box.shape[1] > WORK
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(box, (WORK, WORK), interpolation=interpolation).astype(np.float32)


MIN_ASPECT = 0.75  # a narrower box is stretched to this before it is padded square


def _squared(box: np.ndarray) -> np.ndarray:
    """A box that is not square (the A4 copy's tall vote boxes) made square by padding it with
    its own paper, after stretching it to no narrower than MIN_ASPECT.

    Squeezed into a square, a digit in a box twice as tall as wide turns fat (a 1 reads as a
    6); padded alone, the X drawn corner to corner in it turns into a stroke like a 1. The
    compromise keeps both within the shapes the model learnt from square boxes.
    """
    rows, cols = box.shape
    if rows == cols:
        return box
    if min(rows, cols) < MIN_ASPECT * max(rows, cols):
        target = round(MIN_ASPECT * max(rows, cols))
        size = (target, rows) if cols < rows else (cols, target)
        box = cv2.resize(box, size, interpolation=cv2.INTER_LINEAR)
        rows, cols = box.shape
    paper = int(np.percentile(box, 90))
    extra_rows, extra_cols = max(cols - rows, 0), max(rows - cols, 0)
    return cv2.copyMakeBorder(
        box,
        extra_rows // 2,
        extra_rows - extra_rows // 2,
        extra_cols // 2,
        extra_cols - extra_cols // 2,
        cv2.BORDER_CONSTANT,
        value=paper,
    )


def _relative_ink(grey: np.ndarray) -> np.ndarray:
    # A light blur first: sensor noise would otherwise bias the paper estimate (a maximum)
    # upwards and leave speckles above the noise floor in a dim photo.
    grey = cv2.GaussianBlur(grey, (0, 0), 0.7)
    # Closing with a kernel wider than a pen stroke gives the paper under the stroke.
    paper = cv2.dilate(grey, _PAPER_KERNEL, borderType=cv2.BORDER_REPLICATE)
    paper = cv2.GaussianBlur(paper, (0, 0), 2.0)
    ink = 1.0 - grey / np.maximum(paper, 8.0)
    # The 98th percentile of darkness: the strokes' own darkness in a written box.
    k = ink.size - ink.size // 50
    level = max(float(np.partition(ink.ravel(), k)[k]), MIN_STRETCH)
    ink = (ink - NOISE_FLOOR) / (level - NOISE_FLOOR)
    return np.clip(ink, 0.0, 1.0, out=ink)


def _erase_border_slivers(ink: np.ndarray) -> None:
    """Blank everything from an edge up to a printed line found near that edge (in place)."""
    band = max(2, round(BORDER_BAND * WORK))
    mask = ink > LINE_INK
    # A printed line runs the whole length of the box. Look through pairs of neighbouring
    # rows (columns) so that a line tilted by a pixel still counts as full.
    rows = (mask[:-1] | mask[1:]).mean(axis=1)  # rows[r]: rows r and r + 1
    cols = (mask[:, :-1] | mask[:, 1:]).mean(axis=0)
    top, bottom = _deepest_line(rows[:band]), _deepest_line(rows[::-1][:band])
    left, right = _deepest_line(cols[:band]), _deepest_line(cols[::-1][:band])
    if top >= 0:
        ink[: top + 2] = 0.0
    if bottom >= 0:
        ink[WORK - 2 - bottom :] = 0.0
    if left >= 0:
        ink[:, : left + 2] = 0.0
    if right >= 0:
        ink[:, WORK - 2 - right :] = 0.0


def _deepest_line(fill: np.ndarray) -> int:
    """Index (from the edge) of the innermost full line in this band; -1 if there is none."""
    hits = np.flatnonzero(fill > BORDER_FILL)
    if hits.size == 0:
        return -1
    deepest = int(hits[-1])
    # The blurred edge of the printed line is a weaker row just inside it.
    if deepest + 1 < fill.size and fill[deepest + 1] > 0.3:
        deepest += 1
    return deepest


def _centre_and_scale(ink: np.ndarray) -> np.ndarray:
    total = float(ink.sum())
    if total < EMPTY_MASS:
        return np.zeros((SIDE, SIDE), dtype=np.float32)
    rows, cols = ink.sum(axis=1), ink.sum(axis=0)
    extent = max(_mass_extent(rows, total), _mass_extent(cols, total), 1.0)
    scale = min(SPAN / extent, SPAN / (MIN_DIGIT_FRACTION * WORK))
    idx = np.arange(WORK, dtype=np.float32)
    cy, cx = float(rows @ idx) / total, float(cols @ idx) / total
    centre = (SIDE - 1) / 2.0
    m = np.array([[scale, 0.0, centre - scale * cx], [0.0, scale, centre - scale * cy]])
    return cv2.warpAffine(
        ink, m, (SIDE, SIDE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )


def _mass_extent(profile: np.ndarray, total: float) -> float:
    """Distance between the 1 % and 99 % points of the ink along one axis (robust to specks)."""
    cum = np.cumsum(profile)
    lo = int(np.searchsorted(cum, 0.01 * total))
    hi = int(np.searchsorted(cum, 0.99 * total))
    return float(hi - lo + 1)
