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
  page rescanned. "Needs a look": confirm means the KPPS compared the marked numbers with
  the paper, so the doubtful fields are signed as ``confirmed``.
- A press that arrives while the kit is busy (a double press during reading) is dropped,
  not replayed after it.
"""

from __future__ import annotations

import collections
import datetime as dt
import enum
import hashlib
import logging
import queue
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from edge.decode.decide import DecodedForm, decode_form
from edge.decode.signing import document_fields
from edge.errors import EdgeError, NotConfirmedError, PageRefusedError
from edge.outbox import Outbox, OutboxError
from edge.read.form import FormReading
from edge.read.page import PageReader, PageReading
from edge.uplink import EventKind, UplinkEvent
from firmware.camera.base import Camera, CameraError, Capture
from firmware.hardware.patterns import Signal, rest_signal
from firmware.identity import KitIdentity
from firmware.screen.base import Screen
from protocol.document import ResultDocument, parse_document
from protocol.errors import ProtocolError
from protocol.receipt import Receipt
from protocol.result import sign_result

log = logging.getLogger(__name__)


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
class Message:
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
        render_card: Callable[..., object] | None = None,
    ) -> None:
        self.identity = identity
        self.camera = camera
        self.screen = screen
        self.lights = lights
        self.reader = reader
        self.template_sha256 = dict(template_sha256)
        self.outbox = outbox
        self.uplink = uplink
        self.clock = clock
        self._render_card = render_card
        self.events: queue.Queue[Event] = queue.Queue()
        self.state = State.IDLE
        self.signal: Signal | None = None
        self.recent_signals: collections.deque[Signal] = collections.deque(maxlen=32)
        self.online = False
        self.message: Message | None = None  # the last refusal or failure shown
        self.form = FormReading()
        self.captures: dict[int, Capture] = {}
        self.captured_at: dt.datetime | None = None
        self.decoded: DecodedForm | None = None
        self.receipt: Receipt | None = None
        self.awaiting: int | None = None  # seq signed here whose hub verdict is awaited
        self._busy_until = 0.0

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
        try:
            {Press.SCAN: self.scan, Press.CANCEL: self.cancel, Press.CONFIRM: self.confirm}[
                event.press
            ]()
        finally:
            self._busy_until = time.monotonic()

    # -- start ----------------------------------------------------------------------------

    def start(self) -> None:
        self.state = State.IDLE
        self._show_rest("Siap", [self._next_page_line(), *self._who()])

    # -- scanning -------------------------------------------------------------------------

    def scan(self) -> None:
        """PINDAI: photograph the page under the boom, read it, add it to the form."""
        if self.state in (State.QUEUED, State.DELIVERED):
            self._new_form()  # the next form, or a rescan: a new version with a higher seq
        self._enter(State.CAPTURE, Signal.CAPTURING)
        self.screen.show_status("Memotret...", ["Jangan sentuh kertas"])
        try:
            capture = self.camera.capture()
            self._enter(State.READ, Signal.READING)
            self.screen.show_status("Membaca...", ["Jangan sentuh kertas"])
            template = self.form.template
            hint = None if template is None else template.id
            page = self.reader.read(capture.frame, capture.data, form_hint=hint)
            self._add_page(page)
        except PageRefusedError as e:
            # Only the refused page is scanned again: say which one it was, where known.
            title = "Halaman tidak terbaca" if e.page is None else f"Halaman {e.page} tidak terbaca"
            self._fail(Message(title, e.pesan), e)
            return
        except CameraError as e:
            self._fail(Message("Halaman tidak terbaca", e.pesan), e)
            return
        except Exception as e:  # a bug must not leave the kit stuck mid-scan
            log.exception("reading failed")
            self._fail(Message("Gagal membaca", "Terjadi kesalahan: hubungi teknisi"), e)
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
            return
        self.form.add(page)

    def _next_page(self, read: int) -> None:
        self.state = State.IDLE
        self._signal(Signal.NEXT_PAGE)
        template = self.form.template
        assert template is not None
        lines = [
            f"Halaman {read} dari {template.page_count} terbaca.",
            self._next_page_line(),
            "Tahan PINDAI 3 detik untuk membatalkan.",
        ]
        self.screen.show_status(f"Halaman {read} terbaca", lines)

    def _review(self) -> None:
        self.decoded = decoded = decode_form(self.form)
        self.state = State.REVIEW
        signal, lines = _review_signal(decoded)
        self._signal(signal)
        card = self._card(decoded)
        if card is None:
            self.screen.show_status(decoded.summary, lines)
        else:
            self.screen.show_review(card, decoded.summary, lines)

    def _card(self, decoded: DecodedForm) -> object | None:
        """The review card of the page the KPPS should look at first."""
        if self._render_card is None:
            from edge.card.render import render_card

            self._render_card = render_card
        page = _page_to_show(decoded, self.form)
        capture = self.captures.get(page)
        if capture is None:
            return None
        return self._render_card(capture.frame, self.form.pages[page], decoded)

    # -- cancel ---------------------------------------------------------------------------

    def cancel(self) -> None:
        """Hold PINDAI: drop the form in progress (nothing signed is ever undone)."""
        if self.state not in (State.IDLE, State.REVIEW) or not self.form.pages:
            return
        self._new_form()
        self.state = State.IDLE
        self._signal(Signal.CANCELLED)  # its sound; the lights go back to rest at once
        self._show_rest("Dibatalkan", [self._next_page_line(), *self._who()])

    # -- confirm and sign -----------------------------------------------------------------

    def confirm(self) -> None:
        """KONFIRMASI: sign the reviewed form, store it, and hand it to the uplink."""
        if self.state != State.REVIEW or self.decoded is None:
            return  # nothing to confirm: a stray press changes nothing
        decoded = self.decoded
        if decoded.verdict != "accept" and decoded.verdict != "needs a look":
            self._signal(Signal.PAPER_MISTAKE)
            self.screen.show_status(
                "Tidak bisa ditandatangani",
                [decoded.summary, "Perbaiki formulir, lalu PINDAI ulang halaman itu."],
            )
            return
        self._enter(State.SIGN, Signal.SIGNING)
        self.screen.show_status("Menandatangani...", [])
        try:
            document = self.build_document(decoded)
            signed = sign_result(document, self.identity.key, self.identity.certificate)
            images = [self.captures[p].data for p in sorted(self.captures)]
            entry = self.outbox.add(signed, images)
        except (NotConfirmedError, OutboxError, ProtocolError, EdgeError) as e:
            pesan = getattr(e, "pesan", None) or "Gagal menyimpan hasil: hubungi teknisi"
            self._fail(Message("Gagal menandatangani", pesan), e)
            return
        if self.uplink is not None:
            self.uplink.wake()
        self.receipt = Receipt(self.identity.tps, entry.seq, entry.sha256, self.training)
        self.awaiting = entry.seq
        self.state = State.QUEUED
        self._signal(Signal.QUEUED)
        self.screen.show_receipt(
            self.receipt,
            "Ditandatangani",
            ["Saksi: foto kode QR ini.", self._network_line()],
        )

    def build_document(self, decoded: DecodedForm) -> ResultDocument:
        """The result as confirmed: next in this kit's chain, fields and evidence from the
        decoder (doubtful fields become ``confirmed``: the KPPS looked), the page hashes,
        and the model and template that read it."""
        confirmed = decoded.doubtful if decoded.verdict == "needs a look" else ()
        fields, evidence = document_fields(decoded, confirmed=confirmed)
        head = self.outbox.next_chain()
        template = decoded.template
        captured = (self.captured_at or self.clock()).astimezone(dt.UTC)
        pages = [
            {"page": n, "sha256": hashlib.sha256(self.captures[n].data).hexdigest()}
            for n in sorted(self.captures)
        ]
        return parse_document(
            {
                "format": "tps-result/1",
                "election": self.identity.election,
                "form": template.id,
                "form_version": template.version,
                "tps": self.identity.tps,
                "kit": self.identity.kit_id,
                "seq": head.seq,
                "captured_at": captured.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "fields": fields,
                "evidence": dict(evidence),
                "pages": pages,
                "model_sha256": self.reader.model.sha256,
                "template_sha256": self.template_sha256[template.id],
                "prev_sha256": head.prev_sha256,
            }
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
            self.screen.show_receipt(
                self.receipt, "Diterima server", ["Hasil sudah diterima dan dicatat.", "Selesai."]
            )
        elif kind in (EventKind.REJECTED, EventKind.REFUSED) and self.state == State.QUEUED:
            detail = event.detail or kind.value
            self._fail(
                Message("Ditolak server", f"Hasil ditolak ({detail}): hubungi teknisi"),
                RuntimeError(detail),
                keep_form=False,
            )

    # -- helpers --------------------------------------------------------------------------

    def _new_form(self) -> None:
        self.form = FormReading()
        self.captures = {}
        self.captured_at = None
        self.decoded = None

    def _enter(self, state: State, signal: Signal) -> None:
        self.state = state
        self._signal(signal)

    def _signal(self, signal: Signal) -> None:
        self.signal = signal
        self.recent_signals.append(signal)
        self.lights.show(signal)

    def _show_rest(self, title: str, lines: Sequence[str]) -> None:
        self._signal(rest_signal(training=self.training, online=self.online))
        self.screen.show_status(title, lines)

    def _fail(self, message: Message, error: BaseException, *, keep_form: bool = True) -> None:
        """Back to idle with the message and the error pattern."""
        log.warning("%s: %s", message.title, error)
        self.message = message
        self.state = State.IDLE
        if not keep_form:
            self._new_form()
        self._signal(Signal.ERROR)
        self.screen.show_status(message.title, [message.pesan, self._next_page_line()])

    def _next_page_line(self) -> str:
        template = self.form.template
        if template is None:
            return "Letakkan halaman 1 formulir dan tekan PINDAI."
        if self.form.complete:
            return "Semua halaman masuk: PINDAI ulang satu halaman untuk memeriksa lagi."
        return f"Letakkan halaman {self.form.next_page} dari {template.page_count}, tekan PINDAI."

    def _network_line(self) -> str:
        if self.online:
            return "Sedang dikirim ke server."
        return "Belum ada jaringan: hasil tersimpan dan dikirim nanti."

    def _who(self) -> list[str]:
        return [f"TPS {self.identity.tps}", f"Kit {self.identity.kit_id}"]


def _review_signal(decoded: DecodedForm) -> tuple[Signal, list[str]]:
    if decoded.verdict == "accept":
        return Signal.REVIEW_OK, [
            "Periksa angka di layar dengan formulir.",
            "Tekan KONFIRMASI untuk menandatangani, atau PINDAI ulang.",
        ]
    if decoded.verdict == "needs a look":
        names = ", ".join(decoded.fields[f].name for f in decoded.doubtful)
        return Signal.REVIEW_NEEDS_LOOK, [
            f"Cocokkan dengan formulir: {names}." if names else "Cocokkan dengan formulir.",
            "Jika sama, tekan KONFIRMASI. Jika tidak, PINDAI ulang.",
        ]
    return Signal.PAPER_MISTAKE, [
        *(p.pesan for p in decoded.problems[:3]),
        "Perbaiki formulir, lalu PINDAI ulang halaman itu.",
    ]


def _page_to_show(decoded: DecodedForm, form: FormReading) -> int:
    """The page of the first problem or doubtful field, else the last page."""
    for problem in decoded.problems:
        for fid in problem.fields:
            if fid in decoded.fields:
                return decoded.fields[fid].page
    for fid in decoded.doubtful:
        return decoded.fields[fid].page
    return max(form.pages)
