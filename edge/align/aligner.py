"""Aligning a photographed page to its template, or refusing it with a reason.

Thresholds are explicit and refuse rather than guess: a page the kit cannot align with
certainty is never read. See AlignConfig for each limit and why it is where it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from edge.align.geometry import PageGeometry
from edge.align.locate import (
    FoundTag,
    TagFinder,
    mm_points,
    nearest,
    outer_quad,
    refine_centre,
    square_candidates,
)
from edge.errors import MarkMissingError, PoorImageError, TagNotFoundError


@dataclass(frozen=True)
class AlignConfig:
    detect_long_side: int = 1100
    """The frame is halved until its long side is at most this before marks are searched:
    a 12 MP frame is searched at a quarter size, where a 15 mm mark is still ~13 px."""
    px_per_mm: tuple[float, float] = (2.0, 14.0)
    """Plausible camera scales at full resolution (the plano at 12 MP is about 3.4 px/mm;
    the A4 salinan on a small stand more): marks outside this size are not marks."""
    max_reprojection_mm: float = 1.5
    """Marks and tag must agree on one plane within this: more means a folded or curled page,
    where the boxes between the marks would be cut in the wrong place."""
    max_keystone: float = 0.15
    """Opposite page edges may differ in length by this fraction; more is a tilted page."""
    min_paper_level: int = 70
    """The paper's grey level (90th percentile) below this is too dark to read."""
    min_contrast: int = 50
    """Paper minus the corner marks' black, below this the ink is washed out."""
    min_sharpness: float = 0.12
    """Steepest edges of the marks relative to their contrast (per px): below this the
    picture is too blurred for the digits."""


@dataclass(frozen=True)
class AlignedPage:
    geometry: PageGeometry
    homography: np.ndarray  # 3x3, template mm -> frame px
    px_per_mm: float
    reprojection_mm: float
    paper_level: float
    contrast: float
    sharpness: float

    def to_frame(self, points_mm: np.ndarray) -> np.ndarray:
        pts = np.asarray(points_mm, np.float32).reshape(-1, 1, 2)
        return cv2.perspectiveTransform(pts, self.homography).reshape(-1, 2)


class Aligner:
    """Aligns frames to any of the given template pages (matched by their tag ids)."""

    def __init__(self, pages: Iterable[PageGeometry], config: AlignConfig | None = None) -> None:
        self.pages = {p.tag_key: p for p in pages}
        self.config = config or AlignConfig()
        self._tags = TagFinder(self.pages)
        layouts: dict[tuple, list[PageGeometry]] = {}
        for page in self.pages.values():
            layouts.setdefault(tuple(page.marks), []).append(page)
        self._layouts = list(layouts.values())

    def align(self, frame: np.ndarray) -> AlignedPage:
        if frame.ndim != 2:
            raise ValueError("align() takes a grey image")
        small, scale = _reduce(frame, self.config.detect_long_side)
        self._check_light(small)
        candidates = square_candidates(small, self._side_range(scale)) / scale
        quad = outer_quad(candidates)
        found = self._by_marks(frame, quad) if quad is not None else None
        fitted = self._fit(frame, *found) if found is not None else None
        if fitted is None or fitted[0] > self.config.max_reprojection_mm:
            # An outer blob stood in for a covered mark, or another page is in view: find
            # the tag on its own and look for each mark where it should be, naming a missing one.
            fitted = self._fit(frame, *self._by_tag(small, scale, candidates))
        reprojection, page = fitted
        return self._judge(frame, page, reprojection)

    def _check_light(self, small: np.ndarray) -> None:
        """Refuse a dark frame before looking for marks, so the message names the light."""
        paper = float(np.percentile(small[::4, ::4], 90))
        if paper < self.config.min_paper_level:
            raise PoorImageError(
                f"too dark to read (paper at grey level {paper:.0f}): turn on the lamp",
                "Terlalu gelap: nyalakan lampu atau pindahkan ke tempat terang",
            )

    def _fit(
        self, frame: np.ndarray, geometry: PageGeometry, tag: np.ndarray, marks: np.ndarray
    ) -> tuple[float, AlignedPage]:
        """The homography from tag corners and refined mark centres, and its worst error (mm)."""
        tag_px_per_mm = float(np.hypot(*(tag[1] - tag[0]))) / geometry.tag_side
        marks = np.array(
            [
                refine_centre(frame, c, m.side * tag_px_per_mm * 1.3)
                for c, m in zip(marks, geometry.marks, strict=True)
            ],
            np.float32,
        )
        src = np.vstack([mm_points_tag(geometry), mm_points(geometry.marks)])
        dst = np.vstack([tag, marks])
        homography, _ = cv2.findHomography(src, dst, 0)
        if homography is None:
            raise PoorImageError("the marks do not form a page: lay the page flat")
        back = cv2.perspectiveTransform(dst.reshape(-1, 1, 2), np.linalg.inv(homography))
        reprojection = float(np.max(np.hypot(*(back.reshape(-1, 2) - src).T)))
        page = AlignedPage(geometry, homography, _px_per_mm(homography, geometry), 0, 0, 0, 0)
        return reprojection, page

    def _side_range(self, scale: float) -> tuple[float, float]:
        sides = [m.side for p in self.pages.values() for m in p.marks]
        lo, hi = self.config.px_per_mm
        return min(sides) * lo * scale, max(sides) * hi * scale

    def _by_marks(
        self, frame: np.ndarray, quad: np.ndarray
    ) -> tuple[PageGeometry, np.ndarray, np.ndarray] | None:
        """Try the orientations of the outer marks; the tag where they predict it decides."""
        for pages in self._layouts:
            marks_mm = mm_points(pages[0].marks)
            for turn in range(4):
                ordered = np.roll(quad, -turn, axis=0)
                rough = cv2.getPerspectiveTransform(marks_mm, ordered)
                if not self._plausible(rough, pages[0]):
                    continue
                tag = self._tag_near(frame, rough, pages)
                if tag is not None:
                    return self.pages[tag.key], tag.corners, ordered
        return None

    def _plausible(self, rough: np.ndarray, page: PageGeometry) -> bool:
        """Scale within the camera's range and about the same along both page axes.

        A quarter-turned guess maps the page's width onto its height: for any page that is
        not square its two axis scales then differ, and the guess is dropped untried.
        """
        lo, hi = self.config.px_per_mm
        if not lo <= _px_per_mm(rough, page) <= hi:
            return False
        origin, along_x, along_y = cv2.perspectiveTransform(
            np.float32([[[0, 0]], [[page.width_mm, 0]], [[0, page.height_mm]]]), rough
        ).reshape(-1, 2)
        sx = np.hypot(*(along_x - origin)) / page.width_mm
        sy = np.hypot(*(along_y - origin)) / page.height_mm
        return max(sx, sy) / min(sx, sy) < 1.5

    def _tag_near(
        self, frame: np.ndarray, rough: np.ndarray, pages: list[PageGeometry]
    ) -> FoundTag | None:
        """Decode a tag where ``rough`` puts the pages' tags (one try per place and family)."""
        places: dict[tuple, list[PageGeometry]] = {}
        for page in pages:
            places.setdefault((page.tag_corners, page.tag_dictionary), []).append(page)
        for same_place in places.values():
            tag = self._decode_tag_at(frame, rough, same_place)
            if tag is not None:
                return tag
        return None

    def _decode_tag_at(
        self, frame: np.ndarray, rough: np.ndarray, pages: list[PageGeometry]
    ) -> FoundTag | None:
        corners = cv2.perspectiveTransform(mm_points_tag(pages[0]).reshape(-1, 1, 2), rough)
        corners = corners.reshape(-1, 2)
        centre = corners.mean(axis=0)
        side = float(np.max(np.hypot(*(corners - np.roll(corners, 1, axis=0)).T)))
        if not 8 <= side <= 2000:
            return None
        half = int(side * 1.2)
        x0, y0 = max(int(centre[0]) - half, 0), max(int(centre[1]) - half, 0)
        window = frame[y0 : int(centre[1]) + half, x0 : int(centre[0]) + half]
        if window.size == 0:
            return None
        zoom = min(1.0, 64.0 / side)  # ~8 px per tag cell is enough to decode
        if zoom < 1.0:
            window = cv2.resize(window, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_AREA)
        wanted = [p.tag_key for p in pages]
        tags = self._tags.find(window, wanted, scale=zoom, offset=(x0, y0))
        return tags[0] if len(tags) == 1 else None

    def _by_tag(
        self, small: np.ndarray, scale: float, candidates: np.ndarray
    ) -> tuple[PageGeometry, np.ndarray, np.ndarray]:
        """The slow path: the tag anywhere in view, then each mark where the tag predicts it."""
        tags = self._tags.find(small, self.pages, scale=scale)
        if not tags:
            raise TagNotFoundError(
                "no page tag found: lay the whole page under the camera, tag uncovered",
                "Kode halaman tidak terlihat: letakkan seluruh halaman di bawah kamera",
            )
        if len(tags) > 1:
            raise TagNotFoundError(
                "more than one page in view: scan one page at a time",
                "Ada lebih dari satu halaman: pindai satu halaman saja",
            )
        geometry, tag = self.pages[tags[0].key], tags[0].corners
        return geometry, tag, _marks_from_tag(geometry, tag, candidates)

    def _judge(self, frame: np.ndarray, page: AlignedPage, reprojection: float) -> AlignedPage:
        c = self.config
        if reprojection > c.max_reprojection_mm:
            raise PoorImageError(
                f"the page is not flat (marks off by {reprojection:.1f} mm): smooth it out",
                "Kertas tidak rata: ratakan kertas lalu pindai lagi",
            )
        keystone = _keystone(page)
        if keystone > c.max_keystone:
            raise PoorImageError(
                f"the page is too skewed ({keystone:.0%}): lay it flat under the camera",
                "Kertas terlalu miring: letakkan rata di bawah kamera",
            )
        paper, ink = _levels(frame, page)
        if paper < c.min_paper_level or paper - ink < c.min_contrast:
            raise PoorImageError(
                f"too dark to read (paper {paper:.0f}, marks {ink:.0f}): turn on the lamp",
                "Terlalu gelap: nyalakan lampu atau pindahkan ke tempat terang",
            )
        sharpness = _sharpness(frame, page, paper - ink)
        if sharpness < c.min_sharpness:
            raise PoorImageError(
                f"too blurred to read (sharpness {sharpness:.2f}): hold still, check the lens",
                "Gambar kabur: jangan goyangkan meja, bersihkan lensa, pindai lagi",
            )
        return AlignedPage(
            page.geometry,
            page.homography,
            page.px_per_mm,
            reprojection,
            paper,
            paper - ink,
            sharpness,
        )


def _marks_from_tag(geometry: PageGeometry, tag: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Each mark among the candidates, nearest first, each prediction using the marks found.

    A tag is small: its own perspective extrapolated across the page is unreliable, so the
    search starts affine and tightens as marks are found. A mark not found within 6 % of the
    page's size of where it must be is missing, and named.
    """
    src = [tuple(p) for p in mm_points_tag(geometry)]
    dst = [tuple(p) for p in tag]
    marks_mm = mm_points(geometry.marks)
    tag_centre = mm_points_tag(geometry).mean(axis=0)
    order = np.argsort(np.hypot(*(marks_mm - tag_centre).T))
    found: dict[int, np.ndarray] = {}
    for index in order:
        model, _ = cv2.estimateAffine2D(np.float32(src), np.float32(dst))
        if len(src) >= 6:
            model = cv2.findHomography(np.float32(src), np.float32(dst), 0)[0]
        predicted = _apply(model, marks_mm[index])
        scale = float(np.sqrt(abs(np.linalg.det(model[:2, :2]))))
        radius = 0.06 * float(np.hypot(geometry.width_mm, geometry.height_mm)) * scale
        mark = nearest(candidates, predicted, radius)
        if mark is None:
            raise MarkMissingError(int(index) + 1)
        found[int(index)] = mark
        src.append(tuple(marks_mm[index]))
        dst.append(tuple(mark))
    return np.array([found[i] for i in range(4)], np.float32)


def _apply(model: np.ndarray, point: np.ndarray) -> np.ndarray:
    if model.shape == (2, 3):
        return model[:, :2] @ point + model[:, 2]
    x, y, w = model @ np.array([point[0], point[1], 1.0])
    return np.array([x / w, y / w])


def _reduce(frame: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    """Halve with pyrDown (cheap and alias-free) until the long side fits."""
    small, scale = frame, 1.0
    while max(small.shape) > long_side:
        small = cv2.pyrDown(small)
        scale /= 2
    return small, scale


def mm_points_tag(geometry: PageGeometry) -> np.ndarray:
    return np.array(geometry.tag_corners, np.float32)


def _px_per_mm(homography: np.ndarray, geometry: PageGeometry) -> float:
    """Mean scale across the page, from the mapped length of its diagonals."""
    w, h = geometry.width_mm, geometry.height_mm
    corners = np.float32([[0, 0], [w, h], [w, 0], [0, h]]).reshape(-1, 1, 2)
    mapped = cv2.perspectiveTransform(corners, homography).reshape(-1, 2)
    diagonal = np.hypot(w, h)
    d1 = np.hypot(*(mapped[1] - mapped[0]))
    d2 = np.hypot(*(mapped[3] - mapped[2]))
    return float((d1 + d2) / 2 / diagonal)


def _keystone(page: AlignedPage) -> float:
    g = page.geometry
    c = page.to_frame(
        np.float32([[0, 0], [g.width_mm, 0], [g.width_mm, g.height_mm], [0, g.height_mm]])
    )
    edges = [np.hypot(*(c[(i + 1) % 4] - c[i])) for i in range(4)]
    return float(
        max(edges[0] / edges[2], edges[2] / edges[0], edges[1] / edges[3], edges[3] / edges[1]) - 1
    )


def _levels(frame: np.ndarray, page: AlignedPage) -> tuple[float, float]:
    """(paper, ink): the page's bright level and the corner marks' dark level."""
    g = page.geometry
    xs, ys = np.meshgrid(
        np.linspace(0.05, 0.95, 24) * g.width_mm, np.linspace(0.05, 0.95, 24) * g.height_mm
    )
    samples = _grey_at(frame, page.to_frame(np.stack([xs.ravel(), ys.ravel()], 1)))
    centres = page.to_frame(mm_points(g.marks))
    return float(np.percentile(samples, 90)), float(np.median(_grey_at(frame, centres)))


def _grey_at(frame: np.ndarray, points: np.ndarray) -> np.ndarray:
    xs = np.clip(points[:, 0].round().astype(int), 0, frame.shape[1] - 1)
    ys = np.clip(points[:, 1].round().astype(int), 0, frame.shape[0] - 1)
    return frame[ys, xs].astype(np.float32)


def _sharpness(frame: np.ndarray, page: AlignedPage, contrast: float) -> float:
    """Steepest grey step per pixel across the first mark's edge, over the contrast.

    A sharp edge steps most of the contrast within a pixel or two; blur spreads it out.
    """
    mark = page.geometry.marks[0]
    centre = page.to_frame(mm_points([mark]))[0]
    half = int(mark.side * page.px_per_mm)  # the mark plus a band of paper around it
    x, y = int(centre[0]), int(centre[1])
    patch = frame[max(y - half, 0) : y + half, max(x - half, 0) : x + half].astype(np.float32)
    if patch.size == 0 or contrast <= 0:
        return 0.0
    gx = cv2.Sobel(patch, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(patch, cv2.CV_32F, 0, 1, ksize=3) / 8
    magnitude = np.hypot(gx, gy)
    return float(np.percentile(magnitude, 99.5) / contrast)
