"""A screen that writes each frame as a PNG and its words to a text log (tests, laptops)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Shown:
    kind: str  # status, review, look, mistake or receipt
    text: str
    path: Path


class FileDisplay:
    def __init__(self, directory: Path, size: tuple[int, int] = (800, 480)) -> None:
        self.directory = directory
        self._size = size
        self.shown: list[Shown] = []
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    @property
    def last(self) -> Shown:
        return self.shown[-1]

    def present(self, image: np.ndarray, text: str, kind: str) -> None:
        import cv2

        path = self.directory / f"{len(self.shown) + 1:04d}-{kind}.png"
        if not cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
            raise OSError(f"cannot write {path}")
        with (self.directory / "screen.log").open("a", encoding="utf-8") as log:
            log.write(f"--- {path.name}\n{text}\n")
        self.shown.append(Shown(kind, text, path))

    def close(self) -> None:
        pass


class TextDisplay:
    """Words only, to a callback: the one-shot ``tps-kit scan`` prints the screen's lines."""

    def __init__(self, emit: object, size: tuple[int, int] = (800, 480)) -> None:
        self._emit = emit
        self._size = size

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def present(self, image: np.ndarray, text: str, kind: str) -> None:
        self._emit(f"[{kind}] " + text.replace("\n", "\n  "))  # type: ignore[operator]

    def close(self) -> None:
        pass
