"""Images from files, in order: development, tests, ``tps-kit scan --image``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from firmware.camera.base import CameraError, Capture, decode_grey

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def expand(sources: Sequence[Path]) -> list[Path]:
    """Files as given; a folder stands for its images in name order."""
    out: list[Path] = []
    for source in sources:
        if source.is_dir():
            out += sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            out.append(source)
    return out


class FileCamera:
    """Each capture is the next image; after the last, an error (or the first, with loop)."""

    def __init__(self, sources: Sequence[Path], *, loop: bool = False) -> None:
        self.paths = expand(sources)
        self.loop = loop
        self._next = 0

    @property
    def remaining(self) -> int:
        return len(self.paths) - self._next

    def capture(self) -> Capture:
        if self._next >= len(self.paths):
            if not self.loop or not self.paths:
                raise CameraError("no more images for the files camera", "Tidak ada gambar lagi")
            self._next = 0
        path = self.paths[self._next]
        self._next += 1
        try:
            data = path.read_bytes()
        except OSError as e:
            raise CameraError(f"cannot read {path}: {e.strerror}") from e
        return Capture(decode_grey(data, str(path)), data)

    def close(self) -> None:
        pass
