"""PDF backend: blank forms for one or many TPS, one PDF, drawn with reportlab."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Literal

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from protocol.forms.schema import Template
from provisioning.errors import ProvisioningError
from provisioning.forms.draw import (
    DASH_MM,
    PCells,
    PCircle,
    PLine,
    PRect,
    Primitive,
    PText,
    page_primitives,
)
from provisioning.forms.identity import header_names, identity_primitives

SheetSize = Literal["plano", "a4"]
FONTS = {False: "Helvetica", True: "Helvetica-Bold"}


def write_pdf(
    template: Template,
    tps_codes: Iterable[str],
    election: str,
    out: Path,
    *,
    size: SheetSize = "plano",
    qr: bool = False,
    progress: Callable[[], None] | None = None,
    names: Callable[[str], Mapping[str, str] | None] = lambda _: None,
) -> int:
    """Write every page of ``template`` for each TPS into ``out``; return the page count.

    ``qr`` prints the optional QR code naming election, form, page and TPS on every page.
    ``names``: a TPS's region names by level (the manifest's), written with their codes
    in the header; without them, the codes alone.

    ``size="plano"`` prints at the template's own size; ``"a4"`` shrinks each page to fit A4
    (proofs on an office printer: the kit's geometry then no longer matches the sheet)."""
    tmp = _temp_beside(out)
    try:
        canvas = Canvas(str(tmp), pageCompression=1)
        canvas.setTitle(f"{template.title} ({template.id} v{template.version})")
        pages = 0
        for code in tps_codes:
            lines = header_names(code, names(code))
            for page in template.pages:
                _draw_page(canvas, template, page.number, code, election, size, qr, lines)
                pages += 1
            if progress is not None:
                progress()
        canvas.save()
        os.replace(tmp, out)
    except OSError as e:
        raise ProvisioningError(f"cannot write {out}: {e.strerror}") from e
    finally:
        tmp.unlink(missing_ok=True)
    return pages


def _temp_beside(out: Path) -> Path:
    # Fail before drawing hundreds of pages if the output cannot be written at all.
    if out.is_dir():
        raise ProvisioningError(f"cannot write {out}: it is a directory")
    try:
        fd, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    except OSError as e:
        raise ProvisioningError(f"cannot write {out}: {e.strerror} ({out.parent})") from e
    os.fchmod(fd, 0o644)  # a print file, not a secret (mkstemp makes it 0600)
    os.close(fd)
    return Path(name)


def _draw_page(
    canvas: Canvas,
    template: Template,
    number: int,
    tps: str,
    election: str,
    size: SheetSize,
    qr: bool,
    lines: Mapping[str, str],
) -> None:
    page = template.page(number)
    w, h = page.width * mm, page.height * mm
    if size == "a4":
        scale = min(A4[0] / w, A4[1] / h)
        canvas.setPageSize(A4)
        canvas.translate((A4[0] - w * scale) / 2, (A4[1] - h * scale) / 2)
        canvas.scale(scale, scale)
    else:
        canvas.setPageSize((w, h))
    for item in page_primitives(template, number, tps, election, qr=qr):
        draw(canvas, item, page.height)
    for text in identity_primitives(page, lines, _width):
        draw(canvas, text, page.height)
    canvas.showPage()


def draw(canvas: Canvas, item: Primitive, page_h: float) -> None:
    """Draw one primitive; mm with y down become points with y up."""

    def y(v: float) -> float:
        return (page_h - v) * mm

    canvas.setStrokeGray(0)
    if isinstance(item, PRect):
        _fill(canvas, item.fill)
        if item.stroke:
            canvas.setLineWidth(item.stroke * mm)
        canvas.rect(
            item.x * mm,
            y(item.y + item.h),
            item.w * mm,
            item.h * mm,
            stroke=int(item.stroke > 0),
            fill=int(item.fill > 0),
        )
    elif isinstance(item, PLine):
        canvas.setLineWidth(item.stroke * mm)
        canvas.setStrokeGray(1 - item.grey / 100)
        # Dots, as on the real form: near-zero dashes drawn with round caps.
        canvas.setLineCap(1 if item.dotted else 0)
        if item.dotted:
            canvas.setDash([0.01 * mm, 1.4 * mm])
        elif item.dashed:
            on, period = DASH_MM
            canvas.setDash([on * mm, (period - on) * mm])
        canvas.line(item.x1 * mm, y(item.y1), item.x2 * mm, y(item.y2))
        canvas.setDash([])
        canvas.setLineCap(0)
    elif isinstance(item, PCircle):
        _fill(canvas, item.fill)
        canvas.setLineWidth(item.stroke * mm)
        canvas.circle(item.cx * mm, y(item.cy), item.r * mm, stroke=1, fill=int(item.fill > 0))
    elif isinstance(item, PText):
        _text(canvas, item, y)
    else:
        _cells(canvas, item, y)


def _width(text: str, size: float, bold: bool) -> float:
    return stringWidth(text, FONTS[bold], size)


def _fill(canvas: Canvas, percent: int) -> None:
    canvas.setFillGray(1 - percent / 100)


def _text(canvas: Canvas, t: PText, y: Callable[[float], float]) -> None:
    _fill(canvas, t.grey)
    canvas.setFont(FONTS[t.bold], t.size * mm)
    canvas.saveState()
    canvas.translate(t.x * mm, y(t.y))
    if t.rotate:
        # A turned label is anchored at its centre: it sits beside something, not on a line.
        canvas.rotate(t.rotate)
        canvas.drawCentredString(0, -0.36 * t.size * mm, t.text)
    elif t.align == "centre":
        canvas.drawCentredString(0, 0, t.text)
    elif t.align == "right":
        canvas.drawRightString(0, 0, t.text)
    else:
        canvas.drawString(0, 0, t.text)
    canvas.restoreState()


def _cells(canvas: Canvas, c: PCells, y: Callable[[float], float]) -> None:
    # One path for all black cells: adjacent cells fill as one shape, with no hairline seams.
    path = canvas.beginPath()
    for r, row in enumerate(c.bits):
        for k, bit in enumerate(row):
            if bit:
                path.rect(
                    (c.x + k * c.cell) * mm, y(c.y + (r + 1) * c.cell), c.cell * mm, c.cell * mm
                )
    _fill(canvas, 100)
    canvas.drawPath(path, stroke=0, fill=1)
