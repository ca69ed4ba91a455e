"""Page geometry the reader and the renderers share: all in mm, origin top-left, y down.

Multiply by a rectified page's pixels per mm to index its image. The tag's corners are given in
the order OpenCV's ArucoDetector reports them (the marker's own top-left, top-right,
bottom-right, bottom-left), already turned by the tag's printed rotation, so the four tag
corners and the four mark centres can feed one homography directly.
"""

from __future__ import annotations

from protocol.forms.schema import BubbleColumn, FieldSpec, Rect, Tag

Point = tuple[float, float]


def tag_corners(tag: Tag) -> list[Point]:
    """Page positions of the detector's corners 0-3 (marker top-left, top-right, bottom-right,
    bottom-left) for a tag printed turned by ``tag.rotation`` degrees counter-clockwise."""
    square = [
        (tag.x, tag.y),
        (tag.x + tag.size, tag.y),
        (tag.x + tag.size, tag.y + tag.size),
        (tag.x, tag.y + tag.size),
    ]
    # Turning the printed marker counter-clockwise by 90 moves its top-left corner to the
    # page's bottom-left, i.e. one step back along the clockwise list above.
    steps = tag.rotation // 90
    return [square[(i - steps) % 4] for i in range(4)]


def box_interior(box: Rect, inset: float) -> Rect:
    """The box shrunk by ``inset`` mm on every side: the handwriting area without the border."""
    return Rect(x=box.x + inset, y=box.y + inset, w=box.w - 2 * inset, h=box.h - 2 * inset)


def bubble_centres(field: FieldSpec) -> list[list[Point]]:
    """For each digit box, the centres of its bubbles 0-9; empty if the field has none."""
    return [[col.centre(d) for d in range(10)] for col in (field.bubbles or [])]


def bubble_radius(field: FieldSpec) -> float | None:
    return field.bubbles[0].r if field.bubbles else None


def bubble_columns(field: FieldSpec) -> list[BubbleColumn]:
    return list(field.bubbles or [])
