"""Finding corner marks in a reduced photograph, by the pattern the template says is printed.

Two patterns are printed on the forms: a solid black square (our A4 copy) and KPU's 2 x 2
checkerboard (black top-left and bottom-right cells) on its plano sheets. Each finder returns
candidate centres in the reduced image; every candidate must have white paper all round it,
as a printed mark has and a blob on the table or a stroke of handwriting has not. Centres are
refined at full resolution afterwards (``refine``), each pattern by its own best feature: a
solid square by its ink's centroid, a checkerboard by its saddle point, where the four cells
meet (as a chessboard corner is found for camera calibration).
"""

from __future__ import annotations

import cv2
import numpy as np

from protocol.forms.schema import MarkPattern

# A checkerboard mark must be at least this much darker in its black cells than in its white
# ones (grey levels, mean over the cells), and each black cell darker than each white one.
CHECKER_MIN_STEP = 50
# Scales tried per pyramid level: a cell of c px answers a box filter of side 0.7c to 1.4c, so
# two sides 1.41 apart per octave cover every size.
CHECKER_SIDES = (3.6, 5.1)
# Candidates per scale given the quiet-zone test; a page has four marks, a tablecloth many.
MAX_SADDLES = 64


def candidates(
    small: np.ndarray, pattern: MarkPattern, side_range: tuple[float, float]
) -> np.ndarray:
    """Centres (small-image px) of marks of ``pattern`` whose side lies in ``side_range``."""
    if pattern == "checker":
        return checker_candidates(small, side_range)
    return square_candidates(small, side_range)


def refine(
    frame: np.ndarray, centre: np.ndarray, side_px: float, pattern: MarkPattern
) -> np.ndarray:
    """The mark's centre at full resolution, from a coarse centre and its side in px."""
    if pattern == "checker":
        return _refine_saddle(frame, centre, side_px)
    return _refine_centroid(frame, centre, side_px)


def dark_offsets(pattern: MarkPattern, side: float) -> list[tuple[float, float]]:
    """Where, relative to its centre, a mark of side ``side`` is surely black (template axes)."""
    if pattern == "checker":
        q = side / 4
        return [(-q, -q), (q, q)]
    return [(0.0, 0.0)]


# --- solid squares ---------------------------------------------------------------------------


def square_candidates(small: np.ndarray, side_range: tuple[float, float]) -> np.ndarray:
    """Centres (small-image px) of solid dark squares whose side lies in ``side_range``."""
    lo, hi = side_range
    block = int(hi * 3) | 1  # an odd window wide enough that a mark's middle is below the mean
    binary = cv2.adaptiveThreshold(
        small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 25
    )
    # RETR_LIST: a mark lies inside the page, which may itself lie inside a dark table edge.
    contours, _ = cv2.findContours(binary, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    centres = []
    for contour in contours:
        area = cv2.contourArea(contour)
        if not lo * lo * 0.8 <= area <= hi * hi * 1.2:
            continue
        _, (w, h), _ = cv2.minAreaRect(contour)
        if min(w, h) <= 0 or max(w, h) / min(w, h) > 1.4 or area / (w * h) < 0.82:
            continue  # not a solid square: handwriting, a shadow edge, a finger
        m = cv2.moments(contour)
        centre = (m["m10"] / m["m00"], m["m01"] / m["m00"])
        side = float(np.sqrt(area))
        ink = _mean(small, centre, max(1, int(side * 0.25)))
        if _has_quiet_zone(small, centre, side, ink):
            centres.append(centre)
    return np.array(centres, np.float32).reshape(-1, 2)


def _refine_centroid(frame: np.ndarray, centre: np.ndarray, side_px: float) -> np.ndarray:
    """The solid mark's centroid at full resolution, from a window around a coarse centre."""
    half = int(side_px)
    x, y = int(centre[0]), int(centre[1])
    x0, y0 = max(x - half, 0), max(y - half, 0)
    window = frame[y0 : y + half, x0 : x + half]
    if window.size == 0:
        return centre
    _, binary = cv2.threshold(window, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(binary)
    if count < 2:
        return centre
    inner = (np.array([x, y]) - (x0, y0)).astype(int)
    label = labels[min(inner[1], labels.shape[0] - 1), min(inner[0], labels.shape[1] - 1)]
    if label == 0:  # the coarse centre fell on paper: take the largest blob
        label = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return (centroids[label] + (x0, y0)).astype(np.float32)


# --- KPU's checkerboards ---------------------------------------------------------------------


def checker_candidates(small: np.ndarray, side_range: tuple[float, float]) -> np.ndarray:
    """Centres (small-image px) of 2 x 2 checkerboards whose side lies in ``side_range``.

    A box filter of a cell's size gives each cell's mean grey; at a checkerboard's centre the
    two light cells minus the two dark ones is the mark's whole contrast, and it is small
    anywhere else (an edge, a line, a filled bubble, a digit). Either diagonal may be the dark
    one: a page turned a quarter swaps them. Smaller pyramid levels take the larger sizes.
    """
    lo, hi = side_range[0] / 2, side_range[1] / 2  # cells, not marks
    found: list[tuple[float, float, float]] = []  # (x, y, strength) in small px
    level, scale = small, 1.0
    while hi * scale >= CHECKER_SIDES[0] * 0.7 and min(level.shape) > 16:
        for cell in CHECKER_SIDES:
            if lo * scale * 0.7 <= cell <= hi * scale * 1.4:
                found += [
                    (x / scale, y / scale, s) for x, y, s in _saddles(level, cell, small, scale)
                ]
        level, scale = cv2.pyrDown(level), scale / 2
    return _strongest_apart(found, lo)


def _saddles(
    level: np.ndarray, cell: float, small: np.ndarray, scale: float
) -> list[tuple[float, float, float]]:
    k = max(2, round(cell))
    mean = cv2.blur(level, (k, k), borderType=cv2.BORDER_REPLICATE)
    h = k // 2
    rows, cols = level.shape
    pad = cv2.copyMakeBorder(mean, h, h, h, h, cv2.BORDER_REPLICATE)
    tl, br = pad[:rows, :cols], pad[2 * h : 2 * h + rows, 2 * h : 2 * h + cols]
    tr, bl = pad[:rows, 2 * h : 2 * h + cols], pad[2 * h : 2 * h + rows, :cols]
    step = cv2.subtract(
        cv2.add(tr, bl, dtype=cv2.CV_16S), cv2.add(tl, br, dtype=cv2.CV_16S), dtype=cv2.CV_16S
    )
    strength = np.abs(step)
    # Local maxima over a cell's neighbourhood, strong enough, with both dark cells darker
    # than both light ones by the step: tested as arrays over the strong pixels only, so a
    # patterned tablecloth costs little more than a plain one.
    ys, xs = np.nonzero(strength >= 2 * CHECKER_MIN_STEP)
    around = cv2.dilate(strength, np.ones((2 * h + 1, 2 * h + 1), np.uint8))
    s_at = strength[ys, xs]
    a, b, c, d = (x[ys, xs].astype(np.int16) for x in (tl, br, tr, bl))
    positive = step[ys, xs] > 0
    dark_max = np.where(positive, np.maximum(a, b), np.maximum(c, d))
    light_min = np.where(positive, np.minimum(c, d), np.minimum(a, b))
    keep = (s_at == around[ys, xs]) & (dark_max + CHECKER_MIN_STEP <= light_min)
    ys, xs = ys[keep], xs[keep]
    dark = np.where(positive, (a + b) / 2, (c + d) / 2)[keep]
    if len(xs) > MAX_SADDLES:  # only the strongest are worth the quiet-zone test
        strongest = np.argsort(-strength[ys, xs])[:MAX_SADDLES]
        ys, xs, dark = ys[strongest], xs[strongest], dark[strongest]
    out = []
    for x, y, ink in zip(xs.tolist(), ys.tolist(), dark.tolist(), strict=True):
        if _has_quiet_zone(small, (x / scale, y / scale), 2 * k / scale, ink):
            out.append((float(x), float(y), float(strength[y, x])))
    return out


def _strongest_apart(found: list[tuple[float, float, float]], min_cell: float) -> np.ndarray:
    """One centre per mark: the strongest answer, others within a cell of it dropped."""
    kept: list[tuple[float, float]] = []
    radius = max(min_cell, 2.0)
    for x, y, _ in sorted(found, key=lambda f: -f[2]):
        if all(np.hypot(x - kx, y - ky) > radius for kx, ky in kept):
            kept.append((x, y))
    return np.array(kept, np.float32).reshape(-1, 2)


def _refine_saddle(frame: np.ndarray, centre: np.ndarray, side_px: float) -> np.ndarray:
    """Where the four cells meet, to a fraction of a pixel (OpenCV's chessboard corner)."""
    half = max(2, int(side_px / 4))
    x, y = float(centre[0]), float(centre[1])
    if not (half <= x < frame.shape[1] - half and half <= y < frame.shape[0] - half):
        return centre
    point = np.array([[[x, y]]], np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.01)
    refined = cv2.cornerSubPix(frame, point, (half, half), (-1, -1), criteria).reshape(2)
    if np.hypot(*(refined - (x, y))) > half:
        return centre  # wandered off to another corner: keep the coarse one
    return refined.astype(np.float32)


# --- shared ----------------------------------------------------------------------------------


def _mean(small: np.ndarray, centre: tuple[float, float], half: int) -> float:
    cx, cy = round(centre[0]), round(centre[1])
    return float(small[cy - half : cy + half + 1, cx - half : cx + half + 1].mean())


def _has_quiet_zone(
    small: np.ndarray, centre: tuple[float, float], side: float, ink: float
) -> bool:
    """A corner mark is printed with white paper all round it; a blob on the table is not."""
    cx, cy = round(centre[0]), round(centre[1])
    outer_half = int(side * 0.95) + 2
    y0, y1 = cy - outer_half, cy + outer_half + 1
    x0, x1 = cx - outer_half, cx + outer_half + 1
    if y0 < 0 or x0 < 0 or y1 > small.shape[0] or x1 > small.shape[1]:
        return False
    patch = small[y0:y1, x0:x1].astype(np.float32)
    ring = np.concatenate(
        [patch[:2].ravel(), patch[-2:].ravel(), patch[:, :2].ravel(), patch[:, -2:].ravel()]
    )
    ring.sort()
    paper = float(ring[len(ring) // 2])
    return paper - ink > 60 and float(ring[len(ring) // 10]) > ink + 0.6 * (paper - ink)
