"""The kit's screen through the Linux framebuffer (an HDMI or DSI panel, no X or Wayland).

The device is opened at the first frame, not at construction or import, and its geometry
is read from sysfs: 16-bit (RGB565) and 32-bit (BGRX) framebuffers are supported, which
covers the Pi's HDMI and DSI outputs under Raspberry Pi OS's default fbdev set-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np


class FramebufferError(Exception):
    pass


def fb_geometry(
    device: Path, sysfs: Path = Path("/sys/class/graphics")
) -> tuple[int, int, int, int]:
    """(width, height, bits per pixel, bytes per line) of a framebuffer device from sysfs."""
    info = sysfs / device.name
    try:
        width, height = (int(v) for v in (info / "virtual_size").read_text().strip().split(","))
        bpp = int((info / "bits_per_pixel").read_text().strip())
        stride_file = info / "stride"
        stride = int(stride_file.read_text()) if stride_file.exists() else width * bpp // 8
    except (OSError, ValueError) as e:
        raise FramebufferError(f"cannot read {device}'s geometry from {info}: {e}") from e
    return width, height, bpp, stride


def to_pixels(image: np.ndarray, bpp: int, stride: int | None = None) -> bytes:
    """RGB (h, w, 3) uint8 to the framebuffer's byte layout, each line padded to ``stride``."""
    r, g, b = (image[:, :, i].astype(np.uint16) for i in range(3))
    if bpp == 16:
        out = (((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3)).astype("<u2").view(np.uint8)
    elif bpp == 32:
        out = np.zeros((*image.shape[:2], 4), np.uint8)
        out[:, :, 0], out[:, :, 1], out[:, :, 2] = image[:, :, 2], image[:, :, 1], image[:, :, 0]
        out[:, :, 3] = 255
    else:
        raise FramebufferError(f"{bpp}-bit framebuffers are not supported (16 or 32)")
    rows = out.reshape(image.shape[0], -1)
    if stride is not None and stride > rows.shape[1]:  # some panels pad each line
        rows = np.pad(rows, ((0, 0), (0, stride - rows.shape[1])))
    return rows.tobytes()


class FramebufferDisplay:
    def __init__(self, device: Path = Path("/dev/fb0"), size: tuple[int, int] = (800, 480)):
        self.device = device
        self._size = size
        self._fb: BinaryIO | None = None
        self._geometry: tuple[int, int, int, int] | None = None

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def _open(self) -> tuple[BinaryIO, tuple[int, int, int, int]]:
        if self._fb is None or self._geometry is None:
            self._geometry = fb_geometry(self.device)
            try:
                self._fb = self.device.open("r+b", buffering=0)
            except OSError as e:
                raise FramebufferError(f"cannot open {self.device}: {e.strerror}") from e
        return self._fb, self._geometry

    def present(self, image: np.ndarray, text: str, kind: str) -> None:
        import cv2

        fb, (width, height, bpp, stride) = self._open()
        if image.shape[1] != width or image.shape[0] != height:
            image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
        fb.seek(0)
        fb.write(to_pixels(image, bpp, stride))

    def close(self) -> None:
        if self._fb is not None:
            self._fb.close()
            self._fb = None
