"""What alignment needs to know of a template page, taken from protocol.forms, in mm."""

from __future__ import annotations

from dataclasses import dataclass

from protocol.forms import layout
from protocol.forms.schema import TAG_DICTIONARIES, MarkPattern, Page, Template


@dataclass(frozen=True)
class Square:
    """A printed corner mark by its centre, side (mm) and pattern (solid or checker)."""

    cx: float
    cy: float
    side: float
    pattern: MarkPattern = "solid"


@dataclass(frozen=True)
class PageGeometry:
    """One template page as alignment sees it. Mark 1 is top-left, then clockwise."""

    form: str
    page: int
    width_mm: float
    height_mm: float
    tag_dictionary: str  # OpenCV's name, e.g. DICT_APRILTAG_36h11
    tag_id: int
    tag_corners: tuple[tuple[float, float], ...]  # in the order the detector reports them
    tag_side: float
    marks: tuple[Square, Square, Square, Square]
    tag_known: bool = True
    """False when the tag id is ours, not KPU's: a KPU sheet of this page is named by its
    layout (the ``fields`` boxes) instead."""
    fields: tuple[tuple[tuple[float, float, float, float], ...], ...] = ()
    """Each field's digit boxes (x, y, w, h in mm): the print that tells pages apart."""
    box_stroke: float = 0.5

    @property
    def tag_key(self) -> tuple[str, int]:
        return (self.tag_dictionary, self.tag_id)


def page_geometry(template: Template, page: Page) -> PageGeometry:
    marks = tuple(Square(m.x + m.size / 2, m.y + m.size / 2, m.size, m.pattern) for m in page.marks)
    return PageGeometry(
        form=template.id,
        page=page.number,
        width_mm=page.width,
        height_mm=page.height,
        tag_dictionary=TAG_DICTIONARIES[page.tag.family],
        tag_id=page.tag.id,
        tag_corners=tuple(layout.tag_corners(page.tag)),
        tag_side=page.tag.size,
        marks=marks,  # type: ignore[arg-type]
        tag_known=page.tag.assigned_by == "kpu",
        fields=tuple(tuple((b.x, b.y, b.w, b.h) for b in f.boxes) for f in page.fields),
        box_stroke=page.box_style.stroke,
    )


def template_geometries(template: Template) -> list[PageGeometry]:
    return [page_geometry(template, page) for page in template.pages]
