"""Where each digit box and bubble of a page lies in this photograph, in template mm.

The homography places the page as if it were flat; each field's printed boxes, and each half
of its bubble columns, are then found near there (edge.align.refine) and moved by what was
found. A print that cannot be found clearly (its border hidden under ink) moves as the nearest
print found near it does; with none near, it keeps the homography's place only on a page that
fitted its marks closely, and is refused otherwise, as is any print further off than a stated
tolerance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge.align.aligner import AlignConfig, AlignedPage
from edge.align.refine import Anchor, Ring, Shift, anchor_centre, box_anchor, find_shifts
from edge.errors import PoorImageError
from protocol.forms import layout
from protocol.forms.schema import BoxStyle, FieldSpec, Rect

BUBBLE_GROUPS = ((0, 5), (5, 10))  # bubbles 0-4 and 5-9 of every column move together


@dataclass(frozen=True)
class FieldPlace:
    """One field's boxes and bubble centres where they really are (template mm)."""

    boxes: tuple[Rect, ...]
    bubbles: tuple[tuple[tuple[float, float], ...], ...]  # per column, bubbles 0-9
    shift: Shift  # of its boxes, for the record


def place_fields(
    frame: np.ndarray,
    page: AlignedPage,
    specs: Sequence[FieldSpec],
    style: BoxStyle,
    config: AlignConfig,
) -> dict[str, FieldPlace]:
    """Every field's boxes and bubbles moved to where its print was found; refuse the page
    if a field's print is off further than ``config.max_local_shift_mm``, or cannot be found
    and has no found print near it on a page that is not flat."""
    anchors: list[tuple[FieldSpec, Anchor, float]] = []
    for spec in specs:
        anchors.append((spec, _box_anchor(spec, style), config.min_print_match))
        anchors += [(spec, a, config.min_ring_match) for a in _bubble_anchors(spec)]
    found = find_shifts(
        frame, page.homography, [a for _, a, _ in anchors], config.max_local_shift_mm + 1.0
    )
    for (spec, _, least), shift in zip(anchors, found, strict=True):
        if shift.score >= least and shift.distance > config.max_local_shift_mm:
            raise PoorImageError(
                f"the page is not flat (the boxes of {spec.id} lie {shift.distance:.1f} mm "
                f"from where the corner marks put them; at most "
                f"{config.max_local_shift_mm:g} mm): smooth it out",
                "Kertas tidak rata: ratakan kertas lalu pindai lagi",
            )
    trusted = [
        (anchor_centre(a), shift)
        for (_, a, least), shift in zip(anchors, found, strict=True)
        if shift.score >= least
    ]
    flat = page.reprojection_mm <= config.flat_reprojection_mm
    shifts = iter(
        shift if shift.score >= least else _borrowed(spec, a, trusted, flat, config)
        for (spec, a, least), shift in zip(anchors, found, strict=True)
    )
    out = {}
    for spec in specs:
        box_shift = next(shifts)
        boxes = tuple(_moved(b, box_shift) for b in spec.boxes)
        groups = [next(shifts) for _ in _groups(spec)]
        bubbles = tuple(
            tuple(
                _moved_point(centre, groups[_group_of(digit)])
                for digit, centre in enumerate(column)
            )
            for column in layout.bubble_centres(spec)
        )
        out[spec.id] = FieldPlace(boxes, bubbles, box_shift)
    return out


def _borrowed(
    spec: FieldSpec,
    anchor: Anchor,
    trusted: list[tuple[tuple[float, float], Shift]],
    flat: bool,
    config: AlignConfig,
) -> Shift:
    """A print hidden under ink moves as the nearest print found near it does; with none
    near, only a flat page may keep the homography's place."""
    cx, cy = anchor_centre(anchor)
    near = [
        (float(np.hypot(x - cx, y - cy)), shift)
        for (x, y), shift in trusted
        if np.hypot(x - cx, y - cy) <= config.max_borrow_mm
    ]
    if near:
        shift = min(near, key=lambda n: n[0])[1]
        return Shift(shift.dx, shift.dy, 0.0)
    if flat:
        return Shift(0.0, 0.0, 0.0)
    raise PoorImageError(
        f"the page is not flat and the boxes of {spec.id} cannot be found: smooth it out",
        "Kertas tidak rata: ratakan kertas lalu pindai lagi",
    )


def _box_anchor(spec: FieldSpec, style: BoxStyle) -> Anchor:
    return box_anchor(spec.id, [(b.x, b.y, b.w, b.h) for b in spec.boxes], style.stroke)


def _groups(spec: FieldSpec) -> Sequence[tuple[int, int]]:
    return BUBBLE_GROUPS if spec.bubbles else ()


def _group_of(digit: int) -> int:
    return next(i for i, (lo, hi) in enumerate(BUBBLE_GROUPS) if lo <= digit < hi)


def _bubble_anchors(spec: FieldSpec) -> list[Anchor]:
    out = []
    for lo, hi in _groups(spec):
        rings = tuple(
            Ring(*column.centre(d), column.r, 0.35)
            for column in layout.bubble_columns(spec)
            for d in range(lo, hi)
        )
        out.append(Anchor(f"{spec.id} bubbles {lo}-{hi - 1}", rings))
    return out


def _moved(box: Rect, shift: Shift) -> Rect:
    return Rect(x=box.x + shift.dx, y=box.y + shift.dy, w=box.w, h=box.h)


def _moved_point(point: tuple[float, float], shift: Shift) -> tuple[float, float]:
    return (point[0] + shift.dx, point[1] + shift.dy)
