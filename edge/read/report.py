"""What ``tps-kit read --json`` prints: every field's value, probability and evidence."""

from __future__ import annotations

from typing import Any

from edge.read.bubbles import bubble_value
from edge.read.form import FormReading
from edge.read.page import FieldReading


def _field(page: int, reading: FieldReading) -> dict[str, Any]:
    number = reading.number
    out: dict[str, Any] = {
        "value": number.value,
        "p": round(number.p, 4),
        "page": page,
        "label": reading.spec.label,
        "alternatives": [[v, round(p, 4)] for v, p in number.alternatives],
        "boxes": [[[c, p] for c, p in top] for top in number.boxes],
        "moved_mm": round(reading.moved_mm, 2),
    }
    if reading.bubbles:
        out["bubbles"] = {
            "value": bubble_value(list(reading.bubbles)),
            "columns": [
                {"digit": b.digit, "state": b.state, "fill": list(b.fill)} for b in reading.bubbles
            ],
        }
    return out


def form_report(
    form: FormReading,
    *,
    model_sha256: str,
    template_sha256: str | None,
    tps: str | None,
    election: str | None,
) -> dict[str, Any]:
    """The form as read so far. With no page read it is still the same object, its form
    null and its fields empty, so a caller always gets one shape."""
    template = form.template
    return {
        "form": None if template is None else template.id,
        "form_version": None if template is None else template.version,
        "template_sha256": template_sha256,
        "model_sha256": model_sha256,
        "election": election,
        "tps": tps,
        "complete": form.complete,
        "missing_pages": form.missing,
        "pages": [
            {
                "page": n,
                "sha256": p.image_sha256,
                "px_per_mm": round(p.alignment.px_per_mm, 3),
                "reprojection_mm": round(p.alignment.reprojection_mm, 3),
                "sharpness": round(p.alignment.sharpness, 3),
            }
            for n, p in sorted(form.pages.items())
        ],
        "fields": {fid: _field(page, r) for fid, (page, r) in form.fields().items()},
    }
