"""What alignment needs to know of a template page, taken from protocol.forms, in mm."""

from __future__ import annotations

from dataclasses import dataclass

from protocol.forms import layout
from protocol.forms.schema import TAG_DICTIONARIES, Page, Template


@dataclass(frozen=True)
class Square:
    """A printed corner mark by its centre and side, in mm."""

    cx: float
    cy: float
    side: float


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

    @property
    def tag_key(self) -> tuple[str, int]:
        return (self.tag_dictionary, self.tag_id)


def page_geometry(template: Template, page: Page) -> PageGeometry:
    marks = tuple(Square(m.x + m.size / 2, m.y + m.size / 2, m.size) for m in page.marks)
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
    )


def template_geometries(template: Template) -> list[PageGeometry]:
    return [page_geometry(template, page) for page in template.pages]
