"""Every shipped template page is printable and readable: nothing the kit reads is drawn over.

The kit reads the interior of each digit box (and, where the form has them, the bubbles), and
finds the page by its corner marks, tag and QR code. A printed line running through a digit
box is read as ink; a label inside a mark's quiet zone spoils the mark. These tests compute,
from the template data alone (no rendering), where every printed thing lies and check:

1. no decoration (lines, box edges and fills, grid lines, text extents, circles), no other
   digit box's edge and no bubble passes through the interior of any digit box (the box
   shrunk by ``INSET`` on each side);
2. digit boxes do not overlap each other;
3. bubbles do not overlap boxes or each other;
4. boxes, bubbles, the tag and the QR code (each with its quiet zone) and the corner marks
   (with theirs) lie on the page and do not overlap each other;
5. nothing printed falls inside a corner mark's, the tag's or the QR code's quiet zone.

Text is measured approximately (Helvetica-like advance widths, cap height and descenders),
which is what the PDF prints; the raster backend's Hershey font is narrower.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from protocol.forms import load_all, load_template
from protocol.forms.schema import Box, Circle, Grid, Line, Page, Template, Text

INSET = 0.8  # mm: the part of a digit box the reader treats as its interior
EPS = 0.01  # mm: touching is not overlapping
DOT_RADIUS = 0.2  # mm: the dots of a dotted line (provisioning/forms/raster.py)


# --- geometry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class R:
    """An axis-aligned rectangle by its edges, mm."""

    x0: float
    y0: float
    x1: float
    y1: float

    def grow(self, d: float) -> R:
        return R(self.x0 - d, self.y0 - d, self.x1 + d, self.y1 + d)

    def overlaps(self, o: R) -> bool:
        return (
            min(self.x1, o.x1) - max(self.x0, o.x0) > EPS
            and min(self.y1, o.y1) - max(self.y0, o.y0) > EPS
        )

    def inside(self, width: float, height: float) -> bool:
        return (
            self.x0 >= -EPS
            and self.y0 >= -EPS
            and self.x1 <= width + EPS
            and (self.y1 <= height + EPS)
        )

    def __str__(self) -> str:
        return f"[{self.x0:.2f},{self.y0:.2f} - {self.x1:.2f},{self.y1:.2f}]"


def rect(x: float, y: float, w: float, h: float) -> R:
    return R(x, y, x + w, y + h)


@dataclass(frozen=True)
class Seg:
    """A stroked straight line."""

    x1: float
    y1: float
    x2: float
    y2: float
    half: float  # half the stroke width

    def hits(self, r: R) -> bool:
        """Whether the stroke covers part of the open rectangle ``r`` (Liang-Barsky clip)."""
        g = r.grow(self.half - EPS)
        if g.x1 <= g.x0 or g.y1 <= g.y0:
            return False
        dx, dy = self.x2 - self.x1, self.y2 - self.y1
        t0, t1 = 0.0, 1.0
        for p, q in (
            (-dx, self.x1 - g.x0),
            (dx, g.x1 - self.x1),
            (-dy, self.y1 - g.y0),
            (dy, g.y1 - self.y1),
        ):
            if p == 0:
                if q <= 0:
                    return False
                continue
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
            if t0 >= t1:
                return False
        return True


@dataclass(frozen=True)
class Ring:
    """A stroked circle, filled or not."""

    cx: float
    cy: float
    r: float
    half: float
    filled: bool

    def hits(self, r: R) -> bool:
        nx = min(max(self.cx, r.x0), r.x1)
        ny = min(max(self.cy, r.y0), r.y1)
        near = math.hypot(nx - self.cx, ny - self.cy)
        far = max(math.hypot(x - self.cx, y - self.cy) for x in (r.x0, r.x1) for y in (r.y0, r.y1))
        if near >= self.r + self.half - EPS:
            return False  # wholly outside the circle
        return self.filled or far > self.r - self.half + EPS  # not wholly in the empty middle


@dataclass(frozen=True)
class Area:
    """Ink over a whole rectangle: a fill, a solid mark, a text's extent."""

    r: R

    def hits(self, r: R) -> bool:
        return self.r.overlaps(r)


Ink = Seg | Ring | Area

# Advance widths in em, about Helvetica's (bold is a little wider: BOLD scales them).
NARROW, WIDE, BOLD = set("iljtfrI.,:;!|'() "), set("mwMW@%"), 1.06


def text_extent(t: Text) -> R:
    """The rectangle a printed text covers, approximately (as provisioning/forms draws it)."""
    em = 0.0
    for c in t.text:
        if c in NARROW:
            em += 0.3
        elif c in WIDE:
            em += 0.88
        elif c.isupper():
            em += 0.7
        else:
            em += 0.56
    width = em * t.size * (BOLD if t.bold else 1.0)
    top, bottom = 0.75 * t.size, (0.22 * t.size if set(t.text) & set("gjpqyQ(),;_") else 0.0)
    if t.rotate:  # turned 90 degrees, centred on its anchor (pdf.py and raster.py)
        half = (top + bottom) / 2
        return R(t.x - half, t.y - width / 2, t.x + half, t.y + width / 2)
    x0 = t.x - {"left": 0.0, "centre": width / 2, "right": width}[t.align]
    return R(x0, t.y - top, x0 + width, t.y + bottom)


def edges(r: R, stroke: float) -> list[Seg]:
    h = stroke / 2
    return [
        Seg(r.x0, r.y0, r.x1, r.y0, h),
        Seg(r.x1, r.y0, r.x1, r.y1, h),
        Seg(r.x1, r.y1, r.x0, r.y1, h),
        Seg(r.x0, r.y1, r.x0, r.y0, h),
    ]


def decor_ink(item: Text | Box | Line | Grid | Circle) -> list[Ink]:
    if isinstance(item, Text):
        return [Area(text_extent(item))]
    if isinstance(item, Box):
        r = rect(item.x, item.y, item.w, item.h)
        ink: list[Ink] = edges(r, item.stroke) if item.stroke else []
        return [*ink, Area(r)] if item.fill else ink
    if isinstance(item, Line):
        half = max(item.stroke / 2, DOT_RADIUS) if item.dotted else item.stroke / 2
        return [Seg(item.x1, item.y1, item.x2, item.y2, half)]
    if isinstance(item, Circle):
        return [Ring(item.cx, item.cy, item.r, item.stroke / 2, bool(item.fill))]
    xs = [item.x + sum(item.cols[:i]) for i in range(len(item.cols) + 1)]
    ys = [item.y + sum(item.rows[:i]) for i in range(len(item.rows) + 1)]
    h = item.stroke / 2
    return [Seg(x, ys[0], x, ys[-1], h) for x in xs] + [Seg(xs[0], y, xs[-1], y, h) for y in ys]


# Digit boxes and bubbles are printed with these strokes (provisioning/forms/draw.py).
BOX_STROKE, BUBBLE_STROKE = 0.5, 0.35


@dataclass(frozen=True)
class Printed:
    """One printed thing on a page (named for the failure message) and where its ink lies."""

    name: str
    ink: list[Ink]


@dataclass(frozen=True)
class Zone:
    """Something the kit finds or reads, with the white space it needs around it."""

    name: str
    body: R  # what is printed
    clear: R  # body plus its quiet zone: nothing else may print here


def qr_caption(page: Page) -> list[Text]:
    """The TPS and election lines printed under the QR code (provisioning/forms/draw.py)."""
    q = page.qr
    size = q.size * 0.1
    below = q.y + q.size + q.quiet + size
    cx = q.x + q.size / 2
    # The longest TPS code and a long election id, to be safe.
    return [
        Text(
            kind="text",
            x=cx,
            y=below,
            text="TPS 99.99.99.9999.999",
            size=size,
            bold=True,
            align="centre",
        ),
        Text(
            kind="text",
            x=cx,
            y=below + size * 1.3,
            text="pemilu-2024-putaran-2",
            size=size * 0.8,
            align="centre",
        ),
    ]


def page_items(page: Page) -> tuple[list[Printed], list[tuple[str, R]], list[Zone]]:
    """(printed decoration, digit boxes by field, the readable things with their zones)."""
    printed = [Printed(f"decor[{i}] {d.kind}", decor_ink(d)) for i, d in enumerate(page.decor)]
    printed.append(Printed("page_label", [Area(text_extent(page.page_label))]))
    printed += [Printed(f"qr caption {t.text!r}", [Area(text_extent(t))]) for t in qr_caption(page)]
    boxes = [
        (f"{f.id}[{i}]", rect(b.x, b.y, b.w, b.h))
        for f in page.fields
        for i, b in enumerate(f.boxes)
    ]
    zones = [Zone(name, r, r) for name, r in boxes]
    for f in page.fields:
        for i, col in enumerate(f.bubbles or []):
            for digit in range(10):
                cx, cy = col.centre(digit)
                r = col.r + BUBBLE_STROKE / 2
                zones.append(
                    Zone(
                        f"{f.id}[{i}] bubble {digit}",
                        R(cx - r, cy - r, cx + r, cy + r),
                        R(cx - r, cy - r, cx + r, cy + r),
                    )
                )
    for k, m in enumerate(page.marks):
        body = rect(m.x, m.y, m.size, m.size)
        zones.append(Zone(f"mark {k}", body, body.grow(m.quiet)))
    t, q = page.tag, page.qr
    tag = rect(t.x, t.y, t.size, t.size)
    qr = rect(q.x, q.y, q.size, q.size)
    zones += [Zone("tag", tag, tag.grow(t.quiet)), Zone("qr", qr, qr.grow(q.quiet))]
    return printed, boxes, zones


def bubble_rings(page: Page) -> list[tuple[str, Ring]]:
    return [
        (f"{f.id}[{i}] bubble {d}", Ring(*col.centre(d), col.r, BUBBLE_STROKE / 2, False))
        for f in page.fields
        for i, col in enumerate(f.bubbles or [])
        for d in range(10)
    ]


# --- the checks -----------------------------------------------------------------------------


def through_boxes(page: Page) -> list[str]:
    """Check 1: printed things whose ink enters a digit box's interior."""
    printed, boxes, _ = page_items(page)
    printed += [Printed(f"box {name}", edges(r, BOX_STROKE)) for name, r in boxes]
    printed += [Printed(name, [ring]) for name, ring in bubble_rings(page)]
    bad = []
    for name, r in boxes:
        inner = r.grow(-INSET)
        for p in printed:
            if p.name == f"box {name}":
                continue
            if any(ink.hits(inner) for ink in p.ink):
                bad.append(f"{p.name} runs through the interior of digit box {name} {r}")
    return bad


def overlapping_boxes(page: Page) -> list[str]:
    """Check 2: digit boxes overlapping each other (in one field or two)."""
    _, boxes, _ = page_items(page)
    return [
        f"digit boxes {a} {ra} and {b} {rb} overlap"
        for i, (a, ra) in enumerate(boxes)
        for b, rb in boxes[i + 1 :]
        if ra.overlaps(rb)
    ]


def overlapping_bubbles(page: Page) -> list[str]:
    """Check 3: bubbles overlapping a digit box or another bubble."""
    _, boxes, _ = page_items(page)
    rings = bubble_rings(page)
    bad = []
    for i, (a, ra) in enumerate(rings):
        for name, r in boxes:
            if Ring(ra.cx, ra.cy, ra.r, ra.half, True).hits(r.grow(BOX_STROKE / 2)):
                bad.append(f"{a} overlaps digit box {name}")
        for b, rb in rings[i + 1 :]:
            if math.hypot(ra.cx - rb.cx, ra.cy - rb.cy) < ra.r + ra.half + rb.r + rb.half - EPS:
                bad.append(f"{a} overlaps {b}")
    return bad


def misplaced_zones(page: Page) -> list[str]:
    """Check 4: readable things off the page or over each other (quiet zones included)."""
    *_, zones = page_items(page)
    bad = [
        f"{z.name} {z.clear} is not inside the page"
        for z in zones
        if not z.clear.inside(page.width, page.height)
    ]
    for i, a in enumerate(zones):
        for b in zones[i + 1 :]:
            if a.clear == a.body and b.clear == b.body:
                continue  # box/bubble pairs: checks 2 and 3 say it more precisely
            if a.clear.overlaps(b.body) or b.clear.overlaps(a.body):
                bad.append(f"{a.name} {a.clear} and {b.name} {b.clear} overlap")
    return bad


# Known, measured intrusions let through, mm: (printed thing, zone) -> depth allowed.
# The plano sheets print "Halaman X dari 3" where KPU's genuine sheet does, its baseline 2.4 mm
# above the tag block, while the templates declare a 2.5 mm quiet zone. Raising the label
# changes every plano template, and tests elsewhere pin those at version 1; left for the lead.
ALLOWED = {("page_label", "tag"): 0.15}


def in_quiet_zones(page: Page) -> list[str]:
    """Check 5: printed decoration, labels and captions inside a mark's, the tag's or QR's zone."""
    printed, _, zones = page_items(page)
    bad = []
    for z in zones:
        if z.clear == z.body:
            continue
        for p in printed:
            zone = z.clear.grow(-ALLOWED.get((p.name, z.name), 0.0))
            if any(ink.hits(zone) for ink in p.ink):
                bad.append(f"{p.name} prints inside the quiet zone of {z.name} {z.clear}")
    return bad


CHECKS = [through_boxes, overlapping_boxes, overlapping_bubbles, misplaced_zones, in_quiet_zones]
PAGES = [(lt.template.id, p.number) for lt in load_all() for p in lt.template.pages]


def _page(template_id: str, number: int) -> Page:
    return load_template(template_id).page(number)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize(("template_id", "number"), PAGES, ids=[f"{t}-p{n}" for t, n in PAGES])
def test_page_geometry(template_id: str, number: int, check) -> None:
    bad = check(_page(template_id, number))
    assert not bad, f"{template_id} page {number}:\n  " + "\n  ".join(bad)


def test_every_template_and_page_is_checked():
    loaded = load_all()
    assert len(PAGES) == sum(lt.template.page_count for lt in loaded)
    assert {t for t, _ in PAGES} == {lt.template.id for lt in loaded}
    assert all(p.fields for lt in loaded for p in lt.template.pages)


# --- the checks catch what they are for ---------------------------------------------------


def _salinan() -> Template:
    return load_template("ppwp-salinan")


def _with(page: Page, **update: object) -> Page:
    return page.model_copy(update=update)


def test_a_row_line_through_the_boxes_is_caught():
    """The salinan's section II bug: boxes half a row off the table's row lines."""
    page = _salinan().page(1)
    moved = []
    for f in page.fields:
        if f.id.startswith("II."):
            f = f.model_copy(
                update={"boxes": [b.model_copy(update={"y": b.y + 3.6}) for b in f.boxes]}
            )
        moved.append(f)
    bad = through_boxes(_with(page, fields=moved))
    assert any("runs through the interior of digit box II.1[0]" in b for b in bad), bad


def test_text_circles_fills_and_other_boxes_are_caught():
    page = _salinan().page(2)
    b = page.fields[0].boxes[1]
    cx, cy = b.x + b.w / 2, b.y + b.h / 2
    for item in (
        Text(kind="text", x=cx, y=cy, text="8", size=2.0),
        Circle(kind="circle", cx=cx, cy=cy, r=b.w / 2, stroke=0.35),
        Box(kind="box", x=b.x - 10, y=b.y - 10, w=b.w + 20, h=b.h + 20, fill=10),
        Line(kind="line", x1=cx, y1=b.y - 5, x2=cx, y2=b.bottom + 5, dotted=True),
    ):
        assert through_boxes(_with(page, decor=[*page.decor, item])), item
    # A frame around the box, a circle inside its empty middle, a label beside it: fine.
    for item in (
        Box(kind="box", x=b.x - 1, y=b.y - 1, w=b.w + 2, h=b.h + 2, stroke=0.5),
        Circle(kind="circle", cx=cx, cy=cy, r=40.0, stroke=0.35),
        Text(kind="text", x=b.x - 40, y=b.bottom - 1, text="label", size=2.0),
    ):
        bad = through_boxes(_with(page, decor=[*page.decor, item]))
        assert not [x for x in bad if f"box {page.fields[0].id}[1] " in x], (item, bad)
    shifted = page.fields[1].model_copy(
        update={"boxes": [x.model_copy(update={"y": b.y + 2}) for x in page.fields[1].boxes]}
    )
    assert overlapping_boxes(_with(page, fields=[page.fields[0], shifted]))


def test_quiet_zone_and_bubble_violations_are_caught():
    page = load_template("ppwp-plano").page(2)
    m = page.marks[0]
    near = Text(kind="text", x=m.x + m.size + 1, y=m.y + m.size / 2, text="x", size=2.0)
    assert in_quiet_zones(_with(page, decor=[near]))
    assert misplaced_zones(
        _with(page, qr=page.qr.model_copy(update={"x": page.tag.x, "y": page.tag.y}))
    )
    assert misplaced_zones(_with(page, qr=page.qr.model_copy(update={"x": page.width - 5})))
    f = page.fields[0]
    assert f.bubbles is not None
    tight = [c.model_copy(update={"pitch": c.r}) for c in f.bubbles]
    assert overlapping_bubbles(_with(page, fields=[f.model_copy(update={"bubbles": tight})]))
    up = [c.model_copy(update={"cy0": f.boxes[0].bottom}) for c in f.bubbles]
    assert overlapping_bubbles(_with(page, fields=[f.model_copy(update={"bubbles": up})]))
