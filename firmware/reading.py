"""Reading a form from photo files, as ``tps-kit read`` and the one-shot scan do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edge.read.form import FormReading
from edge.read.images import load_grey
from edge.read.page import Expectation, PageReader
from edge.read.report import form_report
from edge.recognition.model import DigitModel
from protocol.forms.loader import load, load_all
from protocol.kitconfig import load_kit_config


def expectation(
    config: Path | None, tps: str | None, election: str | None
) -> tuple[Expectation, list[str] | None]:
    """What pages may be read: from a kit.toml, narrowed by explicit --tps/--election."""
    forms: list[str] | None = None
    if config is not None:
        kit = load_kit_config(config)
        tps, election = tps or kit.kit.tps, election or kit.kit.election
        forms = list(kit.forms.ids)
    return Expectation(election, tps, tuple(forms or ())), forms


def read_pages(
    paths: list[Path],
    *,
    config: Path | None = None,
    tps: str | None = None,
    election: str | None = None,
    model: Path | None = None,
) -> dict[str, Any]:
    """Read one form's pages; raise the first page's refusal, if any."""
    expect, forms = expectation(config, tps, election)
    loaded = [load(f) for f in forms] if forms else load_all()
    digit_model = DigitModel.load(model)
    reader = PageReader([t.template for t in loaded], digit_model, expect=expect)
    form = FormReading()
    for path in paths:
        frame, data = load_grey(path)
        form.add(reader.read(frame, data))
    template = form.template
    assert template is not None
    sha = next(t.sha256 for t in loaded if t.template.id == template.id)
    report = form_report(form, model_sha256=digit_model.sha256, template_sha256=sha)
    report["pages"] = [
        dict(p, file=str(path)) for p, path in zip(report["pages"], paths, strict=False)
    ]
    return report


def format_report(report: dict[str, Any]) -> str:
    lines = [
        f"{report['form']} v{report['form_version']}  TPS {report['tps']}  {report['election']}",
        f"pages read: {', '.join(str(p['page']) for p in report['pages'])}"
        + (f"   missing: {report['missing_pages']}" if report["missing_pages"] else ""),
    ]
    for field_id, f in report["fields"].items():
        value = "-" if f["value"] is None else str(f["value"])
        bubbles = f.get("bubbles")
        extra = "" if bubbles is None else f"   bubbles {bubbles['value']}"
        lines.append(f"  {field_id:<12} {value:>5}   p={f['p']:.3f}{extra}")
    return "\n".join(lines)
