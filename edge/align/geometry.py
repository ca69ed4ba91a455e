"""What alignment needs to know of a page: where its marks, tag and QR code are, in mm."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Square:
    """A printed square (corner mark or tag) by its centre and side, in mm."""

    cx: float
    cy: float
    side: float

    def corners(self) -> list[tuple[float, float]]:
        """Top-left, top-right, bottom-right, bottom-left: the order ArUco reports corners."""
        h = self.side / 2
        return [
            (self.cx - h, self.cy - h),
            (self.cx + h, self.cy - h),
            (self.cx + h, self.cy + h),
            (self.cx - h, self.cy + h),
        ]


@dataclass(frozen=True)
class PageGeometry:
    """One template page as alignment sees it. Mark 1 is top-left, then clockwise."""

    form: str
    page: int
    width_mm: float
    height_mm: float
    tag_id: int
    tag: Square  # the tag's black outer square (the 8x8-cell marker without quiet zone)
    marks: tuple[Square, Square, Square, Square]
    qr: Square  # the QR code's modules, without quiet zone
