"""Reading one photographed page: align, check whose page it is, read every box and bubble."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from edge.align.aligner import AlignConfig, AlignedPage, Aligner
from edge.align.geometry import template_geometries
from edge.align.sample import BoxMm, bubble_darkness, sample_boxes
from edge.errors import ForeignFormError, PageRefusedError
from edge.read.bubbles import BubbleReading, read_column
from edge.read.numbers import NumberReading, read_number
from edge.read.placement import FieldPlace, place_fields
from edge.read.qr import read_qr
from edge.recognition.model import DigitModel
from edge.recognition.normalise import normalise_batch
from protocol.forms import layout
from protocol.forms.qr import QrPayload
from protocol.forms.schema import BoxStyle, FieldSpec, Page, Template

# The box is read this far inside its border's inner edge: a sliver of a 1 mm border left in
# the crop counts as ink when the digit is scaled, and shrinks it (normalise() erases thin ones).
BORDER_CLEARANCE_MM = 0.55


def box_inset(style: BoxStyle) -> float:
    """How far inside a box's printed edge (the middle of its border) it is read, mm."""
    return style.stroke / 2 + BORDER_CLEARANCE_MM


@dataclass(frozen=True)
class Expectation:
    """What this kit may scan: its election and TPS (from its certificate) and its forms."""

    election: str | None = None
    tps: str | None = None
    forms: tuple[str, ...] = ()


@dataclass(frozen=True)
class FieldReading:
    spec: FieldSpec
    number: NumberReading
    bubbles: tuple[BubbleReading, ...] = ()
    moved_mm: float = 0.0  # how far its boxes lay from where the marks put them (a fold)


@dataclass(frozen=True)
class PageReading:
    template: Template
    page: int
    qr: QrPayload | None  # None: the sheet carries no QR code (KPU prints none) or it is unreadable
    image_sha256: str
    alignment: AlignedPage
    fields: dict[str, FieldReading] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage

    @property
    def corners(self) -> list[list[int]]:
        """The page's homography as the document signs it (protocol.pageframe)."""
        return self.alignment.corners


class _Clock:
    """Seconds spent per stage of one page, for the benchmark's breakdown."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = self.laps.get(stage, 0.0) + now - self._last
        self._last = now


class PageReader:
    """Reads pages of the given templates with one model; refuses pages it must not read."""

    def __init__(
        self,
        templates: Sequence[Template],
        model: DigitModel,
        *,
        expect: Expectation | None = None,
        align_config: AlignConfig | None = None,
        others: Sequence[Template] = (),
    ) -> None:
        """``others``: every other form the kit knows (the shipped templates), so that a sheet
        of one is refused as such rather than read as the part of it that one of ``templates``
        also prints."""
        self.templates = {t.id: t for t in templates}
        self.model = model
        self.expect = expect or Expectation()
        geometries = [g for t in templates for g in template_geometries(t)]
        other_pages = [
            g for t in others if t.id not in self.templates for g in template_geometries(t)
        ]
        self.aligner = Aligner(geometries, align_config, others=other_pages)

    def read(
        self, frame: np.ndarray, image_bytes: bytes, *, form_hint: str | None = None
    ) -> PageReading:
        """Read one page, or raise a PageRefusedError saying why (with the page's number once
        the tag or the layout has named it). ``form_hint``, the form being scanned, names a
        page whose tag is not known when its print is alike in several forms."""
        clock = _Clock()
        aligned = self.aligner.align(frame, form_hint=form_hint)
        clock.lap("align")
        template = self.templates[aligned.geometry.form]
        page = template.page(aligned.geometry.page)
        try:
            self._check_form(template.id)
            qr = read_qr(frame, aligned, page.qr)
            if qr is not None:
                self._check_qr(qr, template.id, page.number)
            clock.lap("qr")
            fields = self._read_fields(frame, aligned, page, clock)
        except PageRefusedError as e:
            e.page = page.number if e.page is None else e.page
            raise
        digest = hashlib.sha256(image_bytes).hexdigest()
        clock.lap("hash")
        return PageReading(template, page.number, qr, digest, aligned, fields, clock.laps)

    def _check_form(self, form: str) -> None:
        forms = self.expect.forms
        if forms and form not in forms:
            raise ForeignFormError(
                f"this kit does not scan {form} (it scans {', '.join(forms)})",
                "Formulir ini bukan untuk kit ini",
            )

    def _check_qr(self, qr: QrPayload, form: str, page: int) -> None:
        """Where a sheet carries a QR code, it must agree with the tag and with this kit."""
        if qr.form != form or qr.page != page:
            raise ForeignFormError(
                f"the QR code names {qr.form} page {qr.page} but the tag says {form} page "
                f"{page}: this sheet is not a genuine form",
                "Formulir tidak sah: kode QR dan kode halaman tidak cocok",
            )
        e = self.expect
        if e.election is not None and qr.election != e.election:
            raise ForeignFormError(
                f"this page is for election {qr.election}, not {e.election}",
                "Formulir untuk pemilihan lain: gunakan formulir pemilihan ini",
            )
        if e.tps is not None and qr.tps != e.tps:
            raise ForeignFormError(
                f"this page is for TPS {qr.tps}, not this kit's TPS {e.tps}",
                f"Formulir untuk TPS lain ({qr.tps}): gunakan formulir TPS ini",
            )

    def _read_fields(
        self, frame: np.ndarray, aligned: AlignedPage, page: Page, clock: _Clock
    ) -> dict[str, FieldReading]:
        specs = page.fields
        places = place_fields(frame, aligned, specs, page.box_style, self.aligner.config)
        clock.lap("place")
        inset = box_inset(page.box_style)
        boxes = [
            BoxMm(**layout.box_interior(b, inset).model_dump())
            for spec in specs
            for b in places[spec.id].boxes
        ]
        batch = normalise_batch(sample_boxes(frame, aligned, boxes))
        clock.lap("boxes")
        probs = self.model.classify(batch)
        clock.lap("model")
        bubbles = self._read_bubbles(frame, aligned, specs, places)
        clock.lap("bubbles")
        out, at = {}, 0
        for spec in specs:
            number = read_number(probs[at : at + spec.digits])
            at += spec.digits
            moved = places[spec.id].shift.distance
            out[spec.id] = FieldReading(spec, number, bubbles.get(spec.id, ()), moved)
        clock.lap("decode")
        return out

    def _read_bubbles(
        self,
        frame: np.ndarray,
        aligned: AlignedPage,
        specs: Sequence[FieldSpec],
        places: dict[str, FieldPlace],
    ) -> dict[str, tuple[BubbleReading, ...]]:
        with_bubbles = [s for s in specs if s.bubbles]
        if not with_bubbles:
            return {}
        centres = np.array(
            [c for s in with_bubbles for column in places[s.id].bubbles for c in column],
            np.float32,
        )
        radius = min(layout.bubble_radius(s) or 0 for s in with_bubbles)
        darkness = bubble_darkness(frame, aligned, centres, radius).reshape(-1, 10)
        out, at = {}, 0
        for spec in with_bubbles:
            columns = darkness[at : at + spec.digits]
            at += spec.digits
            out[spec.id] = tuple(read_column(c) for c in columns)
        return out
