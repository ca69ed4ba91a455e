"""The kit's screen through the Linux framebuffer device, as Bookworm's KMS stack provides it.

Raspberry Pi OS Bookworm drives the display with KMS (the vc4-kms-v3d overlay on a Pi 4,
the RP1 and vc4 drivers on a Pi 5). The KMS driver keeps the kernel's framebuffer emulation
(fbdev over DRM: /dev/fb0, named ``vc4drmfb`` on a Pi 4), which shows what is written to it
for as long as no program holds the display as DRM master; on the kit's Lite image nothing
does (no desktop). So the kit draws by writing whole frames to /dev/fb0: no X, no Wayland,
no DRM library, and the same code on an HDMI monitor or the DSI panel. The text console
draws on the same framebuffer: scripts/install-kit keeps the login prompt and the blinking
cursor off it (README, "How the kit draws").

The device is opened at the first frame, not at construction or import, and its geometry is
read from sysfs each time it is opened: under KMS that is the connected panel's mode (the
official 7-inch DSI panel is 800 x 480; an HDMI monitor may be 1920 x 1080), which need not
be the size the kit composes its screens at ([screen] width x height), so a frame is scaled
to fit with its proportions kept and the rest left black, never stretched. 16-bit (RGB565)
and 32-bit (XRGB8888) framebuffers are supported, the two the emulation offers.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np

SYSFS = Path("/sys/class/graphics")


class FramebufferError(Exception):
    pass


def fb_geometry(device: Path, sysfs: Path = SYSFS) -> tuple[int, int, int, int]:
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


def fb_driver(device: Path, sysfs: Path = SYSFS) -> str:
    """The framebuffer's driver name ("vc4drmfb": the KMS driver's emulation), or ""."""
    try:
        return (sysfs / device.name / "name").read_text().strip()
    except OSError:
        return ""


def describe(device: Path, size: tuple[int, int], sysfs: Path = SYSFS) -> str:
    """One line for --validate-config: what the kit will draw on, and how."""
    width, height, bpp, _ = fb_geometry(device, sysfs)
    if bpp not in (16, 32):
        raise FramebufferError(f"{device} is {bpp}-bit; the kit draws on 16 or 32-bit only")
    driver = fb_driver(device, sysfs)
    how = "the KMS driver's framebuffer emulation" if "drm" in driver else "a framebuffer"
    line = f"{device} ({driver or 'unnamed'}: {how}), {width} x {height} at {bpp} bits"
    if (width, height) != size:
        fit = letterbox_size(size, (width, height))
        line += f"; screens drawn at {size[0]} x {size[1]} are shown at {fit[0]} x {fit[1]}"
    return line


def letterbox_size(image: tuple[int, int], screen: tuple[int, int]) -> tuple[int, int]:
    """The largest (width, height) with the image's proportions that fits the screen."""
    scale = min(screen[0] / image[0], screen[1] / image[1])
    return max(1, round(image[0] * scale)), max(1, round(image[1] * scale))


def fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``image`` scaled to fit ``width`` x ``height`` with its proportions, centred on black."""
    import cv2

    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return image
    fw, fh = letterbox_size((w, h), (width, height))
    shrink = fw < w
    scaled = cv2.resize(
        image, (fw, fh), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    )
    out = np.zeros((height, width, 3), np.uint8)
    top, left = (height - fh) // 2, (width - fw) // 2
    out[top : top + fh, left : left + fw] = scaled
    return out


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
    def __init__(
        self,
        device: Path = Path("/dev/fb0"),
        size: tuple[int, int] = (800, 480),
        *,
        sysfs: Path = SYSFS,
    ) -> None:
        self.device = device
        self.sysfs = sysfs
        self._size = size
        self._fb: BinaryIO | None = None
        self._geometry: tuple[int, int, int, int] | None = None

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def _open(self) -> tuple[BinaryIO, tuple[int, int, int, int]]:
        if self._fb is None or self._geometry is None:
            self._geometry = fb_geometry(self.device, self.sysfs)
            try:
                self._fb = self.device.open("r+b", buffering=0)
            except OSError as e:
                raise FramebufferError(f"cannot open {self.device}: {e.strerror}") from e
        return self._fb, self._geometry

    def present(self, image: np.ndarray, text: str, kind: str) -> None:
        fb, (width, height, bpp, stride) = self._open()
        fb.seek(0)
        fb.write(to_pixels(fit(image, width, height), bpp, stride))

    def close(self) -> None:
        if self._fb is not None:
            self._fb.close()
            self._fb = None
