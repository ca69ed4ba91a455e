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
    tag_id: int
    corners: np.ndarray  # (4, 2) float32 in frame pixels, ArUco order (TL, TR, BR, BL)


def tag_detector() -> cv2.aruco.ArucoDetector:
    """An AprilTag 36h11 detector (the family of the real form's page tags 101/102/103)."""
    params = cv2.aruco.DetectorParameters()
    params.adaptiveThreshWinSizeMin = 5
    params.adaptiveThreshWinSizeMax = 25
    params.adaptiveThreshWinSizeStep = 10
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_APRILTAG_36h11)
    return cv2.aruco.ArucoDetector(dictionary, params)


def find_tags(
    detector: cv2.aruco.ArucoDetector,
    image: np.ndarray,
    wanted: Iterable[int],
    *,
    scale: float = 1.0,
    offset: tuple[int, int] = (0, 0),
) -> list[FoundTag]:
    """Tags of the wanted ids in ``image`` (a reduced frame or a crop of it).

    Corners are returned in full-frame pixels: divided by ``scale``, shifted by ``offset``.
    """
    corners, ids, _ = detector.detectMarkers(image)
    if ids is None:
        return []
    wanted = set(wanted)
    return [
        FoundTag(int(tag_id), (quad.reshape(4, 2) / scale + offset).astype(np.float32))
        for quad, tag_id in zip(corners, ids.ravel(), strict=True)
        if int(tag_id) in wanted
    ]


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
        centres.append((m["m10"] / m["m00"], m["m01"] / m["m00"]))
    return np.array(centres, np.float32).reshape(-1, 2)


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
