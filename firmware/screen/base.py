"""The screen as the kit sees it, and the display a backend drives."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from protocol.receipt import Receipt


class Screen(Protocol):
    """What the kit shows. ``title`` is the one big line; ``lines`` explain what to do."""

    def show_status(self, title: str, lines: Sequence[str]) -> None: ...

    def show_review(self, card: np.ndarray, title: str, lines: Sequence[str]) -> None: ...

    def show_receipt(self, receipt: Receipt, title: str, lines: Sequence[str]) -> None: ...


class Display(Protocol):
    """A backend: puts one finished RGB image on the glass; ``text`` is its words, for logs."""

    @property
    def size(self) -> tuple[int, int]: ...  # (width, height)

    def present(self, image: np.ndarray, text: str, kind: str) -> None: ...

    def close(self) -> None: ...
