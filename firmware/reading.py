"""Reading a form from photo files, as ``tps-kit read`` and the one-shot scan do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edge.card.render import card_paths, render_card, write_card
from edge.decode.decide import DecodedForm, decode_form
from edge.errors import PageRefusedError
from edge.read.form import FormReading
from edge.read.images import load_grey
from edge.read.page import Expectation, PageReader, PageReading
from edge.read.report import form_report
from edge.recognition.model import DigitModel
from protocol.forms.loader import load, load_all
from protocol.kitconfig import load_kit_config
from protocol.tpsslice import load_official_dpt


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
    """Read one form's pages, each on its own: a refused page is reported in ``pages`` (in
    the order given) and the others are still read, so only it needs scanning again. The
    report carries the decoder's verdict and per-field decisions once a page was read;
    ``card`` writes the review card(s)."""
    expect, forms = expectation(config, tps, election)
    loaded = [load(f) for f in forms] if forms else load_all()
    digit_model = DigitModel.load(model)
    others = [t.template for t in load_all()]
    reader = PageReader([t.template for t in loaded], digit_model, expect=expect, others=others)
    form, frames, outcomes = read_each(reader, paths)
    template = form.template
    shas = {t.template.id: t.sha256 for t in loaded}
    owner_tps, owner_election = owner(expect, form)
    report = form_report(
        form,
        model_sha256=digit_model.sha256,
        template_sha256=None if template is None else shas[template.id],
        tps=owner_tps,
        election=owner_election,
    )
    read = {p["page"]: p for p in report["pages"]}
    report["pages"] = [o | read[o["page"]] if o["outcome"] == "read" else o for o in outcomes]
    if form.pages:
        dpt = None
        # The kit's own TPS (not one named by --tps/--election): its bundle's official voter
        # list checks rows I.A.
        if config is not None and not (tps or election) and expect.tps and expect.election:
            dpt = load_official_dpt(config.parent, tps=expect.tps, election=expect.election)
        decoded = decode_form(form, dpt=dpt)
        add_decisions(report, decoded)
        if card is not None:
            report["cards"] = write_cards(card, form, frames, decoded)
    return report


def read_each(
    reader: PageReader, paths: list[Path]
) -> tuple[FormReading, dict[int, np.ndarray], list[dict[str, Any]]]:
    """The form from the pages that could be read, their frames, and every page's outcome in
    the order given: one refused page does not stop the others."""
    form, frames = FormReading(), {}
    outcomes = [_attempt(reader, form, frames, path) for path in paths]
    if form.template is not None:
        # A page whose tag is unknown and whose print several forms share is named once
        # another page has told which form this is: read such pages again.
        for at, outcome in enumerate(outcomes):
            if outcome["outcome"] == "refused" and outcome["kind"] == "TagNotFoundError":
                outcomes[at] = _attempt(reader, form, frames, Path(outcome["file"]))
    return form, frames, outcomes


def _attempt(
    reader: PageReader, form: FormReading, frames: dict[int, np.ndarray], path: Path
) -> dict[str, Any]:
    """Read one page into ``form`` and ``frames``; its outcome for the report."""
    try:
        page, frame = _read_page(reader, form, path)
    except PageRefusedError as e:
        return refusal(path, e)
    frames[page.page] = frame
    return {"file": str(path), "page": page.page, "outcome": "read"}


def _read_page(reader: PageReader, form: FormReading, path: Path) -> tuple[PageReading, np.ndarray]:
    frame, data = load_grey(path)
    hint = None if form.template is None else form.template.id
    page = reader.read(frame, data, form_hint=hint)
    try:
        form.add(page)
    except PageRefusedError as e:
        # The reader named the page even though the form would not take it (a duplicate).
        e.page = page.page if e.page is None else e.page
        raise
    return page, frame


def refusal(path: Path, error: PageRefusedError) -> dict[str, Any]:
    """A refused page in the report: ``page`` is null when the reader never learnt it."""
    return {
        "file": str(path),
        "page": error.page,
        "outcome": "refused",
        "kind": type(error).__name__,
        "message": str(error),
        "pesan": error.pesan,
    }


def owner(expect: Expectation, form: FormReading) -> tuple[str | None, str | None]:
    """The TPS and election: the kit's own (kit.toml, --tps/--election) where given, since
    KPU's sheets carry no QR code; else what a QR code printed on one of our sheets says."""
    qr = next((p.qr for _, p in sorted(form.pages.items()) if p.qr is not None), None)
    tps = expect.tps or (None if qr is None else qr.tps)
    election = expect.election or (None if qr is None else qr.election)
    return tps, election


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


RESCAN = "pindai ulang halaman itu saja"  # the other pages stand


def format_report(report: dict[str, Any]) -> str:
    """The table for people: the refused pages first, each named, then the form as read."""
    lines = [
        line
        for position, page in enumerate(report["pages"], 1)
        if page["outcome"] == "refused"
        for line in refused_lines(position, page)
    ]
    if report["form"] is None:
        return "\n".join([*lines, "no page could be read (tidak ada halaman yang terbaca)"])
    read = sorted(p["page"] for p in report["pages"] if p["outcome"] == "read")
    lines += [
        f"{report['form']} v{report['form_version']}  TPS {report['tps'] or '-'}  "
        f"{report['election'] or '-'}",
        f"pages read: {', '.join(map(str, read))}"
        + (f"   missing: {report['missing_pages']}" if report["missing_pages"] else ""),
    ]
    lines += [field_line(field_id, f) for field_id, f in report["fields"].items()]
    if "verdict" in report:
        lines.append(f"verdict: {report['verdict']}   screen: {report['summary']}")
    return "\n".join(lines)


def refused_lines(position: int, page: dict[str, Any]) -> list[str]:
    """By its number where the reader knew it, else by its file and place on the command line;
    the screen's Indonesian for the KPPS, then the technician's English."""
    name = f"{page['file']} (ke-{position})" if page["page"] is None else f"Halaman {page['page']}"
    # A duplicate or another form's page needs taking away, not scanning again.
    hint = "" if page["kind"] == "WrongPageError" else f" ({RESCAN})"
    return [f"{name}: {page['pesan']}{hint}", f"  {page['file']}: {page['message']}"]


def field_line(field_id: str, f: dict[str, Any]) -> str:
    value = "-" if f["value"] is None else str(f["value"])
    bubbles = f.get("bubbles")
    extra = "" if bubbles is None else f"   bubbles {bubbles['value']}"
    decided = ""
    if "decision" in f:
        shown = "-" if f["decided"] is None else str(f["decided"])
        decided = f"   -> {shown:>5} {f['decision']}"
    return f"  {field_id:<12} {value:>5}   p={f['p']:.3f}{extra}{decided}"
