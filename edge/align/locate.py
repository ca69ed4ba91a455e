"""Finding the page tag in a photograph, and picking corner marks among candidates.

Fast path: the four corner marks are the outermost mark candidates (edge.align.marks) in a
quarter-size image; the page tag is then decoded only in a small window where the marks say it
must be (one of four orientations). Slow path, only when that fails: the tag is searched in
the whole reduced image, and its corners predict where each mark should be, so a covered mark
is named ("corner mark top left") instead of being confused with some other dark blob.
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


def mm_points(squares: Iterable[Square]) -> np.ndarray:
    return np.array([(s.cx, s.cy) for s in squares], dtype=np.float32)
