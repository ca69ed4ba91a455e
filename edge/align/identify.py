"""Naming a page by its printed layout, for pages whose tag on KPU's sheet is not known yet.

Where a template's tag id is our own (``assigned_by: project``), KPU's sheet of that page
carries a tag the kit cannot read as ours. The corner marks still place the page; in each
orientation the marks allow, every such page of the kit's forms is tried: its fields' digit
boxes are looked for where it would print them (edge.align.refine), and the page whose boxes
are found clearly, and clearly better than any other's, is the page. Pages printed with the
very same boxes (page 1 of the governor's and of the regent's form) cannot be told apart this
way: the caller's hint (the form being scanned) decides, or the page is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge.align.geometry import PageGeometry
from edge.align.refine import Anchor, box_anchor, find_shifts

# A few fields spread over the page tell it apart; all of them would cost more than reading.
FIELDS_TRIED = 8
REACH_MM = 6.0


@dataclass(frozen=True)
class LayoutMatch:
    page: PageGeometry
    homography: np.ndarray  # template mm -> frame px
    score: float  # correlation of its worst-found field's boxes with the photograph
    offset_mm: float  # the largest distance of its boxes from where the marks put them


def anchors(page: PageGeometry) -> list[Anchor]:
    """Up to FIELDS_TRIED fields' boxes, spread from the first field to the last."""
    fields = page.fields
    if not fields:
        return []
    picks = sorted({round(i) for i in np.linspace(0, len(fields) - 1, FIELDS_TRIED)})
    return [box_anchor(f"field {i}", fields[i], page.box_stroke) for i in picks]


def match(frame: np.ndarray, page: PageGeometry, homography: np.ndarray) -> LayoutMatch:
    shifts = find_shifts(frame, homography, anchors(page), REACH_MM)
    if not shifts:
        return LayoutMatch(page, homography, 0.0, 0.0)
    score = min(s.score for s in shifts)  # every box of the page must be there
    return LayoutMatch(page, homography, score, max(s.distance for s in shifts))


def _within(a: PageGeometry, b: PageGeometry) -> bool:
    """Whether every box of ``a`` is printed on ``b`` too, and ``b`` prints more."""
    boxes_a = {box for field in a.fields for box in field}
    boxes_b = {box for field in b.fields for box in field}
    return a.marks == b.marks and boxes_a < boxes_b


def same_print(a: PageGeometry, b: PageGeometry) -> bool:
    """Pages whose marks and boxes are printed alike cannot be told apart by layout."""
    return a.marks == b.marks and a.fields == b.fields


def choose(
    matches: Sequence[LayoutMatch], min_score: float, margin: float, hint: str | None
) -> tuple[LayoutMatch | None, list[LayoutMatch]]:
    """The best match and, if it cannot be told apart from others, those others.

    (best, []) is a clear answer; (None, []) is no page at all; (None, rivals) is a page
    that could be any of ``rivals`` (each printed alike, none preferred by ``hint``).
    """
    good = sorted((m for m in matches if m.score >= min_score), key=lambda m: -m.score)
    if not good:
        return None, []
    best = good[0]
    close = [m for m in good if m.score >= best.score - margin]
    # A page whose boxes are all among another's (2 options where 3 are printed) is that
    # other page seen in part: the page with every printed box found is the more specific.
    close = [m for m in close if not any(_within(m.page, o.page) for o in close)]
    best = close[0]
    if len(close) == 1:
        return best, []
    alike = [m for m in close if same_print(m.page, best.page)]
    if len(alike) == len(close):
        preferred = [m for m in alike if m.page.form == hint]
        if len(preferred) == 1:
            return preferred[0], []
    return None, close


def larger_print(
    frame: np.ndarray, best: LayoutMatch, others: Sequence[PageGeometry], min_score: float
) -> PageGeometry | None:
    """A page of another form that prints all of ``best``'s boxes and more, if those extra
    boxes are on the sheet too; the one with most boxes. Only the extra fields are looked
    for: the ones they share were found already."""
    found = None
    ours = {box for field in best.page.fields for box in field}
    for other in sorted(others, key=lambda p: -len(p.fields)):
        if not _within(best.page, other):
            continue
        extra = [f for f in other.fields if not set(f) <= ours]
        anchors = [box_anchor(f"extra {i}", f, other.box_stroke) for i, f in enumerate(extra)]
        shifts = find_shifts(frame, best.homography, anchors[:FIELDS_TRIED], REACH_MM)
        if shifts and min(s.score for s in shifts) >= min_score:
            found = other
            break
    return found
