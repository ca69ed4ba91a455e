"""Page geometry the reader and the renderers share: all in mm, origin top-left, y down.

Multiply by a rectified page's pixels per mm to index its image. The tag's corners are given in
the order OpenCV's ArucoDetector reports them (the marker's own top-left, top-right,
bottom-right, bottom-left), already turned by the tag's printed rotation, so the four tag
corners and the four mark centres can feed one homography directly.
"""

from __future__ import annotations

from protocol.forms.schema import TAG_CELLS, BubbleColumn, FieldSpec, Page, Rect, Tag, Template

Point = tuple[float, float]


def page_size(page: Page) -> tuple[float, float]:
    """(width, height) in mm."""
    return (page.width, page.height)


def mark_centres(page: Page) -> list[Point]:
    """Centres of the corner marks: top-left, top-right, bottom-right, bottom-left."""
    return [m.centre for m in page.marks]


def mark_rects(page: Page) -> list[Rect]:
    return [Rect(x=m.x, y=m.y, w=m.size, h=m.size) for m in page.marks]


def tag_rect(page: Page) -> Rect:
    t = page.tag
    return Rect(x=t.x, y=t.y, w=t.size, h=t.size)


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


def tag_cell(tag: Tag) -> float:
    """Side of one tag cell (the tag is 8 x 8 cells with its black border), mm."""
    return tag.size / TAG_CELLS


def qr_rect(page: Page, *, with_quiet: bool = False) -> Rect:
    q = page.qr
    pad = q.quiet if with_quiet else 0.0
    return Rect(x=q.x - pad, y=q.y - pad, w=q.size + 2 * pad, h=q.size + 2 * pad)


def box_rects(field: FieldSpec) -> list[Rect]:
    """The digit boxes, most significant first."""
    return list(field.boxes)


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


def page_fields(template: Template, number: int) -> list[FieldSpec]:
    """The fields read on page ``number``."""
    return list(template.page(number).fields)


def to_px(value: float, px_per_mm: float) -> int:
    """A length or coordinate in mm as the nearest pixel index."""
    return round(value * px_per_mm)


def rect_px(rect: Rect, px_per_mm: float) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) pixel bounds of a rect, exclusive at the end, for array slicing."""
    return (
        to_px(rect.x, px_per_mm),
        to_px(rect.y, px_per_mm),
        to_px(rect.right, px_per_mm),
        to_px(rect.bottom, px_per_mm),
    )
