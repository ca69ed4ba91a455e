"""The appliance's state machine: idle -> capture -> read -> review -> (confirm) sign ->
queued -> delivered.

Everything the kit touches is passed in (camera, screen, lights, reader, outbox, uplink,
clock), so tests run the real machine with the files camera, the file screen and
gpiozero's MockFactory. Events (button presses from gpiozero's threads, the uplink's events
from its thread) go through one queue and are handled one at a time on the thread that
calls :meth:`Kit.step`: the machine's state is never touched by two threads.

Rules it keeps:
- Every error returns to idle with the screen's message and the error pattern. Pages of the
  form accepted so far are kept (a blurred page 3 must not cost pages 1 and 2); holding
  PINDAI cancels the whole form.
- A form of several pages: the screen says which page is next; the form is judged, and may
  be confirmed, only once every page is in. Scanning a page again during review replaces it.
- A paper mistake is never signed: confirm is refused until the paper is corrected and the
  page rescanned. "Needs a look": each doubtful field is looked at on its own screen
  (firmware/look.py), where the KPPS confirms the kit's value or another the rules allow;
  the form is signed only after the last one, from the screen that shows the result, and
  each field is signed as ``confirmed`` or ``chosen``.
- A press that arrives while the kit is busy (a double press during reading) is dropped,
  not replayed after it; so is a KONFIRMASI pressed within ``settle_s`` of a new review or
  look screen, before anyone can have read it (a double press must not confirm two fields,
  or a field and the signature).
"""

from __future__ import annotations

import collections
import datetime as dt
import enum
import logging
import queue
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from edge.decode.decide import DecodedForm, Problem, decode_form
from edge.decode.evidence import bubble_clear
from edge.decode.names import field_name
from edge.decode.signing import document_fields
from edge.decode.support import box_digits
from edge.errors import EdgeError, NotConfirmedError, PageRefusedError, WrongPageError
from edge.outbox import Outbox, OutboxError
from edge.read.form import FormReading
from edge.read.page import PageReader, PageReading
from edge.uplink import EventKind, UplinkEvent
from firmware.camera.base import Camera, CameraError, Capture
from firmware.hardware.patterns import Signal, rest_signal
from firmware.identity import KitIdentity
from firmware.look import Look
from firmware.screen.base import (
    Buttons,
    MistakeView,
    NumbersView,
    ReceiptView,
    Screen,
    StatusView,
    Tone,
)
from firmware.screen.crop import FieldPhoto, field_photo
from firmware.screen.words import key_numbers, pages, relations_of, rule_parts
from protocol.document import DecidedResult
from protocol.errors import ProtocolError
from protocol.manifest import OfficialDpt
from protocol.receipt import Receipt, receipt_url

log = logging.getLogger(__name__)

CONFIRM_SETTLE_S = 0.6  # a KONFIRMASI sooner than this after a new review screen is dropped


class State(enum.StrEnum):
    IDLE = "idle"
    CAPTURE = "capture"
    READ = "read"
    REVIEW = "review"
    SIGN = "sign"
    QUEUED = "queued"
    DELIVERED = "delivered"


class Press(enum.StrEnum):
    SCAN = "scan"
    CANCEL = "cancel"
    CONFIRM = "confirm"


@dataclass(frozen=True)
class ButtonEvent:
    press: Press
    at: float  # time.monotonic() when it happened


Event = ButtonEvent | UplinkEvent


class Lights(Protocol):
    def show(self, signal: Signal) -> None: ...


class Waker(Protocol):
    def wake(self) -> None: ...


@dataclass(frozen=True)
class Notice:
    """A refusal or failure as the screen shows it."""

    title: str
    pesan: str


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Kit:
    def __init__(
        self,
        *,
        identity: KitIdentity,
        camera: Camera,
        screen: Screen,
        lights: Lights,
        reader: PageReader,
        template_sha256: Mapping[str, str],
        outbox: Outbox,
        uplink: Waker | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
        settle_s: float = CONFIRM_SETTLE_S,
        dpt: OfficialDpt | None = None,
        public_url: str = "",
    ) -> None:
        """``public_url``: the hub's public address, for the receipt's QR code (kit.toml's
        hub.public_url); empty, the QR code holds the receipt's text."""
        self.identity = identity
        self.public_url = public_url
        self.dpt = dpt  # the TPS's official voter list, when the bundle carries it
        self.camera = camera
        self.screen = screen
        self.lights = lights
        self.reader = reader
        self.template_sha256 = dict(template_sha256)
        self.outbox = outbox
        self.uplink = uplink
        self.clock = clock
        self.settle_s = settle_s
        self.events: queue.Queue[Event] = queue.Queue()
        self.state = State.IDLE
        self.signal: Signal | None = None
        self.recent_signals: collections.deque[Signal] = collections.deque(maxlen=32)
        self.online = False
        self.message: Notice | None = None  # the last refusal or failure shown
        self.form = FormReading()
        self.captures: dict[int, Capture] = {}
        self.captured_at: dt.datetime | None = None
        self.decoded: DecodedForm | None = None
        self.look: Look | None = None  # the doubtful fields being looked at
        self.receipt: Receipt | None = None
        self.awaiting: int | None = None  # seq signed here whose hub verdict is awaited
        self._busy_until = 0.0
        self._confirm_from = 0.0  # KONFIRMASI counts from then on (the screen was seen)
        self._photos: dict[str, FieldPhoto] = {}

    @property
    def training(self) -> bool:
        return self.identity.training

    # -- events in ------------------------------------------------------------------------

    def submit(self, event: Event) -> None:
        """Thread-safe: queue an event for :meth:`step`."""
        self.events.put(event)

    def press(self, press: Press) -> None:
        """A button's callback (gpiozero's thread): queue the press with its time."""
        self.submit(ButtonEvent(press, time.monotonic()))

    def step(self, timeout: float | None = 0.0) -> bool:
        """Handle one queued event, waiting up to ``timeout``; False if there was none."""
        try:
            event = self.events.get(timeout=timeout) if timeout else self.events.get_nowait()
        except queue.Empty:
            return False
        self.handle(event)
        return True

    def drain(self) -> None:
        while self.step():
            pass

    def handle(self, event: Event) -> None:
        if isinstance(event, UplinkEvent):
            self.on_uplink(event)
            return
        if event.at < self._busy_until:
            log.info("dropped a %s press made while the kit was busy", event.press)
            return
        if event.press == Press.CONFIRM and event.at < self._confirm_from:
            log.info("dropped a confirm pressed before its screen could be read")
            return
        try:
            {Press.SCAN: self.scan, Press.CANCEL: self.cancel, Press.CONFIRM: self.confirm}[
                event.press
            ]()
        finally:
            self._busy_until = time.monotonic()

    # -- start ----------------------------------------------------------------------------

    def start(self) -> None:
        self.state = State.IDLE
        self._show_rest("Siap: letakkan halaman 1", [self._next_page_line(), *self._who()])

    # -- scanning -------------------------------------------------------------------------

    def scan(self) -> None:
        """PINDAI: photograph the page under the boom, read it, add it to the form; in a
        look, show the next value instead."""
        look = self.look
        cycling = look is not None and not look.finished and not look.rescan
        if self.state == State.REVIEW and cycling:
            assert look is not None
            look.next()
            self._show_look()
            return
        if self.state in (State.QUEUED, State.DELIVERED):
            self._new_form()  # the next form, or a rescan: a new version with a higher seq
        self._enter(State.CAPTURE, Signal.CAPTURING)
        self.screen.show(
            StatusView(Tone.BUSY, "Memotret: jangan sentuh kertas", ["Tunggu sebentar."])
        )
        page: PageReading | None = None
        try:
            capture = self.camera.capture()
            self._enter(State.READ, Signal.READING)
            self.screen.show(
                StatusView(Tone.BUSY, "Membaca angka: tunggu sebentar", ["Jangan sentuh kertas."])
            )
            template = self.form.template
            hint = None if template is None else template.id
            page = self.reader.read(capture.frame, capture.data, form_hint=hint)
            self._add_page(page)
        except WrongPageError as e:
            if page is not None and page.page in self.form.pages:
                title = f"Halaman {page.page} sudah dipindai: pindai halaman {self._next()}"
                pesan = f"Halaman {page.page} sudah masuk, tidak perlu dipindai lagi."
                self._fail(Notice(title, pesan), e)
            else:
                title = f"Halaman formulir lain: pindai halaman {self._next()}"
                self._fail(Notice(title, e.pesan), e)
            return
        except PageRefusedError as e:
            # Only the refused page is scanned again: say which one it was, where known.
            if e.page is None:
                message = Notice("Halaman tidak terbaca: pindai lagi", e.pesan)
            else:
                message = Notice(f"Halaman {e.page} tidak terbaca: pindai lagi", e.pesan)
            self._fail(message, e)
            return
        except CameraError as e:
            self._fail(Notice("Kamera gagal memotret: coba PINDAI lagi", e.pesan), e)
            return
        except Exception as e:  # a bug must not leave the kit stuck mid-scan
            log.exception("reading failed")
            self._fail(Notice("Gagal membaca: hubungi teknisi", "Terjadi kesalahan pada kit."), e)
            return
        self.captures[page.page] = capture
        self.captured_at = self.clock()
        if self.form.complete:
            self._review()
        else:
            self._next_page(page.page)

    def _add_page(self, page: PageReading) -> None:
        """Add a page; during review (the form complete) a page scanned again replaces it."""
        if self.form.complete and page.page in self.form.pages:
            rest = {n: p for n, p in self.form.pages.items() if n != page.page}
            replaced = FormReading(rest)
            replaced.add(page)  # still refuses a page of another form, TPS or election
            self.form = replaced
            self._photos.clear()
            return
        self.form.add(page)

    def _next_page(self, read: int) -> None:
        self.state = State.IDLE
        self._signal(Signal.NEXT_PAGE)
        template = self.form.template
        assert template is not None
        following = self.form.next_page
        lines = [
            f"Halaman {read} dari {template.page_count} sudah masuk.",
            self._next_page_line(),
            "Tahan PINDAI lama untuk membatalkan formulir ini.",
        ]
        self.screen.show(
            StatusView(
                Tone.READY,
                f"Halaman {read} terbaca: letakkan halaman {following}",
                lines,
                Buttons(scan=f"potret halaman {following}"),
            )
        )

    def _review(self) -> None:
        self.decoded = decoded = decode_form(self.form, dpt=self.dpt)
        self.state = State.REVIEW
        self.look = None
        if decoded.verdict == "accept":
            self._signal(Signal.REVIEW_OK)
            self._show_result(
                "Semua cocok: periksa, lalu KONFIRMASI",
                {f: d.value for f, d in decoded.fields.items()},
                "Semua angka terbaca jelas dan cocok.",
            )
        elif decoded.verdict == "needs a look":
            self._signal(Signal.REVIEW_NEEDS_LOOK)
            self.look = Look(decoded)
            self._show_look()
        else:
            self._signal(Signal.PAPER_MISTAKE)
            self._show_mistake(decoded, refused=False)

    def _show_result(self, title: str, values: Mapping[str, int | None], first: str) -> None:
        """The numbers about to be signed, green: KONFIRMASI signs them."""
        decoded = self.decoded
        assert decoded is not None
        self._settle()
        self.screen.show(
            NumbersView(
                Tone.READY,
                title,
                key_numbers(decoded.template, values),
                [first, "Bandingkan dengan kertas, lalu tandatangani."],
                Buttons(scan="pindai ulang satu halaman", confirm="tandatangani"),
            )
        )

    def _show_look(self) -> None:
        look = self.look
        assert look is not None
        self._settle()
        if look.rescan:
            where = pages([look.page])
            self.screen.show(
                StatusView(
                    Tone.LOOK,
                    f"Pindai ulang {where}",
                    [
                        "Bila angka di kertas salah, perbaiki dulu.",
                        f"Letakkan {where} di bawah kamera, lalu tekan PINDAI.",
                    ],
                    Buttons(scan=f"potret {where}", confirm="kembali memeriksa"),
                )
            )
            return
        self.screen.show(look.view(self._photo(look.field)))

    def _photo(self, field_id: str) -> FieldPhoto:
        """The field's place in its page's photo (found once per page scanned)."""
        if field_id not in self._photos:
            assert self.decoded is not None
            page = self.decoded.fields[field_id].page
            config = getattr(getattr(self.reader, "aligner", None), "config", None)
            frame = self.captures[page].frame
            self._photos[field_id] = field_photo(frame, self.form.pages[page], field_id, config)
        return self._photos[field_id]

    def _show_mistake(self, decoded: DecodedForm, *, refused: bool) -> None:
        problem = decoded.problems[0]
        where = pages([decoded.fields[f].page for f in problem.fields if f in decoded.fields])
        title = (
            "Tidak bisa ditandatangani: perbaiki kertas"
            if refused
            else f"Salah di kertas: periksa {where}"
        )
        more = len(decoded.problems) - 1
        lines = [f"Perbaiki, lalu pindai ulang {where}."]
        if more:
            lines.append(f"{more} jumlah lain juga tidak cocok.")
        self.screen.show(
            MistakeView(
                title,
                f"{where.capitalize()}:",
                _problem_lines(decoded, problem, self.form),
                lines,
                Buttons(scan=f"potret {where} lagi"),
            )
        )

    # -- cancel ---------------------------------------------------------------------------

    def cancel(self) -> None:
        """Hold PINDAI: drop the form in progress (nothing signed is ever undone)."""
        if self.state not in (State.IDLE, State.REVIEW) or not self.form.pages:
            return
        self._new_form()
        self.state = State.IDLE
        self._signal(Signal.CANCELLED)  # its sound; the lights go back to rest at once
        self._show_rest(
            "Dibatalkan: mulai lagi dari halaman 1", [self._next_page_line(), *self._who()]
        )

    # -- confirm and sign -----------------------------------------------------------------

    def confirm(self) -> None:
        """KONFIRMASI: in a look, the value shown is what the paper says; on the result,
        sign it, store it, and hand it to the uplink."""
        if self.state != State.REVIEW or self.decoded is None:
            return  # nothing to confirm: a stray press changes nothing
        decoded = self.decoded
        look = self.look
        if decoded.verdict not in ("accept", "needs a look"):
            self._signal(Signal.PAPER_MISTAKE)
            self._show_mistake(decoded, refused=True)
            return
        if look is not None and not look.finished:
            self._look_confirm(look)
            return
        self._sign(decoded)

    def _look_confirm(self, look: Look) -> None:
        if look.rescan:  # back from "rescan this page" to the first field
            self.look = Look(look.decoded)
            self._show_look()
            return
        look.confirm()
        if not look.finished:
            self._show_look()
            return
        self._signal(Signal.REVIEW_OK)
        count = len(look.fields)
        self._show_result(
            "Sudah dicek: periksa, lalu KONFIRMASI",
            look.values(),
            f"{count} angka sudah dicek dengan kertas.",
        )

    def _sign(self, decoded: DecodedForm) -> None:
        self._enter(State.SIGN, Signal.SIGNING)
        self.screen.show(StatusView(Tone.BUSY, "Menandatangani: tunggu sebentar", []))
        try:
            entry = self.outbox.seal(
                self.decided_result(decoded),
                {n: capture.data for n, capture in self.captures.items()},
                self.identity.key,
                self.identity.certificate,
            )
        except (NotConfirmedError, OutboxError, ProtocolError, EdgeError) as e:
            pesan = getattr(e, "pesan", None) or "Gagal menyimpan hasil."
            self._fail(Notice("Gagal menandatangani: hubungi teknisi", pesan), e)
            return
        if self.uplink is not None:
            self.uplink.wake()
        self.receipt = Receipt(self.identity.tps, entry.seq, entry.sha256, self.training)
        self.awaiting = entry.seq
        self.state = State.QUEUED
        self._signal(Signal.QUEUED)
        self.screen.show(
            self._receipt_view("Ditandatangani: saksi, foto kode QR ini", [self._network_line()])
        )

    def decided_result(self, decoded: DecodedForm) -> DecidedResult:
        """The result as confirmed, for the outbox to seal: fields and evidence from the
        decoder and the look (each doubtful field ``confirmed`` or ``chosen`` as the KPPS
        answered), and the model and template that read it."""
        chosen = None
        if decoded.verdict == "needs a look":
            if self.look is None or not self.look.finished or self.look.decoded is not decoded:
                raise NotConfirmedError(
                    "the doubtful fields have not all been looked at",
                    "Belum semua angka dicek",
                )
            chosen = self.look.choices
        fields, evidence = document_fields(decoded, chosen=chosen)
        template = decoded.template
        return DecidedResult(
            election=self.identity.election,
            form=template.id,
            form_version=template.version,
            tps=self.identity.tps,
            kit=self.identity.kit_id,
            captured_at=self.captured_at or self.clock(),
            fields=fields,
            evidence=evidence,
            model_sha256=self.reader.model.sha256,
            template_sha256=self.template_sha256[template.id],
            corners={n: page.corners for n, page in self.form.pages.items()},
        )

    # -- the uplink's news ----------------------------------------------------------------

    def on_uplink(self, event: UplinkEvent) -> None:
        kind = event.kind
        if kind in (EventKind.ONLINE, EventKind.OFFLINE):
            self.online = kind == EventKind.ONLINE
            if self.state == State.IDLE and self.signal in (
                Signal.IDLE,
                Signal.OFFLINE,
                Signal.TRAINING,
            ):
                self._signal(rest_signal(training=self.training, online=self.online))
            return
        if event.seq is None or event.seq != self.awaiting:
            log.info("uplink: %s for seq %s", kind, event.seq)  # an older result's news
            return
        if kind == EventKind.DELIVERED and self.state == State.QUEUED:
            self.state = State.DELIVERED
            self._signal(Signal.DELIVERED)
            assert self.receipt is not None
            self.screen.show(
                self._receipt_view(
                    "Diterima server: selesai", ["Hasil sudah diterima dan dicatat."]
                )
            )
        elif kind in (EventKind.REJECTED, EventKind.REFUSED) and self.state == State.QUEUED:
            detail = event.detail or kind.value
            self._fail(
                Notice("Ditolak server: hubungi teknisi", f"Hasil ditolak ({detail})."),
                RuntimeError(detail),
                keep_form=False,
            )

    # -- helpers --------------------------------------------------------------------------

    def _receipt_view(self, title: str, lines: list[str]) -> ReceiptView:
        receipt = self.receipt
        assert receipt is not None
        url = receipt_url(self.public_url, receipt) if self.public_url else ""
        return ReceiptView(receipt, title, lines, Buttons(scan="mulai formulir baru"), url=url)

    def _new_form(self) -> None:
        self.form = FormReading()
        self.captures = {}
        self.captured_at = None
        self.decoded = None
        self.look = None
        self._photos = {}

    def _enter(self, state: State, signal: Signal) -> None:
        self.state = state
        self._signal(signal)

    def _signal(self, signal: Signal) -> None:
        self.signal = signal
        self.recent_signals.append(signal)
        self.lights.show(signal)

    def _settle(self) -> None:
        """A new screen to read before confirming: KONFIRMASI counts from a moment on."""
        self._confirm_from = time.monotonic() + self.settle_s

    def _show_rest(self, title: str, lines: Sequence[str]) -> None:
        self._signal(rest_signal(training=self.training, online=self.online))
        self.screen.show(
            StatusView(Tone.READY, title, lines, Buttons(scan=f"potret halaman {self._next()}"))
        )

    def _fail(
        self,
        message: Notice,
        error: BaseException,
        *,
        keep_form: bool = True,
        scan: str | None = None,
    ) -> None:
        """Back to idle with the message and the error pattern (the pages read so far kept,
        unless told): nothing is confirmed from a screen that shows a failure."""
        log.warning("%s: %s", message.title, error)
        self.message = message
        self.state = State.IDLE
        if not keep_form:
            self._new_form()
        if scan is None:
            complete = self.form.complete
            scan = "pindai ulang halaman itu" if complete else f"potret halaman {self._next()}"
        self._signal(Signal.ERROR)
        lines = [_sentence(message.pesan), self._next_page_line()]
        self.screen.show(StatusView(Tone.STOP, message.title, lines, Buttons(scan)))

    def _next(self) -> int:
        return self.form.next_page or 1

    def _next_page_line(self) -> str:
        template = self.form.template
        if template is None:
            return "Letakkan halaman 1 formulir di bawah kamera, lalu tekan PINDAI."
        if self.form.complete:
            return "Semua halaman sudah masuk: PINDAI ulang satu halaman untuk memeriksa lagi."
        return (
            f"Letakkan halaman {self.form.next_page} dari {template.page_count} "
            "di bawah kamera, lalu tekan PINDAI."
        )

    def _network_line(self) -> str:
        if self.online:
            return "Sedang dikirim ke server."
        return "Belum ada jaringan: hasil tersimpan dan dikirim nanti."

    def _who(self) -> list[str]:
        return [f"TPS {self.identity.tps}", f"Kit {self.identity.kit_id}"]


def _problem_lines(decoded: DecodedForm, problem: Problem, form: FormReading) -> list[str]:
    """A paper mistake in large type, with the numbers as read: a broken rule in two parts,
    a bubble against its box's digit, or the decoder's own words."""
    template = decoded.template
    as_read = {f: d.value for f, d in decoded.fields.items()}
    if problem.kind == "rule":
        for relation in relations_of(template, problem.fields[0]):
            if relation.rule_id == problem.rule_id and relation.fields == problem.fields:
                return list(rule_parts(template, relation, as_read, broken=True))
    if problem.kind == "bubble":
        fid = problem.fields[0]
        reading = form.fields()[fid][1]
        digits = box_digits(as_read[fid], len(reading.bubbles))
        for index, (column, digit) in enumerate(zip(reading.bubbles, digits, strict=True)):
            expected = 0 if digit is None else digit  # an X box: 0, or no bubble
            if bubble_clear(column) and column.digit != expected:
                return [
                    f"{field_name(template, fid)}, kotak ke-{index + 1}:",
                    f"angka {'X' if digit is None else digit}, tetapi bulatan {column.digit}",
                ]
    return [problem.pesan]


def _sentence(text: str) -> str:
    """A line as a sentence: the reader's messages end without a full stop."""
    return text if text.endswith((".", "!", "?", ")")) else f"{text}."
