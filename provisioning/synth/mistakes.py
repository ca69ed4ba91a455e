"""Deliberately wrong paper, as real KPPS make it: a sum added up wrongly, a bubble
blackened for another digit than the one written in its box.

The kit must report such a form as a paper mistake, not "fix" it; the safety benchmark and
the decoder's tests use these to check that it does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from protocol.forms.rules import compile_rules
from protocol.forms.schema import Template
from provisioning.forms.raster import render_page
from provisioning.synth.handwriting import fill_bubble, number_boxes

DELTAS = (-10, -2, -1, 1, 2, 10)  # a carry forgotten, a slip of one or two


@dataclass(frozen=True)
class Mistake:
    kind: str  # "sum" or "bubble"
    field: str
    page: int
    written: int  # sum: the wrong total written; bubble: the digit blackened
    right: int  # sum: the correct total; bubble: the digit written in the box
    box: int | None = None  # bubble: which box's column


def sum_fields(template: Template) -> list[str]:
    """Fields a KPPS computes: the lone side of an equation whose other side is a sum."""
    out = set()
    for r in compile_rules(template):
        if r.op == "=" and r.limit is None:
            if len(r.lhs) == 1 and len(r.rhs) > 1:
                out.add(r.lhs[0])
            if len(r.rhs) == 1 and len(r.lhs) > 1:
                out.add(r.rhs[0])
    return sorted(out)


def wrong_sum(
    template: Template, values: dict[str, int], rng: np.random.Generator
) -> tuple[dict[str, int], Mistake]:
    """``values`` with one computed total written wrong (still a number the boxes hold)."""
    pages = {f.id: p for p, f in template.fields()}
    fields = sum_fields(template)
    while True:
        field = str(rng.choice(fields))
        wrong = values[field] + int(rng.choice(DELTAS))
        if 0 <= wrong <= min(template.cap, 999):
            break
    written = dict(values, **{field: wrong})
    return written, Mistake("sum", field, pages[field], wrong, values[field])


def wrong_bubble(
    template: Template,
    values: dict[str, int],
    rng: np.random.Generator,
    *,
    tps: str,
    election: str,
) -> tuple[Callable[[np.ndarray, float], None] | None, Mistake | None]:
    """A ``before_photo`` hook that blackens, in one vote's column, another bubble than the
    box's digit (the right bubble left clean), or (None, None) if the form has no bubbles.
    Pass the hook only for the mistake's page (``synthesize_form(only_pages=[page])``)."""
    choices = [
        (p, f, i, d)
        for p, f in template.fields()
        if f.bubbles
        for i, d in enumerate(number_boxes(values[f.id], f.digits))
        if d is not None
    ]
    if not choices:
        return None, None
    page, spec, index, digit = choices[int(rng.integers(len(choices)))]
    wrong = int(rng.choice([d for d in range(10) if d != digit]))
    column = spec.bubbles[index]  # type: ignore[index]
    seed = int(rng.integers(2**31))

    def before_photo(image: np.ndarray, k: float) -> None:
        blank = render_page(template, page, tps, election, k)
        # Clean the whole column back to print, then blacken the wrong bubble.
        x0 = int((column.cx - 2 * column.r) * k)
        x1 = int((column.cx + 2 * column.r) * k) + 1
        y0 = int((column.cy0 - 2 * column.r) * k)
        y1 = int((column.cy0 + 9 * column.pitch + 2 * column.r) * k) + 1
        image[y0:y1, x0:x1] = blank[y0:y1, x0:x1]
        cx, cy = column.centre(wrong)
        fill_bubble(image, (cx * k, cy * k), column.r * k, np.random.default_rng(seed), "good")

    return before_photo, Mistake("bubble", spec.id, page, wrong, digit, index)
