"""The form template schema: one JSON file per form, checked by these models.

All lengths are millimetres on the printed sheet, origin at the page's top-left corner, x to
the right and y down (the way a photographed, rectified page is indexed). A template holds
everything the kit reads with (digit boxes, bubble columns, corner marks, page tag, QR
position), everything the technician prints (plus static decoration: table lines, labels) and
the arithmetic rules the kit and the hub judge a form by. Unknown keys are refused everywhere,
so a typo in a template fails loudly instead of being ignored.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FIELD_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$"  # same alphabet as protocol.ids.check_field_id
TEMPLATE_ID = r"^[a-z0-9](?:[a-z0-9-]{1,62}[a-z0-9])$"  # same as protocol.ids.check_id
FORMAT = "tps-form-template/1"

Mm = Annotated[float, Field(ge=0, le=2000)]
Size = Annotated[float, Field(gt=0, le=2000)]
Stroke = Annotated[float, Field(ge=0, le=5, description="line width in mm; 0 draws no line")]
Grey = Annotated[int, Field(ge=0, le=100, description="fill darkness in percent; 0 is no fill")]
TagFamily = Literal["apriltag_36h10", "apriltag_36h11"]

# OpenCV's dictionary constant for each family (cv2.aruco.<name>); kept as text so that
# protocol/ never imports OpenCV (the hub does not install it).
TAG_DICTIONARIES: dict[str, str] = {
    "apriltag_36h10": "DICT_APRILTAG_36h10",
    "apriltag_36h11": "DICT_APRILTAG_36h11",
}
TAG_CELLS = 8  # a 36hXX tag is 6 x 6 data cells inside a one-cell black border


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rect(_Model):
    """An axis-aligned rectangle on the page."""

    x: Mm = Field(description="left edge, mm from the page's left edge")
    y: Mm = Field(description="top edge, mm from the page's top edge")
    w: Size = Field(description="width in mm")
    h: Size = Field(description="height in mm")

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)


class BubbleColumn(_Model):
    """Ten bubbles 0-9 under one digit box, top to bottom, each printed with its digit."""

    cx: Mm = Field(description="x of every bubble's centre, mm")
    cy0: Mm = Field(description="y of the centre of bubble 0 (the top one), mm")
    pitch: Size = Field(description="distance between the centres of consecutive bubbles, mm")
    r: Size = Field(description="bubble radius, mm")

    def centre(self, digit: int) -> tuple[float, float]:
        return (self.cx, self.cy0 + digit * self.pitch)


class FieldSpec(_Model):
    """One number on the form, written in digit boxes (hundreds, tens, units...)."""

    id: str = Field(pattern=FIELD_ID, description='stable field id, e.g. "I.A.L", "IV.1", "V.C"')
    alias: str | None = Field(
        default=None, description="SIREKAP's name for the same number, where it has one"
    )
    label: str = Field(min_length=1, description="the row's label as printed (Indonesian)")
    digits: int = Field(ge=1, le=5, description="number of digit boxes (3 on 2024 TPS forms)")
    boxes: list[Rect] = Field(description="the digit boxes, most significant first")
    bubbles: list[BubbleColumn] | None = Field(
        default=None, description="one bubble column per digit box, where the form has them"
    )

    @model_validator(mode="after")
    def _counts(self) -> FieldSpec:
        if len(self.boxes) != self.digits:
            raise ValueError(f"{self.id}: {self.digits} digits but {len(self.boxes)} boxes")
        if self.bubbles is not None and len(self.bubbles) != self.digits:
            raise ValueError(f"{self.id}: {self.digits} digits but {len(self.bubbles)} bubbles")
        return self


MarkPattern = Literal["solid", "checker"]


class CornerMark(_Model):
    """A printed square at a corner of the page that the kit finds to rectify it."""

    x: Mm = Field(description="left edge, mm")
    y: Mm = Field(description="top edge, mm")
    size: Size = Field(description="side of the square, mm")
    quiet: Mm = Field(description="white margin around the square that nothing else prints in")
    pattern: MarkPattern = Field(
        description="solid: one black square; checker: a 2 x 2 checkerboard whose top-left and "
        "bottom-right cells are black (KPU's 2024 plano print)"
    )

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x + self.size / 2, self.y + self.size / 2)


class Tag(_Model):
    """The page's 2-D tag block (an AprilTag, as SIREKAP reads it) naming form and page."""

    family: TagFamily = Field(description="AprilTag family (OpenCV dictionary in TAG_DICTIONARIES)")
    id: int = Field(ge=0, le=2319, description="tag id; unique over all shipped templates")
    x: Mm = Field(description="left edge of the tag's black outer border, mm")
    y: Mm = Field(description="top edge of the tag's black outer border, mm")
    size: Size = Field(description="side of the tag including its black border (8 cells), mm")
    rotation: Literal[0, 90, 180, 270] = Field(
        description="counter-clockwise turn of the printed tag from OpenCV's generated image "
        "(the real PPWP form prints its tags turned 180 degrees)"
    )
    quiet: Mm = Field(description="white margin around the tag, mm")
    assigned_by: Literal["kpu", "project"] = Field(
        description="kpu: KPU prints this id on its own sheets, so the kit names a genuine "
        "sheet's page by it; project: our own id, printed only on sheets we print (KPU's id for "
        "this page is not known yet), so on KPU's sheet the kit names the page by its printed "
        "layout among the forms of the kit's bundle"
    )


class Qr(_Model):
    """Where a QR code naming election, form, page and TPS may be printed.

    Optional on every sheet (KPU prints none): where one is printed and read it must agree with
    the tag and the kit, and where it is absent or unreadable the page is read without it.
    """

    x: Mm = Field(description="left edge of the symbol (without quiet zone), mm")
    y: Mm = Field(description="top edge of the symbol (without quiet zone), mm")
    size: Size = Field(description="side of the symbol, mm; the module size follows from it")
    quiet: Mm = Field(description="white margin around the symbol, mm (4 modules or more)")


class Text(_Model):
    """Static text printed on the page."""

    kind: Literal["text"] = Field(description="decoration kind")
    x: Mm = Field(description="anchor x, mm (left, centre or right end by align)")
    y: Mm = Field(description="baseline y, mm")
    text: str = Field(min_length=1, description="the text as printed")
    size: Size = Field(description="font size (em) in mm; capitals are about 0.72 of it")
    bold: bool = Field(default=False, description="bold face")
    align: Literal["left", "centre", "right"] = Field(default="left", description="anchor")
    rotate: Literal[0, 90] = Field(default=0, description="90 turns the text counter-clockwise")


class Box(_Model):
    """A printed rectangle (table cell, frame, filled header band)."""

    kind: Literal["box"] = Field(description="decoration kind")
    x: Mm = Field(description="left edge, mm")
    y: Mm = Field(description="top edge, mm")
    w: Size = Field(description="width, mm")
    h: Size = Field(description="height, mm")
    stroke: Stroke = 0.35
    fill: Grey = 0


class Line(_Model):
    """A printed straight line, solid or dotted (a write-in line)."""

    kind: Literal["line"] = Field(description="decoration kind")
    x1: Mm = Field(description="start x, mm")
    y1: Mm = Field(description="start y, mm")
    x2: Mm = Field(description="end x, mm")
    y2: Mm = Field(description="end y, mm")
    stroke: Stroke = 0.35
    dotted: bool = Field(default=False, description="dotted, as the real form's write-in lines")
    dashed: bool = Field(default=False, description="dashed, as the plano's fold line")
    grey: Grey = Field(default=100, description="darkness in percent (KPU's frame lines are 14)")


class Grid(_Model):
    """A table of cells (tally grids, signature blocks) drawn as lines."""

    kind: Literal["grid"] = Field(description="decoration kind")
    x: Mm = Field(description="left edge, mm")
    y: Mm = Field(description="top edge, mm")
    cols: list[Size] = Field(min_length=1, description="column widths left to right, mm")
    rows: list[Size] = Field(min_length=1, description="row heights top to bottom, mm")
    stroke: Stroke = 0.35


class Circle(_Model):
    """A printed circle (the example bubbles of the filling instruction)."""

    kind: Literal["circle"] = Field(description="decoration kind")
    cx: Mm = Field(description="centre x, mm")
    cy: Mm = Field(description="centre y, mm")
    r: Size = Field(description="radius, mm")
    stroke: Stroke = 0.35
    fill: Grey = 0


Decor = Annotated[Text | Box | Line | Grid | Circle, Field(discriminator="kind")]


class BoxStyle(_Model):
    """How a page prints its digit boxes (the reader looks inside them, so it must know)."""

    stroke: Stroke = Field(description="border width in mm, centred on the box's edges")
    guides: Literal["none", "dots"] = Field(
        description='dots: a light grey dotted "8" inside each box that guides the writing '
        "(KPU's plano page 2); none: an empty box"
    )


class Page(_Model):
    """One sheet of the form."""

    number: int = Field(ge=1, le=99, description="page number, 1-based")
    width: Size = Field(description="page width, mm")
    height: Size = Field(description="page height, mm")
    marks: list[CornerMark] = Field(
        min_length=4,
        max_length=4,
        description="corner marks: top-left, top-right, bottom-right, bottom-left",
    )
    tag: Tag = Field(description="the page tag")
    qr: Qr = Field(description="where a QR code goes when one is printed (never required)")
    box_style: BoxStyle = Field(description="how the digit boxes are printed")
    page_label: Text = Field(description='"Halaman X dari N" as printed')
    fields: list[FieldSpec] = Field(default_factory=list, description="numbers read on this page")
    decor: list[Decor] = Field(
        default_factory=list, description="static print the kit does not read (lines, labels)"
    )

    @model_validator(mode="after")
    def _inside(self) -> Page:
        for f in self.fields:
            for b in f.boxes:
                if b.right > self.width or b.bottom > self.height:
                    raise ValueError(f"page {self.number}: a box of {f.id} is off the page")
        t = self.tag
        if t.x + t.size > self.width or t.y + t.size > self.height:
            raise ValueError(f"page {self.number}: the tag is off the page")
        return self


Terms = str | list[str]


class Rule(_Model):
    """One arithmetic relation, as data: exactly one of eq, le, expr or cap is given."""

    id: str = Field(pattern=FIELD_ID, description="stable rule id, reported when it fails")
    description: str = Field(min_length=1, description="what the rule says, for people")
    eq: tuple[Terms, Terms] | None = Field(
        default=None, description="[lhs, rhs]: sum of lhs field ids equals sum of rhs field ids"
    )
    le: tuple[Terms, Terms] | None = Field(
        default=None, description="[lhs, rhs]: sum of lhs is at most sum of rhs"
    )
    expr: str | None = Field(
        default=None, description='the relation as text, e.g. "V.C = V.A + V.B" or "a <= b"'
    )
    cap: list[str] | Literal["*"] | None = Field(
        default=None,
        description='fields (or "*" for all) that may not exceed the cap: '
        "max_voters plus the reserve",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Rule:
        given = [k for k in ("eq", "le", "expr", "cap") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"rule {self.id}: give exactly one of eq, le, expr, cap (got {given})")
        return self


class Option(_Model):
    """A candidate (pair) or the single-candidate race's KOLOM KOSONG, and its votes field."""

    number: int = Field(ge=1, le=99, description="ballot number (nomor urut)")
    label: str = Field(min_length=1, description="name line as printed on a blank form")
    field: str = Field(pattern=FIELD_ID, description="id of the field holding its votes")
    kolom_kosong: bool = Field(default=False, description='true for the "KOLOM KOSONG" option')


class Template(_Model):
    """A whole form: its pages, fields, options and rules."""

    format: Literal["tps-form-template/1"] = Field(description="template format and version")
    id: str = Field(pattern=TEMPLATE_ID, description="template id, e.g. ppwp-plano")
    version: int = Field(ge=1, le=10_000, description="bumped on any change to the file")
    title: str = Field(min_length=1, description="the form's name, e.g. MODEL C.HASIL-PPWP")
    description: str = Field(min_length=1, description="what the template covers, for people")
    election_kind: Literal["pemilu", "pilkada"] = Field(description="general or regional election")
    contest: Literal["ppwp", "dpr", "dpd", "dprd-prov", "dprd-kabko", "pkwkp", "pkwkk"] = Field(
        description="SIREKAP's contest code (pkwkp governor, pkwkk regent/mayor)"
    )
    sheet: Literal["plano", "a4"] = Field(description="plano count sheet or A4 copy (salinan)")
    example: bool = Field(default=False, description="a schema example, not a real form")
    page_count: int = Field(ge=1, le=99, description="number of pages")
    max_voters: int = Field(ge=1, le=10_000, description="most voters a TPS may have")
    reserve_permille: int = Field(
        ge=0, le=1000, description="reserve ballots per thousand voters (20 = 2 %)"
    )
    options: list[Option] = Field(default_factory=list, description="ballot options in order")
    pages: list[Page] = Field(min_length=1, description="the pages, in order")
    rules: list[Rule] = Field(default_factory=list, description="the arithmetic rules")

    @property
    def cap(self) -> int:
        """Largest value any count may hold: the TPS size plus its reserve ballots."""
        return self.max_voters + math.ceil(self.max_voters * self.reserve_permille / 1000)

    def fields(self) -> list[tuple[int, FieldSpec]]:
        """Every field with its page number, in page order."""
        return [(p.number, f) for p in self.pages for f in p.fields]

    def field(self, field_id: str) -> FieldSpec:
        for _, f in self.fields():
            if f.id == field_id:
                return f
        raise KeyError(field_id)

    def page(self, number: int) -> Page:
        for p in self.pages:
            if p.number == number:
                return p
        raise KeyError(number)

    @model_validator(mode="after")
    def _consistent(self) -> Template:
        if self.page_count != len(self.pages):
            raise ValueError(f"page_count is {self.page_count} but {len(self.pages)} pages given")
        if [p.number for p in self.pages] != list(range(1, len(self.pages) + 1)):
            raise ValueError("pages must be numbered 1, 2, 3... in order")
        ids = [f.id for _, f in self.fields()]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"field ids used twice: {dupes}")
        tags = [(p.tag.family, p.tag.id) for p in self.pages]
        if len(set(tags)) != len(tags):
            raise ValueError("two pages share a tag")
        for o in self.options:
            if o.field not in ids:
                raise ValueError(f"option {o.number} names unknown field {o.field!r}")
        rule_ids = [r.id for r in self.rules]
        if len(set(rule_ids)) != len(rule_ids):
            raise ValueError("rule ids must be unique")
        return self
