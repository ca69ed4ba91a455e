"""A form's fields as people read them: label, page, and which ballot option they count.

From the hub's copy of the form template; a form the hub has no template for still shows
its numbers, under their field ids in code order.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, Field

from protocol.forms.schema import FieldSpec
from protocol.limits import TOTAL, template_for


class FieldInfo(BaseModel):
    id: str = Field(description="the field id on the form, e.g. IV.1")
    label: str = Field(description="the row's label as printed (Indonesian); '' if unknown")
    page: int | None = Field(description="the form page that holds it")
    option: int | None = Field(description="the ballot number whose votes it holds, if any")
    box: list[float] | None = Field(
        None,
        description="where its digit boxes are written on its page: [x, y, width, height] in "
        "mm from the page's top-left corner (the rectified page image's frame)",
    )


class FormInfo(BaseModel):
    form: str = Field(description="the form template id, e.g. ppwp-plano")
    title: str | None = Field(description="the form's printed name, e.g. MODEL C.HASIL-PPWP")
    fields: list[FieldInfo] = Field(description="every field, in the form's order")
    headline: list[str] = Field(
        description="the fields a summary shows: each option's votes, then the total (V.C)"
    )


def form_info(form: str, seen: Iterable[str] = ()) -> FormInfo:
    """The template's fields, plus any ``seen`` field it lacks (so no number is hidden)."""
    template = template_for(form)
    if template is None:
        ids = sorted(set(seen))
        fields = [FieldInfo(id=f, label="", page=None, option=None) for f in ids]
        return FormInfo(form=form, title=None, fields=fields, headline=[])
    options = {o.field: o.number for o in template.options}
    fields = [
        FieldInfo(id=f.id, label=f.label, page=page, option=options.get(f.id), box=_outline(f))
        for page, f in template.fields()
    ]
    known = {f.id for f in fields}
    fields += [FieldInfo(id=f, label="", page=None, option=None) for f in sorted(set(seen) - known)]
    headline = [o.field for o in template.options] + [TOTAL]
    return FormInfo(form=form, title=template.title, fields=fields, headline=headline)


def _outline(spec: FieldSpec) -> list[float] | None:
    """The rectangle around a field's digit boxes, mm (rounded to 0.1)."""
    if not spec.boxes:
        return None
    left = min(b.x for b in spec.boxes)
    top = min(b.y for b in spec.boxes)
    right = max(b.right for b in spec.boxes)
    bottom = max(b.bottom for b in spec.boxes)
    return [round(left, 1), round(top, 1), round(right - left, 1), round(bottom - top, 1)]
