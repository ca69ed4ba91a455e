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
from edge.errors import ForeignFormError, PoorImageError
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
    boxes = [_box_anchor(spec, style) for spec in specs]
    rings = [_bubble_anchors(spec) for spec in specs]
    box_reach = _reach(specs, config, bubbles=False)
    ring_reach = _reach(specs, config, bubbles=True)
    box_found = find_shifts(frame, page.homography, boxes, box_reach)
    ring_found = find_shifts(frame, page.homography, [a for g in rings for a in g], ring_reach)
    flat = page.reprojection_mm <= config.flat_reprojection_mm
    _check_print(specs, box_found, config, flat, page.geometry.page)
    anchors: list[tuple[FieldSpec, Anchor, float]] = []
    found: list[Shift] = []
    ring_shifts = iter(ring_found)
    for spec, box, box_shift, groups in zip(specs, boxes, box_found, rings, strict=True):
        anchors.append((spec, box, config.min_print_match))
        found.append(box_shift)
        for group in groups:
            anchors.append((spec, group, config.min_ring_match))
            found.append(next(ring_shifts))
    for (_, anchor, least), shift in zip(anchors, found, strict=True):
        if shift.beyond >= least:  # a print found cut off at the edge: it lies further off
            raise PoorImageError(
                f"the page is not flat ({anchor.name} lies further than "
                f"{max(abs(shift.dx), abs(shift.dy)):.1f} mm from where the corner marks put "
                "it): smooth it out",
                "Kertas tidak rata: ratakan kertas lalu pindai lagi",
            )
    trusted = [
        (anchor_centre(a), shift)
        for (_, a, least), shift in zip(anchors, found, strict=True)
        if shift.score >= least
    ]
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


def _reach(specs: Sequence[FieldSpec], config: AlignConfig, *, bubbles: bool) -> float:
    """How far to search: at most the tolerance plus a millimetre, and under half the
    distance at which this page's boxes (or bubbles) repeat, so no neighbour is taken."""
    if bubbles:
        pitches = [c.pitch for s in specs for c in layout.bubble_columns(s)]
    else:
        corners = np.array([(b.x, b.y) for s in specs for b in s.boxes], np.float64)
        gaps = np.hypot(*(corners[:, None, :] - corners[None, :, :]).transpose(2, 0, 1))
        pitches = [float(gaps[gaps > 0].min())] if len(corners) > 1 else []
    reach = config.max_local_shift_mm + 1.0
    return min([reach, *(0.45 * p for p in pitches)])


def _check_print(
    specs: Sequence[FieldSpec], shifts: Sequence[Shift], config: AlignConfig, flat: bool, page: int
) -> None:
    """Refuse a page whose printed boxes are mostly not where its tag says, or too far off."""
    found = [s for s in shifts if s.score >= config.min_print_match]
    if len(found) * 2 < len(specs):
        if flat:  # lying flat, yet its boxes are elsewhere: another sheet under this tag
            raise ForeignFormError(
                f"the boxes printed on this sheet are not those of page {page} that its tag "
                f"names ({len(found)} of {len(specs)} found): this sheet is not a genuine form",
                "Formulir tidak sah: kotak angka tidak sesuai halaman ini",
            )
        raise PoorImageError(
            f"the page is not flat: only {len(found)} of {len(specs)} fields' boxes were found "
            f"within {config.max_local_shift_mm:g} mm of where the corner marks put them: "
            "smooth it out",
            "Kertas tidak rata: ratakan kertas lalu pindai lagi",
        )
    for spec, shift in zip(specs, shifts, strict=True):
        if shift.score >= config.min_print_match and shift.distance > config.max_local_shift_mm:
            raise PoorImageError(
                f"the page is not flat (the boxes of {spec.id} lie {shift.distance:.1f} mm "
                f"from where the corner marks put them; at most "
                f"{config.max_local_shift_mm:g} mm): smooth it out",
                "Kertas tidak rata: ratakan kertas lalu pindai lagi",
            )


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
