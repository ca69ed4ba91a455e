"""Every screen the kit can show, from synthesized scans: ``tps-kit screens --out DIR``.

The real kit's state machine (firmware.kit.Kit) runs on photographed, synthesized forms
(provisioning.synth) with the real page reader, so each refusal is the reader's own; the
screens go through the file display (firmware/screen/files.py) and are saved under names
that say what they show (``GALLERY``). A throwaway identity signs the results, which go to
a throwaway outbox.

The gallery shows screens, not the reader's accuracy: each box's reading is pinned to what
the synthesizer wrote (``PinnedReader``), so a reading model that errs never changes which
screen appears, and the doubts each kind of look needs are set on chosen boxes (the
handwriting on screen is still the photo's). Every step checks that the kit reached the
state the screen is meant to show, and stops with an error otherwise.

The handwriting comes from an IDX digit set given by the caller: the held-out digits in a
clone of the repository (``tests/fixtures/digits/heldout-300``) are not part of the
installed package.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.outbox import Outbox
from edge.read.numbers import read_number
from edge.read.page import Expectation, PageReader, PageReading
from edge.recognition.model import CLASS_BLANK, CLASS_X, NUM_CLASSES, DigitModel
from edge.uplink import EventKind, UplinkEvent
from firmware.camera.base import CameraError, Capture, decode_grey
from firmware.identity import KitIdentity
from firmware.kit import Kit, State
from firmware.screen.compose import ComposedScreen
from firmware.screen.draw import Canvas
from firmware.screen.files import FileDisplay, Shown
from protocol.forms.loader import load
from protocol.forms.schema import Template
from protocol.idx import load_digits
from provisioning.synth.forms import SynthPage, synthesize_form
from provisioning.synth.handwriting import DigitBank
from provisioning.synth.mistakes import wrong_bubble, wrong_sum
from provisioning.synth.photo import Conditions
from provisioning.synth.surface import Surface
from provisioning.synth.values import consistent_values

FORM = "ppwp-plano"
TPS = "31.71.01.1001.001"
ELECTION = "pemilu-2024"
TRAINING = "latihan-pemilu-2024"
ELECTION_DAY = dt.datetime(2024, 2, 14, 13, 0, tzinfo=dt.UTC)
SURE = 0.98  # a pinned box's probability for what was written
STEADY = Conditions(-1.0, 0.0, 0.01, 0.0, 0.01, 1.0, 0.1, 0.0, 0.5, 2.0, 90)
TILTED = Conditions(0.0, 0.12, 0.0, 0.0, 0.0, 0.95, 0.1, 0.0, 0.5, 2.0, 90)
CRUMPLED = dataclasses.replace(
    STEADY, surface=Surface(crease_mm=30.0, crease_width_mm=60.0, curl_mm=60.0, curl_at="br")
)

# The screens, in the order they are rendered: file name (without .png) and what it shows.
GALLERY: dict[str, str] = {
    "siap": "ready for page 1",
    "memotret": "photographing",
    "membaca": "reading",
    "halaman-terbaca": "page 1 read: lay page 2",
    "tolak-tanpa-kode": "refused: no page tag in view",
    "tolak-tanda-sudut": "refused: a corner mark covered",
    "tolak-gelap": "refused: too dark",
    "tolak-kabur": "refused: blurred",
    "tolak-miring": "refused: tilted",
    "tolak-tidak-rata": "refused: crumpled beyond the tolerance",
    "tolak-sudah-dipindai": "refused: page 1 scanned twice",
    "tolak-pemilihan-lain": "refused: a sheet of another election",
    "tolak-kamera": "refused: the camera failed",
    "semua-cocok": "accepted: the numbers to sign",
    "menandatangani": "signing",
    "ditandatangani": "signed: the receipt's QR code",
    "diterima-server": "the hub accepted it",
    "ditolak-server": "the hub rejected it",
    "dibatalkan": "the form cancelled (PINDAI held)",
    "cek-bacaan-kit": "look: the kit's value, two readings possible",
    "cek-bacaan-lain": "look: after PINDAI, the other reading the rules allow",
    "cek-pindai-ulang": "look: after PINDAI again, the rescan option",
    "pindai-ulang-halaman": "look: rescan asked, the page to lay",
    "cek-kedua": "look: the second field",
    "sudah-dicek": "look done: the numbers to sign",
    "cek-bulatan": "look: a bubble against an unclear box (page 2)",
    "cek-jumlah": "look: the rules need another value than the boxes say",
    "salah-jumlah": "paper mistake: a sum added up wrong",
    "tidak-bisa-ditandatangani": "paper mistake: KONFIRMASI pressed anyway",
    "salah-bulatan": "paper mistake: a bubble against a clear digit",
    "latihan-siap": "training kit: ready",
    "latihan-cek": "training kit: a look",
    "latihan-ditandatangani": "training kit: signed",
}


class GalleryError(Exception):
    """A step did not reach the screen it was meant to show."""


# -- the pieces of a kit --------------------------------------------------------------------


class FeedCamera:
    """Hands the kit the captures (or failures) it is fed, one per press."""

    def __init__(self) -> None:
        self.queue: list[Capture | CameraError] = []

    def capture(self) -> Capture:
        item = self.queue.pop(0)
        if isinstance(item, CameraError):
            raise item
        return item

    def close(self) -> None:
        pass


class QuietLights:
    def show(self, signal: object) -> None:
        pass


Doubts = Mapping[str, Mapping[int, Mapping[int, float]]]  # field -> box -> {class: p}


class PinnedReader:
    """The real page reader, with each box's reading pinned to what was written there
    (``truth``: per field, each box's "7", "X" or "blank", as the synthesizer reports it;
    None keeps the reader's own) and the given doubts set on chosen boxes."""

    def __init__(
        self, reader: PageReader, truth: Mapping[str, Sequence[str]] | None, doubts: Doubts
    ) -> None:
        self.reader = reader
        self.model = reader.model
        self.aligner = reader.aligner
        self.truth = truth
        self.doubts = doubts

    def read(self, frame: np.ndarray, data: bytes, *, form_hint: str | None = None) -> PageReading:
        reading = self.reader.read(frame, data, form_hint=form_hint)
        fields = {}
        for fid, field in reading.fields.items():
            if self.truth is not None:
                probs = np.stack([_row(c) for c in self.truth[fid]])
            else:
                probs = np.array(field.number.probs, np.float64)
            for box, classes in self.doubts.get(fid, {}).items():
                probs[box] = _row_of(classes)
            fields[fid] = dataclasses.replace(field, number=read_number(probs))
        return dataclasses.replace(reading, fields=fields)


class RecordingScreen(ComposedScreen):
    """The kit's screen, keeping every canvas it drew (what each text's size was)."""

    def __init__(self, display: object, *, training: bool) -> None:
        super().__init__(display, training=training)
        self.canvases: list[Canvas] = []

    def show(self, view: object) -> None:
        super().show(view)
        assert self.last is not None
        self.canvases.append(self.last)


def _row(written: str) -> np.ndarray:
    cls = {"X": CLASS_X, "blank": CLASS_BLANK}.get(written)
    return _row_of({int(written) if cls is None else cls: SURE})


def _row_of(classes: Mapping[int, float]) -> np.ndarray:
    row = np.zeros(NUM_CLASSES)
    for cls, p in classes.items():
        row[cls] = p
    rest = 1.0 - row.sum()
    row[row == 0] = rest / int((row == 0).sum())
    return row


def throwaway_identity(tps: str, election: str) -> KitIdentity:
    """A key and a self-signed certificate naming the kit: enough to sign (nothing here
    verifies the result against a region's authority)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.x509.oid import NameOID

    key = Ed25519PrivateKey.generate()
    kit_id = f"kit-{tps.replace('.', '')}-1"
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, kit_id)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, None)
    )
    return KitIdentity(kit_id, tps, election, key, certificate)


@dataclass(frozen=True)
class Shots:
    """What one kit showed: the files written and the canvases drawn, in step."""

    display: FileDisplay
    screen: RecordingScreen


@dataclass(frozen=True)
class Shot:
    """One screen of the gallery: its PNG, its words and kind, its canvas."""

    path: Path
    shown: Shown
    canvas: Canvas


@dataclass
class Form:
    """One synthesized form: its pages' captures and what was written in each box."""

    pages: list[SynthPage]

    @property
    def truth(self) -> dict[str, list[str]]:
        return {f: boxes for p in self.pages for f, boxes in p.truth["boxes"].items()}

    def capture(self, number: int) -> Capture:
        page = next(p for p in self.pages if p.number == number)
        return Capture(decode_grey(page.jpeg, f"page {number}"), page.jpeg)


# -- the studio -------------------------------------------------------------------------------


class Studio:
    """Makes forms and kits, drives them, and keeps the screens it is asked to."""

    def __init__(
        self,
        out: Path,
        scratch: Path,
        digits: Path,
        seed: int,
        *,
        only: Sequence[str] = (),
        compact: bool = False,
    ) -> None:
        self.out = out
        self.only = set(only or GALLERY)
        self.compact = compact
        self.scratch = scratch
        self.bank = DigitBank(*load_digits(digits))
        loaded = load(FORM)
        self.template: Template = loaded.template
        self.template_sha256 = loaded.sha256
        self.model = DigitModel.load()
        self.seed = seed
        self.screens: dict[str, Shot] = {}
        self._kits = 0

    # forms

    def form(
        self,
        seed: int,
        *,
        election: str = ELECTION,
        values: dict[str, int] | None = None,
        hook: Callable[[np.ndarray, float], None] | None = None,
        hook_page: int | None = None,
        conditions: Conditions = STEADY,
        qr: bool = False,
        pages: Sequence[int] | None = None,
    ) -> Form:
        options: dict[str, Any] = {
            "tps": TPS,
            "election": election,
            "bank": self.bank,
            "conditions": conditions,
            "values": values if values is not None else self.values(seed),
            "qr": qr,
        }
        made = []
        for number in pages or [p.number for p in self.template.pages]:
            rng = np.random.default_rng([self.seed, seed, number])  # each page on its own
            hooked = hook if hook_page in (None, number) else None
            made += synthesize_form(
                self.template, rng=rng, only_pages=[number], before_photo=hooked, **options
            )
        return Form(made)

    def values(self, seed: int, **changes: int) -> dict[str, int]:
        values = consistent_values(self.template, np.random.default_rng([self.seed, seed]))
        values.update(changes)
        return values

    # kits

    @contextmanager
    def kit(
        self,
        *,
        election: str = ELECTION,
        truth: Mapping[str, Sequence[str]] | None = None,
        doubts: Doubts | None = None,
    ) -> Iterator[tuple[Kit, FeedCamera, Shots]]:
        self._kits += 1
        folder = self.scratch / f"kit-{self._kits}"
        display = FileDisplay(folder / "screen")
        screen = RecordingScreen(display, training=election.startswith("latihan-"))
        camera = FeedCamera()
        reader = PageReader([self.template], self.model, expect=Expectation(election, TPS, (FORM,)))
        outbox = Outbox.open(folder / "outbox.sqlite3")
        kit = Kit(
            identity=throwaway_identity(TPS, election),
            camera=camera,
            screen=screen,
            lights=QuietLights(),
            reader=PinnedReader(reader, truth, doubts or {}),  # type: ignore[arg-type]
            template_sha256={FORM: self.template_sha256},
            outbox=outbox,
            clock=lambda: ELECTION_DAY,  # the same receipt on every run
            settle_s=0.0,
        )
        try:
            kit.start()
            yield kit, camera, Shots(display, screen)
        finally:
            outbox.close()

    # keeping screens

    def keep(self, shots: Shots, name: str, back: int = 1) -> None:
        if name not in GALLERY:
            raise GalleryError(f"{name} is not in the gallery's list")
        shown = shots.display.shown[-back]
        path = self.out / f"{name}.png" if name in self.only else shown.path
        if path != shown.path and self.compact:
            write_compact(shown.path, path)
        elif path != shown.path:
            shutil.copyfile(shown.path, path)
        self.screens[name] = Shot(path, shown, shots.screen.canvases[-back])


def _expect(kit: Kit, what: str, ok: bool) -> None:
    if not ok:
        verdict = kit.decoded.verdict if kit.decoded is not None else None
        raise GalleryError(
            f"the screen '{what}' was not reached (state {kit.state}, verdict {verdict}, "
            f"message {kit.message})"
        )


def _scan(kit: Kit, camera: FeedCamera, item: Capture | CameraError) -> None:
    camera.queue.append(item)
    kit.scan()


# -- the scenes -------------------------------------------------------------------------------


def _ready_and_refusals(s: Studio) -> None:
    good = s.form(1)
    with s.kit(truth=good.truth) as (kit, camera, shots):
        s.keep(shots, "siap")
        _scan(kit, camera, good.capture(1))
        _expect(kit, "halaman-terbaca", 1 in kit.form.pages and kit.message is None)
        s.keep(shots, "memotret", back=3)
        s.keep(shots, "membaca", back=2)
        s.keep(shots, "halaman-terbaca")
        for name, item in _refusals(s, good):
            _scan(kit, camera, item)
            _expect(kit, name, kit.message is not None and list(kit.form.pages) == [1])
            s.keep(shots, name)
            kit.message = None


def _refusals(s: Studio, good: Form) -> Iterator[tuple[str, Capture | CameraError]]:
    table = np.full((3040, 4056), 200, np.uint8)
    _, png = cv2.imencode(".png", table)
    yield "tolak-tanpa-kode", Capture(table, png.tobytes())
    mark = s.template.page(2).marks[2]

    def cover(image: np.ndarray, k: float) -> None:
        x0, y0 = int((mark.x - 6) * k), int((mark.y - 6) * k)
        size = int((mark.size + 12) * k)
        image[y0 : y0 + size, x0 : x0 + size] = 215  # a sheet of paper laid over it

    yield "tolak-tanda-sudut", s.form(2, hook=cover, pages=[2]).capture(2)
    page = good.capture(2)
    dark = (page.frame.astype(np.float32) * 0.22).astype(np.uint8)
    yield "tolak-gelap", Capture(dark, page.data)
    yield "tolak-kabur", Capture(cv2.GaussianBlur(page.frame, (0, 0), 5.0), page.data)
    yield "tolak-miring", s.form(3, conditions=TILTED, pages=[2]).capture(2)
    yield "tolak-tidak-rata", s.form(4, conditions=CRUMPLED, pages=[1]).capture(1)
    yield "tolak-sudah-dipindai", good.capture(1)
    other = s.form(5, election=TRAINING, qr=True, pages=[2])
    yield "tolak-pemilihan-lain", other.capture(2)
    yield "tolak-kamera", CameraError("the camera did not answer", "Kamera tidak menjawab.")


def _accepted(s: Studio) -> None:
    good = s.form(1)
    with s.kit(truth=good.truth) as (kit, camera, shots):
        for page in (1, 2, 3):
            _scan(kit, camera, good.capture(page))
        _expect(kit, "semua-cocok", kit.decoded is not None and kit.decoded.verdict == "accept")
        s.keep(shots, "semua-cocok")
        kit.confirm()
        _expect(kit, "ditandatangani", kit.state == State.QUEUED)
        s.keep(shots, "menandatangani", back=2)
        s.keep(shots, "ditandatangani")
        kit.on_uplink(UplinkEvent(EventKind.DELIVERED, seq=kit.awaiting))
        _expect(kit, "diterima-server", kit.state == State.DELIVERED)
        s.keep(shots, "diterima-server")
    with s.kit(truth=good.truth) as (kit, camera, shots):
        for page in (1, 2, 3):
            _scan(kit, camera, good.capture(page))
        kit.confirm()
        kit.on_uplink(UplinkEvent(EventKind.REJECTED, seq=kit.awaiting, detail="binding"))
        _expect(kit, "ditolak-server", kit.message is not None)
        s.keep(shots, "ditolak-server")
    with s.kit(truth=good.truth) as (kit, camera, shots):
        _scan(kit, camera, good.capture(1))
        kit.cancel()
        _expect(kit, "dibatalkan", not kit.form.pages)
        s.keep(shots, "dibatalkan")


def _rivals(s: Studio, election: str = ELECTION) -> tuple[Form, Doubts]:
    """III.L and III.JML written 3, each read 3 or 8 at nearly even odds: two readings keep
    L + P = JML, and both fields need a look."""
    values = s.values(6, **{"III.L": 3, "III.P": 0, "III.JML": 3})
    form = s.form(6, election=election, values=values)
    unsure = {2: {3: 0.55, 8: 0.44}}
    return form, {"III.L": unsure, "III.JML": unsure}


def _looks(s: Studio) -> None:
    form, doubts = _rivals(s)
    with s.kit(truth=form.truth, doubts=doubts) as (kit, camera, shots):
        for page in (1, 2, 3):
            _scan(kit, camera, form.capture(page))
        look = kit.look
        _expect(kit, "cek-bacaan-kit", look is not None and len(look.options()) == 3)
        s.keep(shots, "cek-bacaan-kit")
        kit.scan()
        s.keep(shots, "cek-bacaan-lain")
        kit.scan()
        s.keep(shots, "cek-pindai-ulang")
        kit.confirm()
        _expect(kit, "pindai-ulang-halaman", kit.look is not None and kit.look.rescan)
        s.keep(shots, "pindai-ulang-halaman")
        kit.confirm()  # back to the look, the kit's value first
        kit.confirm()
        _expect(kit, "cek-kedua", kit.look is not None and kit.look.index == 1)
        s.keep(shots, "cek-kedua")
        kit.confirm()
        _expect(kit, "sudah-dicek", kit.look is not None and kit.look.finished)
        s.keep(shots, "sudah-dicek")
        kit.confirm()
        _expect(kit, "signed after the look", kit.state == State.QUEUED)

    values = s.values(7)
    hook, mistake = wrong_bubble(
        s.template, values, np.random.default_rng([s.seed, 7]), tps=TPS, election=ELECTION
    )
    assert mistake is not None and mistake.box is not None
    form = s.form(7, values=values, hook=hook, hook_page=mistake.page)
    unclear = {mistake.field: {mistake.box: {mistake.right: 0.85, mistake.written: 0.001}}}
    with s.kit(truth=form.truth, doubts=unclear) as (kit, camera, shots):
        for page in (1, 2, 3):
            _scan(kit, camera, form.capture(page))
        ok = kit.look is not None and kit.look.fields == [mistake.field]
        _expect(kit, "cek-bulatan", ok)
        s.keep(shots, "cek-bulatan")
    with s.kit(truth=form.truth) as (kit, camera, shots):
        for page in (1, 2, 3):
            _scan(kit, camera, form.capture(page))
        ok = kit.decoded is not None and kit.decoded.problems[0].kind == "bubble"
        _expect(kit, "salah-bulatan", ok)
        s.keep(shots, "salah-bulatan")

    values = s.values(8, **{"V.B": 2, "V.A": s.values(8)["V.C"] - 2})
    values.update(_votes_for(s.template, values))
    form = s.form(8, values=values)
    misread = {"V.B": {2: {7: 0.8, 2: 0.05}}}  # read 7, the sums need 2
    with s.kit(truth=form.truth, doubts=misread) as (kit, camera, shots):
        for page in (1, 2, 3):
            _scan(kit, camera, form.capture(page))
        ok = kit.look is not None and kit.look.fields == ["V.B"]
        _expect(kit, "cek-jumlah", ok)
        s.keep(shots, "cek-jumlah")


def _votes_for(template: Template, values: Mapping[str, int]) -> dict[str, int]:
    """The options' votes moved so they still add up to V.A."""
    options = [o.field for o in template.options]
    votes = {f: values[f] for f in options}
    gap = values["V.A"] - sum(votes.values())
    biggest = max(options, key=lambda f: votes[f])
    votes[biggest] += gap
    return votes


def _mistakes(s: Studio) -> None:
    values, _ = wrong_sum(s.template, s.values(9), np.random.default_rng([s.seed, 9]))
    form = s.form(9, values=values)
    with s.kit(truth=form.truth) as (kit, camera, shots):
        for page in (1, 2, 3):
            _scan(kit, camera, form.capture(page))
        ok = kit.decoded is not None and kit.decoded.verdict == "paper mistake"
        _expect(kit, "salah-jumlah", ok and kit.decoded.problems[0].kind == "rule")  # type: ignore[union-attr]
        s.keep(shots, "salah-jumlah")
        kit.confirm()
        s.keep(shots, "tidak-bisa-ditandatangani")


def _training(s: Studio) -> None:
    form, doubts = _rivals(s, TRAINING)
    with s.kit(election=TRAINING, truth=form.truth, doubts=doubts) as (kit, camera, shots):
        s.keep(shots, "latihan-siap")
        for page in (1, 2, 3):
            _scan(kit, camera, form.capture(page))
        _expect(kit, "latihan-cek", kit.look is not None)
        s.keep(shots, "latihan-cek")
        while kit.look is not None and not kit.look.finished:
            kit.confirm()
        kit.confirm()
        _expect(kit, "latihan-ditandatangani", kit.state == State.QUEUED)
        s.keep(shots, "latihan-ditandatangani")


SCENES = (_ready_and_refusals, _accepted, _looks, _mistakes, _training)


def render(
    out: Path,
    digits: Path,
    *,
    seed: int = 1,
    only: Sequence[str] = (),
    compact: bool = False,
) -> dict[str, Shot]:
    """Render every screen of ``GALLERY`` and write those named in ``only`` (default all)
    into ``out`` as NAME.png; ``compact`` writes them small enough to commit (16 levels a
    channel, the most compression); the others are drawn in a scratch folder, removed at the
    end."""
    unknown = sorted(set(only) - set(GALLERY))
    if unknown:
        raise GalleryError(f"no such screen: {', '.join(unknown)} (see tps-kit screens --help)")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tps-screens-") as scratch:
        studio = Studio(out, Path(scratch), digits, seed, only=only, compact=compact)
        for scene in SCENES:
            scene(studio)
    missing = [n for n in GALLERY if n not in studio.screens]
    if missing:
        raise GalleryError(f"not rendered: {', '.join(missing)}")
    return {n: studio.screens[n] for n in GALLERY}


def render_screens(
    out: Path, digits: Path, *, seed: int = 1, only: Sequence[str] = (), compact: bool = False
) -> list[Path]:
    """The files :func:`render` writes into ``out``."""
    shots = render(out, digits, seed=seed, only=only, compact=compact)
    return [s.path for n, s in shots.items() if not only or n in only]


def write_compact(source: Path, path: Path) -> None:
    image = cv2.imread(str(source))
    levels = (image // 16) * 17  # 16 levels a channel: the flat bands and text stay exact
    if not cv2.imwrite(str(path), levels, [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise OSError(f"cannot write {path}")
