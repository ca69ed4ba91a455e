"""Aligning a photographed page to its template, or refusing it with a reason.

Thresholds are explicit and refuse rather than guess: a page the kit cannot align with
certainty is never read. See AlignConfig for each limit and why it is where it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from edge.align import identify
from edge.align import marks as mark_finders
from edge.align.geometry import PageGeometry
from edge.align.locate import FoundTag, TagFinder, mm_points, nearest, outer_quad
from edge.errors import (
    ForeignFormError,
    MarkMissingError,
    PageRefusedError,
    PoorImageError,
    TagNotFoundError,
)
from protocol.pageframe import page_corners


@dataclass(frozen=True)
class AlignConfig:
    detect_long_side: int = 1100
    """The frame is halved until its long side is at most this before marks are searched:
    a 12 MP frame is searched at a quarter size, where a 15 mm mark is still ~13 px."""
    px_per_mm: tuple[float, float] = (2.0, 14.0)
    """Plausible camera scales at full resolution (the plano at 12 MP is about 3.4 px/mm;
    the A4 salinan on a small stand more): marks outside this size are not marks."""
    max_reprojection_mm: float = 4.0
    """Marks and tag must agree on one plane within this. A folded or curled sheet puts them
    off by a few mm; each field's boxes are then found by their print (edge.align.refine)."""
    flat_reprojection_mm: float = 1.0
    """Marks and tag this close to one plane: the page lies flat, and a box whose border is
    hidden (ink over it), with no print found near it, can be read where the homography puts
    it."""
    max_local_shift_mm: float = 5.0
    """A field's printed boxes may lie this far from where the marks put them; further off
    the sheet is too crumpled to read safely, and the KPPS is asked to smooth it."""
    min_print_match: float = 0.45
    """Correlation of a field's printed boxes with the photograph below which it is not found."""
    min_layout_match: float = 0.5
    """A page whose tag is not known is named by its layout only when its boxes match the
    photograph at least this well (median correlation; 0.7-0.9 measured on the right page)."""
    layout_margin: float = 0.15
    """... and better by this than any page printed differently."""
    max_borrow_mm: float = 80.0
    """A print not found clearly moves as the nearest print found within this distance."""
    min_ring_match: float = 0.3
    """The same for a group of bubble rings: each holds a printed digit and some a filled-in
    disc, which the rings alone do not draw, so a true match scores lower (0.4-0.8 measured)."""
    max_keystone: float = 0.15
    """Opposite page edges may differ in length by this fraction; more is a tilted page."""
    min_paper_level: int = 70
    """The paper's grey level (90th percentile) below this is too dark to read."""
    min_contrast: int = 50
    """Paper minus the corner marks' black, below this the ink is washed out."""
    min_sharpness: float = 0.12
    """Steepest edges of the marks relative to their contrast (per px): below this the
    picture is too blurred for the digits. Measured on synthesized plano photos: 0.44 at a
    blur of sigma 0.5 px, 0.24 at 1.5, 0.15 at 2.5, 0.12 at 3.3; digits still read right at 3."""
    min_frame_sharpness: float = 0.11
    """The same over the whole picture (``frame_sharpness``), asked only when no tag or mark
    was found, so that a blurred frame is told it is blurred: 0.27 at sigma 0.5, 0.11 at 3.5."""


@dataclass(frozen=True)
class AlignedPage:
    geometry: PageGeometry
    homography: np.ndarray  # 3x3, template mm -> frame px
    px_per_mm: float
    reprojection_mm: float
    paper_level: float
    contrast: float
    sharpness: float

    @property
    def corners(self) -> list[list[int]]:
        """The homography as the document signs it: the page's corners in the frame, in
        hundredths of a pixel (protocol.pageframe)."""
        g = self.geometry
        return page_corners(self.homography.tolist(), g.width_mm, g.height_mm)

    def to_frame(self, points_mm: np.ndarray) -> np.ndarray:
        pts = np.asarray(points_mm, np.float32).reshape(-1, 1, 2)
        return cv2.perspectiveTransform(pts, self.homography).reshape(-1, 2)


class Aligner:
    """Aligns frames to any of the given template pages (matched by their tag ids)."""

    def __init__(
        self,
        pages: Iterable[PageGeometry],
        config: AlignConfig | None = None,
        *,
        others: Iterable[PageGeometry] = (),
    ) -> None:
        """``others``: pages of forms this kit does not scan, known only so that a sheet of
        one (three candidates where this kit's form has two) is not taken for a page of ours
        that prints part of it."""
        self.pages = {p.tag_key: p for p in pages}
        self._others = [p for p in others if p.tag_key not in self.pages and not p.tag_known]
        self.config = config or AlignConfig()
        self._tags = TagFinder(self.pages)
        layouts: dict[tuple, list[PageGeometry]] = {}
        for page in self.pages.values():
            layouts.setdefault(tuple(page.marks), []).append(page)
        self._layouts = list(layouts.values())

    def align(self, frame: np.ndarray, *, form_hint: str | None = None) -> AlignedPage:
        """Align ``frame`` to the page it shows, or raise a PageRefusedError saying why.

        ``form_hint`` (the form being scanned) decides between pages whose tags are not
        known and whose print is alike (see edge.align.identify).
        """
        if frame.ndim != 2 or frame.dtype != np.uint8:
            raise ValueError("align() takes a grey uint8 image")
        small, scale = _reduce(frame, self.config.detect_long_side)
        self._check_light(small)
        candidates = {
            pattern: mark_finders.candidates(small, pattern, self._side_range(scale)) / scale
            for pattern in {p[0].marks[0].pattern for p in self._layouts}
        }
        fitted = None
        for pages in self._layouts:
            quad = outer_quad(candidates[pages[0].marks[0].pattern])
            found = self._by_marks(frame, quad, pages) if quad is not None else None
            fitted = self._fit(frame, *found) if found is not None else None
            if fitted is not None and self._fits(*fitted):
                break
        if fitted is None or not self._fits(*fitted):
            # A blob on the table outermost in place of a mark skews or bends the fit.
            try:
                fitted = self._slow_path(frame, small, scale, candidates, form_hint)
            except PageRefusedError:
                if fitted is None or fitted[0] > self.config.max_reprojection_mm:
                    raise
                # The marks were right and the page really is skewed: say that.
        reprojection, page = fitted
        try:
            return self._judge(frame, page, reprojection)
        except PageRefusedError as e:
            e.page = page.geometry.page
            raise

    def _fits(self, reprojection: float, page: AlignedPage) -> bool:
        c = self.config
        return reprojection <= c.max_reprojection_mm and _keystone(page) <= c.max_keystone

    def _slow_path(
        self,
        frame: np.ndarray,
        small: np.ndarray,
        scale: float,
        candidates: dict[str, np.ndarray],
        form_hint: str | None,
    ) -> tuple[float, AlignedPage]:
        """An outer blob stood in for a covered mark, another page is in view, or the tag is
        not one we know: find the tag on its own and look for each mark where it should be,
        naming a missing one; with no tag of ours in view, name the page by its layout."""
        try:
            by_tag = self._by_tag(small, scale, candidates)
            if by_tag is not None:
                return self._fit(frame, *by_tag)
            by_layout = self._by_layout(frame, candidates, form_hint)
        except PageRefusedError:
            self._check_blur(frame)  # blur hides marks and tags: say what to fix
            raise
        if by_layout is not None:
            return by_layout
        self._check_blur(frame)
        raise TagNotFoundError(
            "no page tag found: lay the whole page under the camera, tag uncovered",
            "Kode halaman tidak terlihat: letakkan seluruh halaman di bawah kamera",
        )

    def _check_light(self, small: np.ndarray) -> None:
        """Refuse a dark frame before looking for marks, so the message names the light."""
        paper = float(np.percentile(small[::4, ::4], 90))
        if paper < self.config.min_paper_level:
            raise PoorImageError(
                f"too dark to read (paper at grey level {paper:.0f}): turn on the lamp",
                "Terlalu gelap: nyalakan lampu atau pindahkan ke tempat terang",
            )

    def _check_blur(self, frame: np.ndarray) -> None:
        sharpness = frame_sharpness(frame, self.config.min_contrast)
        if sharpness is not None and sharpness < self.config.min_frame_sharpness:
            raise PoorImageError(
                f"too blurred to read (sharpness {sharpness:.2f} over the whole picture): "
                "hold still, check the lens",
                "Gambar kabur: jangan goyangkan meja, bersihkan lensa, pindai lagi",
            )

    def _fit(
        self, frame: np.ndarray, geometry: PageGeometry, tag: np.ndarray, marks: np.ndarray
    ) -> tuple[float, AlignedPage]:
        """The homography from tag corners and refined mark centres, and its worst error (mm)."""
        tag_px_per_mm = float(np.hypot(*(tag[1] - tag[0]))) / geometry.tag_side
        marks = np.array(
            [
                mark_finders.refine(frame, c, m.side * tag_px_per_mm, m.pattern)
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
        self, frame: np.ndarray, quad: np.ndarray, pages: list[PageGeometry]
    ) -> tuple[PageGeometry, np.ndarray, np.ndarray] | None:
        """Try the orientations of the outer marks; the tag where they predict it decides."""
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
        self, small: np.ndarray, scale: float, candidates: dict[str, np.ndarray]
    ) -> tuple[PageGeometry, np.ndarray, np.ndarray] | None:
        """The tag anywhere in view, then each mark where the tag predicts it; None if no tag."""
        tags = self._tags.find(small, self.pages, scale=scale)
        if not tags:
            return None
        if len(tags) > 1:
            raise TagNotFoundError(
                "more than one page in view: scan one page at a time",
                "Ada lebih dari satu halaman: pindai satu halaman saja",
            )
        geometry, tag = self.pages[tags[0].key], tags[0].corners
        try:
            found = _marks_from_tag(geometry, tag, candidates[geometry.marks[0].pattern])
        except PageRefusedError as e:
            e.page = geometry.page
            raise
        return geometry, tag, found

    def _by_layout(
        self, frame: np.ndarray, candidates: dict[str, np.ndarray], form_hint: str | None
    ) -> tuple[float, AlignedPage] | None:
        """The page whose tag we do not know, named by where its boxes are printed."""
        matches = []
        for pages in self._layouts:
            unknown = [p for p in pages if not p.tag_known]
            quad = outer_quad(candidates[pages[0].marks[0].pattern])
            if not unknown or quad is None:
                continue
            for homography in self._mark_homographies(frame, quad, pages[0]):
                matches += [identify.match(frame, page, homography) for page in unknown]
        c = self.config
        best, rivals = identify.choose(matches, c.min_layout_match, c.layout_margin, form_hint)
        if rivals:
            names = ", ".join(f"{m.page.form} page {m.page.page}" for m in rivals)
            raise TagNotFoundError(
                f"this page's tag is not one this kit knows and its print fits {names}: "
                "scan another page of this form first, so the kit knows which form it is",
                "Formulir belum dikenali: pindai dulu halaman lain dari formulir ini",
            )
        if best is None:
            return None
        larger = identify.larger_print(frame, best, self._others, c.min_layout_match)
        if larger is not None:
            raise ForeignFormError(
                f"this sheet prints more than {best.page.form} page {best.page.page}: it is "
                f"{larger.form} page {larger.page}, a form this kit does not scan",
                "Formulir ini bukan untuk kit ini",
                page=larger.page,
            )
        page = AlignedPage(
            best.page, best.homography, _px_per_mm(best.homography, best.page), 0, 0, 0, 0
        )
        return best.offset_mm, page

    def _mark_homographies(
        self, frame: np.ndarray, quad: np.ndarray, page: PageGeometry
    ) -> list[np.ndarray]:
        """Homographies from the four marks alone, in each orientation the page's shape allows."""
        marks_mm = mm_points(page.marks)
        out = []
        for turn in range(4):
            ordered = np.roll(quad, -turn, axis=0)
            rough = cv2.getPerspectiveTransform(marks_mm, ordered)
            if not self._plausible(rough, page):
                continue
            scale = _px_per_mm(rough, page)
            refined = np.array(
                [
                    mark_finders.refine(frame, c, m.side * scale, m.pattern)
                    for c, m in zip(ordered, page.marks, strict=True)
                ],
                np.float32,
            )
            out.append(cv2.getPerspectiveTransform(marks_mm, refined))
        return out

    def _judge(self, frame: np.ndarray, page: AlignedPage, reprojection: float) -> AlignedPage:
        c = self.config
        lo, hi = c.px_per_mm
        if not lo <= page.px_per_mm <= hi:
            raise PoorImageError(
                f"the page is {page.px_per_mm:.1f} px/mm in the picture, outside the camera's "
                f"{lo:g}-{hi:g}: check the camera's height and zoom",
                "Jarak kamera tidak sesuai: hubungi teknisi",
            )
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
        # Perspective only once three marks are in: the tag's corners lie close together
        # near one mark, and with two marks on one edge a homography swings the far corner
        # hundreds of pixels off.
        if len(src) >= 7:
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
    dark = np.array(
        [
            (m.cx + dx, m.cy + dy)
            for m in g.marks
            for dx, dy in mark_finders.dark_offsets(m.pattern, m.side)
        ],
        np.float32,
    )
    return float(np.percentile(samples, 90)), float(np.median(_grey_at(frame, page.to_frame(dark))))


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


def frame_sharpness(frame: np.ndarray, min_contrast: float) -> float | None:
    """Steepest grey steps per full-resolution pixel over the whole frame, over its contrast;
    None when the frame holds too little contrast to tell (an empty table is not blurred).

    Measured at half size, where blur of 2 px or more still shows, at a quarter of the cost.
    """
    small = cv2.pyrDown(frame).astype(np.float32)
    lo, hi = np.percentile(small[::4, ::4], (1, 99))
    if hi - lo < min_contrast:
        return None
    magnitude = cv2.magnitude(
        cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3) / 8,
        cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3) / 8,
    )
    return float(np.percentile(magnitude[::2, ::2], 99.9) / float(hi - lo)) / 2
