"""Reading a form from photo files, as ``tps-kit read`` and the one-shot scan do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edge.card.render import card_paths, render_card, write_card
from edge.decode.decide import DecodedForm, decode_form
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
    card: Path | None = None,
) -> dict[str, Any]:
    """Read one form's pages; raise the first page's refusal, if any. The report carries
    the decoder's verdict and per-field decisions; ``card`` writes the review card(s)."""
    expect, forms = expectation(config, tps, election)
    loaded = [load(f) for f in forms] if forms else load_all()
    digit_model = DigitModel.load(model)
    reader = PageReader([t.template for t in loaded], digit_model, expect=expect)
    form, frames = FormReading(), {}
    for path in paths:
        frame, data = load_grey(path)
        page = reader.read(frame, data)
        form.add(page)
        frames[page.page] = frame
    template = form.template
    assert template is not None
    sha = next(t.sha256 for t in loaded if t.template.id == template.id)
    report = form_report(form, model_sha256=digit_model.sha256, template_sha256=sha)
    report["pages"] = [
        dict(p, file=str(path)) for p, path in zip(report["pages"], paths, strict=False)
    ]
    decoded = decode_form(form)
    add_decisions(report, decoded)
    if card is not None:
        report["cards"] = write_cards(card, form, frames, decoded)
    return report


def add_decisions(report: dict[str, Any], decoded: DecodedForm) -> None:
    """The decoder's outcome in the JSON: ``verdict``, ``summary``, ``problems``; per field
    ``decision`` (read / corrected / doubtful), ``decided`` (the value after decoding; the
    field's ``value`` stays what the boxes say), ``p_decided``, ``reason`` and ``before``."""
    report["verdict"] = decoded.verdict
    report["summary"] = decoded.summary
    report["problems"] = [
        {
            "kind": p.kind,
            "rule": p.rule_id,
            "fields": list(p.fields),
            "message": p.message,
            "pesan": p.pesan,
        }
        for p in decoded.problems
    ]
    for field_id, decided in decoded.fields.items():
        out = report["fields"][field_id]
        out.update(
            decision=decided.decision,
            decided=decided.value,
            p_decided=round(decided.p, 4),
            reason=decided.reason,
        )
        if decided.before is not None:
            out["before"] = decided.before


def write_cards(
    out: Path, form: FormReading, frames: dict[int, Any], decoded: DecodedForm
) -> list[str]:
    """One review card per page read (see edge.card.render.card_paths for the names)."""
    template = form.template
    assert template is not None
    paths = card_paths(out, sorted(form.pages), template.page_count)
    for number, path in paths.items():
        write_card(path, render_card(frames[number], form.pages[number], decoded))
    return [str(p) for p in paths.values()]


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
        decided = ""
        if "decision" in f:
            shown = "-" if f["decided"] is None else str(f["decided"])
            decided = f"   -> {shown:>5} {f['decision']}"
        lines.append(f"  {field_id:<12} {value:>5}   p={f['p']:.3f}{extra}{decided}")
    if "verdict" in report:
        lines.append(f"verdict: {report['verdict']}   screen: {report['summary']}")
    return "\n".join(lines)
