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
    }
    if reading.bubbles:
        out["bubbles"] = {
            "value": bubble_value(list(reading.bubbles)),
            "columns": [
                {"digit": b.digit, "state": b.state, "fill": list(b.fill)} for b in reading.bubbles
            ],
        }
    return out


def form_report(form: FormReading, *, model_sha256: str, template_sha256: str) -> dict[str, Any]:
    template = form.template
    if template is None:
        raise ValueError("no page was read")
    first = next(iter(form.pages.values()))
    return {
        "form": template.id,
        "form_version": template.version,
        "template_sha256": template_sha256,
        "model_sha256": model_sha256,
        "election": first.qr.election,
        "tps": first.qr.tps,
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
