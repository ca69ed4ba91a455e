"""Finding the corner marks and the page tag in a photograph.

Fast path: the four corner marks are the outermost solid squares in a quarter-size image;
the page tag is then decoded only in a small window where the marks say it must be (one of
four orientations). Slow path, only when that fails: the tag is searched in the whole
reduced image, and its corners predict where each mark should be, so a covered mark is named
("corner mark 3") instead of being confused with some other dark blob.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from edge.align.geometry import Square


@dataclass(frozen=True)
class FoundTag:
    dictionary: str  # OpenCV's dictionary name, e.g. DICT_APRILTAG_36h10
    tag_id: int
    corners: np.ndarray  # (4, 2) float32 in frame pixels, in the detector's corner order

    @property
    def key(self) -> tuple[str, int]:
        return (self.dictionary, self.tag_id)


class TagFinder:
    """Detects the page tags of known templates, and only those.

    Each detector holds a dictionary cut down to the ids our templates use: OpenCV compares
    every candidate quad with every code of its dictionary, and the full 36h10 family has
    2,320 codes, which made one small window cost tens of milliseconds.
    """

    def __init__(self, keys: Iterable[tuple[str, int]]) -> None:
        by_family: dict[str, list[int]] = {}
        for family, tag_id in keys:
            by_family.setdefault(family, []).append(tag_id)
        self._detectors = {}
        for family, ids in by_family.items():
            ids = sorted(set(ids))
            full = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, family))
            subset = cv2.aruco.Dictionary(
                full.bytesList[ids], full.markerSize, full.maxCorrectionBits
            )
            self._detectors[family] = (cv2.aruco.ArucoDetector(subset, _parameters()), ids)

    def find(
        self,
        image: np.ndarray,
        wanted: Iterable[tuple[str, int]],
        *,
        scale: float = 1.0,
        offset: tuple[int, int] = (0, 0),
    ) -> list[FoundTag]:
        """Tags of the wanted (family, id) in ``image`` (a reduced frame or a crop of it).

        Corners are returned in full-frame pixels: divided by ``scale``, shifted by ``offset``.
        """
        wanted = set(wanted)
        found = []
        for family in sorted({f for f, _ in wanted}):
            detector, ids = self._detectors[family]
            corners, indices, _ = detector.detectMarkers(image)
            if indices is None:
                continue
            for quad, index in zip(corners, indices.ravel(), strict=True):
                key = (family, ids[int(index)])
                if key in wanted:
                    shifted = (quad.reshape(4, 2) / scale + offset).astype(np.float32)
                    found.append(FoundTag(family, key[1], shifted))
        return found


def _parameters() -> cv2.aruco.DetectorParameters:
    params = cv2.aruco.DetectorParameters()
    params.adaptiveThreshWinSizeMin = 5
    params.adaptiveThreshWinSizeMax = 25
    params.adaptiveThreshWinSizeStep = 10
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    return params


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
        if _has_quiet_zone(small, centre, float(np.sqrt(area))):
            centres.append(centre)
    return np.array(centres, np.float32).reshape(-1, 2)


def _has_quiet_zone(small: np.ndarray, centre: tuple[float, float], side: float) -> bool:
    """A corner mark is printed with white paper all round it; a blob on the table is not."""
    cx, cy = round(centre[0]), round(centre[1])
    inner_half, outer_half = max(1, int(side * 0.25)), int(side * 0.95) + 2
    y0, y1 = cy - outer_half, cy + outer_half + 1
    x0, x1 = cx - outer_half, cx + outer_half + 1
    if y0 < 0 or x0 < 0 or y1 > small.shape[0] or x1 > small.shape[1]:
        return False
    patch = small[y0:y1, x0:x1].astype(np.float32)
    ring = np.concatenate(
        [patch[:2].ravel(), patch[-2:].ravel(), patch[:, :2].ravel(), patch[:, -2:].ravel()]
    )
    inner = small[cy - inner_half : cy + inner_half + 1, cx - inner_half : cx + inner_half + 1]
    ring.sort()
    paper, ink = float(ring[len(ring) // 2]), float(inner.mean())
    return paper - ink > 60 and float(ring[len(ring) // 10]) > ink + 0.6 * (paper - ink)


def outer_quad(points: np.ndarray) -> np.ndarray | None:
    """The four candidates outermost along the diagonals, clockwise from top-left, or None."""
    if len(points) < 4:
        return None
    s, d = points.sum(axis=1), points[:, 0] - points[:, 1]
    picks = [int(np.argmin(s)), int(np.argmax(d)), int(np.argmax(s)), int(np.argmin(d))]
    if len(set(picks)) < 4:
        return None
    return points[picks]


def nearest(points: np.ndarray, target: np.ndarray, radius: float) -> np.ndarray | None:
    if len(points) == 0:
        return None
    distances = np.hypot(*(points - target).T)
    best = int(np.argmin(distances))
    return points[best] if distances[best] <= radius else None


def refine_centre(frame: np.ndarray, centre: np.ndarray, side_px: float) -> np.ndarray:
    """The mark's centroid at full resolution, from a window around a coarse centre."""
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


def mm_points(squares: Iterable[Square]) -> np.ndarray:
    return np.array([(s.cx, s.cy) for s in squares], dtype=np.float32)
