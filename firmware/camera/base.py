"""What every camera backend gives the kit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


class CameraError(Exception):
    """The camera cannot take a picture; ``pesan`` is the screen's line."""

    def __init__(self, message: str, pesan: str = "Kamera bermasalah: hubungi teknisi") -> None:
        super().__init__(message)
        self.pesan = pesan


@dataclass(frozen=True)
class Capture:
    """One still: grey pixels for the reader, and the encoded bytes as stored.

    The document signs the SHA-256 of ``data`` (what the hub receives), so the reader must
    read the pixels decoded from exactly these bytes.
    """

    frame: np.ndarray
    data: bytes


class Camera(Protocol):
    def capture(self) -> Capture: ...

    def close(self) -> None: ...


def decode_grey(data: bytes, source: str) -> np.ndarray:
    import cv2

    frame = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if frame is None:
        raise CameraError(f"{source} is not an image (JPEG or PNG expected)")
    return frame
