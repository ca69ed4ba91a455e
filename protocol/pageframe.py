"""Where a photographed page lies in its photo: the page's homography, as a kit signs it.

When the kit aligns a photo to its form template it finds the homography from the
template's page (millimetres, origin top-left, x right, y down) to the photo's pixels. The
signed document carries it as the images of the page's four corners, so that anyone can
show the page rectified and upright: ``corners`` lists, for the template page's top-left,
top-right, bottom-right and bottom-left corners in that order, ``[x, y]`` in the photo, in
hundredths of a pixel (integers: the signed JSON has no floats). The pixels are those of the
stored JPEG as decoded (OpenCV's imdecode, which applies an EXIF orientation), origin at the
top-left pixel's corner.

Four point pairs fix a homography exactly, and unlike nine floating-point matrix entries
(whose perspective terms are a millionth of the others) they round to integers without
losing it. The photo-to-page homography is the projective map taking ``corners`` to the
page rectangle (OpenCV's getPerspectiveTransform).

The corners must make a convex quadrilateral in the page's own orientation (not mirrored,
not crossed, no three in a line) of at least ``MIN_SIDE_PX`` across: any other is no
photograph of a sheet, and a hub or viewer would draw a page that was never there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from protocol.errors import FieldError

UNIT_PER_PX = 100  # corners are in hundredths of a pixel
MAX_COORDINATE = 10_000_000  # 100,000 px: far beyond any camera, within any integer type
MIN_SIDE_PX = 100  # a page smaller than this in its photo is no page that was read


def check_corners(value: Any, where: str = "corners") -> list[list[int]]:
    """``value`` if it is a valid corners list (see the module's text), else FieldError."""
    if not isinstance(value, list) or len(value) != 4:
        raise FieldError(
            where, "needs four corners: top-left, top-right, bottom-right, bottom-left"
        )
    for i, point in enumerate(value):
        if not isinstance(point, list) or len(point) != 2:
            raise FieldError(f"{where}[{i}]", "a corner is [x, y]")
        for c in point:
            # bool is an int to Python: True is no coordinate.
            if isinstance(c, bool) or not isinstance(c, int):
                raise FieldError(f"{where}[{i}]", f"{c!r} is not an integer (hundredths of a px)")
            if abs(c) > MAX_COORDINATE:
                raise FieldError(f"{where}[{i}]", f"{c} is outside ±{MAX_COORDINATE}")
    turns = [_cross(value[i], value[(i + 1) % 4], value[(i + 2) % 4]) for i in range(4)]
    if not all(t > 0 for t in turns):
        raise FieldError(
            where,
            "the corners do not make a convex page in its own orientation (mirrored, crossed "
            "or three in a line): no photograph of a sheet",
        )
    area = sum(_cross_origin(value[i], value[(i + 1) % 4]) for i in range(4)) / 2
    shortest = min(math.dist(value[i], value[(i + 1) % 4]) for i in range(4))
    if area < (MIN_SIDE_PX * UNIT_PER_PX) ** 2 or shortest < MIN_SIDE_PX * UNIT_PER_PX:
        raise FieldError(where, f"the page is less than {MIN_SIDE_PX} px across in the photo")
    return value


def _cross(a: Sequence[int], b: Sequence[int], c: Sequence[int]) -> int:
    """The turn at ``b`` going a -> b -> c: positive is clockwise on the photo (y down)."""
    return (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0])


def _cross_origin(a: Sequence[int], b: Sequence[int]) -> int:
    return a[0] * b[1] - a[1] * b[0]


def page_corners(
    homography: Sequence[Sequence[float]], width_mm: float, height_mm: float
) -> list[list[int]]:
    """The corners to sign for a page ``width_mm`` x ``height_mm`` that ``homography`` (3x3,
    template mm -> photo px) puts in its photo."""
    out = []
    for x, y in ((0.0, 0.0), (width_mm, 0.0), (width_mm, height_mm), (0.0, height_mm)):
        u, v, w = (row[0] * x + row[1] * y + row[2] for row in homography)
        if not (math.isfinite(u) and math.isfinite(v) and math.isfinite(w)) or w == 0:
            raise FieldError("corners", "the homography sends a page corner to infinity")
        out.append([round(u / w * UNIT_PER_PX), round(v / w * UNIT_PER_PX)])
    return check_corners(out)


def corners_px(corners: Sequence[Sequence[int]]) -> list[tuple[float, float]]:
    """The corners in pixels, for a warp."""
    return [(x / UNIT_PER_PX, y / UNIT_PER_PX) for x, y in corners]
