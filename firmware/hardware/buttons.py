"""The two buttons. PINDAI: a press captures, a hold cancels; KONFIRMASI: a press confirms.

PINDAI acts on release, not on press: only then is it known whether the press was a press
or the start of a hold, and a hold must never also photograph the page.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from gpiozero import Button

Action = Callable[[], None]
BOUNCE_S = 0.03


class ScanButton:
    """PINDAI: ``on_capture`` after a short press; ``on_cancel`` once held ``hold_s``."""

    def __init__(
        self,
        pin: int,
        *,
        on_capture: Action,
        on_cancel: Action,
        hold_s: float = 3.0,
        pin_factory: Any = None,
    ) -> None:
        self._on_capture = on_capture
        self._on_cancel = on_cancel
        self._held = False
        self._lock = threading.Lock()
        self.button = Button(pin, hold_time=hold_s, bounce_time=BOUNCE_S, pin_factory=pin_factory)
        self.button.when_pressed = self._pressed
        self.button.when_held = self._hold
        self.button.when_released = self._released

    def _pressed(self) -> None:
        with self._lock:
            self._held = False

    def _hold(self) -> None:
        with self._lock:
            self._held = True
        self._on_cancel()

    def _released(self) -> None:
        with self._lock:
            held, self._held = self._held, False
        if not held:
            self._on_capture()

    def close(self) -> None:
        self.button.close()


class ConfirmButton:
    """KONFIRMASI: ``on_confirm`` on each press."""

    def __init__(self, pin: int, *, on_confirm: Action, pin_factory: Any = None) -> None:
        self.button = Button(pin, bounce_time=BOUNCE_S, pin_factory=pin_factory)
        self.button.when_pressed = lambda: on_confirm()

    def close(self) -> None:
        self.button.close()
