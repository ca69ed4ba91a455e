"""What the kit shows (views), the screen that shows them, and the display a backend drives.

Every view has a tone, drawn as the colour of its title band, so the state reads from across
the table before a word is read: green ready or accepted, orange look at the paper, red a
paper mistake or a refusal, blue the kit is busy. Every view says what each button does now
(``Buttons``); a button with nothing to do is not named.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from protocol.receipt import Receipt


class Tone(enum.StrEnum):
    READY = "ready"  # ready, or accepted: green
    LOOK = "look"  # compare with the paper: orange
    STOP = "stop"  # a paper mistake, a refusal, a failure: red
    BUSY = "busy"  # photographing, reading, signing: blue


# RGB. White text on each reads at a contrast of at least 4.5:1.
TONES: dict[Tone, tuple[int, int, int]] = {
    Tone.READY: (0, 112, 45),
    Tone.LOOK: (190, 80, 0),
    Tone.STOP: (185, 0, 0),
    Tone.BUSY: (35, 65, 120),
}
TRAINING = (128, 0, 160)  # purple: the LATIHAN band; no state uses it


@dataclass(frozen=True)
class Buttons:
    """What a press of each button does now, in a few words; None: nothing."""

    scan: str | None = None
    confirm: str | None = None


@dataclass(frozen=True)
class StatusView:
    tone: Tone
    title: str  # what happened and the next step, one line
    lines: Sequence[str] = ()
    buttons: Buttons = field(default_factory=Buttons)
    kind: str = "status"


@dataclass(frozen=True)
class NumbersView:
    """The result before signing: the numbers that count, in large type."""

    tone: Tone
    title: str
    numbers: Sequence[tuple[str, str]]  # (name, value) in the form's order
    lines: Sequence[str] = ()
    buttons: Buttons = field(default_factory=Buttons)
    kind: str = "review"


@dataclass(frozen=True)
class MistakeView:
    """A mistake on the paper: where, and the broken rule with the numbers as read."""

    title: str
    where: str  # "Halaman 2 dan 3:"
    rule: Sequence[str]  # the rule in large type, one part per line
    lines: Sequence[str] = ()
    buttons: Buttons = field(default_factory=Buttons)
    tone: Tone = Tone.STOP
    kind: str = "mistake"


@dataclass(frozen=True)
class ReceiptView:
    receipt: Receipt
    title: str
    lines: Sequence[str] = ()
    buttons: Buttons = field(default_factory=Buttons)
    tone: Tone = Tone.READY
    kind: str = "receipt"
    url: str = ""  # the hub's page answering it (protocol.receipt.receipt_url), if known

    @property
    def qr_text(self) -> str:
        """What the QR code holds: the hub's page for this receipt, else the receipt's text."""
        return self.url or self.receipt.text()


class Screen(Protocol):
    """What the kit shows: one view at a time (firmware.screen.look.LookView too)."""

    def show(self, view: object) -> None: ...


class Display(Protocol):
    """A backend: puts one finished RGB image on the glass; ``text`` is its words, for logs."""

    @property
    def size(self) -> tuple[int, int]: ...  # (width, height)

    def present(self, image: np.ndarray, text: str, kind: str) -> None: ...

    def close(self) -> None: ...
