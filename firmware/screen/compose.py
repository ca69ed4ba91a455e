"""Drawing the kit's screens (RGB numpy images) with OpenCV, and the LATIHAN band.

OpenCV's Hershey fonts draw ASCII only: every line the kit shows is plain ASCII Indonesian.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from protocol.receipt import TRAINING_MARK, Receipt

WHITE = (255, 255, 255)
BLACK = (20, 20, 20)
TRAINING_BAND = (128, 0, 160)  # purple: no other signal on the kit uses it
TITLE_BAND = (30, 60, 110)
BAND_FRACTION = 0.12
_FONT = cv2.FONT_HERSHEY_DUPLEX


class ComposedScreen:
    """The Screen the kit uses: draws each screen, then hands it to a Display."""

    def __init__(self, display: object, *, training: bool) -> None:
        self.display = display
        self.training = training

    def show_status(self, title: str, lines: Sequence[str]) -> None:
        self._present("status", title, lines, None)

    def show_review(self, card: np.ndarray, title: str, lines: Sequence[str]) -> None:
        self._present("review", title, lines, card)

    def show_receipt(self, receipt: Receipt, title: str, lines: Sequence[str]) -> None:
        text_lines = [*lines, f"TPS {receipt.tps}  No. {receipt.seq}", receipt.sha256[:32]]
        qr = qr_image(receipt.text(), module_px=1)  # scaled up whole on the screen
        self._present("receipt", title, text_lines, qr, receipt.text())

    def _present(
        self,
        kind: str,
        title: str,
        lines: Sequence[str],
        picture: np.ndarray | None,
        payload: str | None = None,
    ) -> None:
        width, height = self.display.size  # type: ignore[attr-defined]
        image = compose(width, height, title, lines, picture, training=self.training)
        words = [TRAINING_MARK] if self.training else []
        words += [title, *lines]
        if payload is not None:
            words.append(f"QR: {payload}")
        self.display.present(image, "\n".join(words), kind)  # type: ignore[attr-defined]


def compose(
    width: int,
    height: int,
    title: str,
    lines: Sequence[str],
    picture: np.ndarray | None,
    *,
    training: bool,
) -> np.ndarray:
    """One screen: [LATIHAN band], title band, then the picture (left) and the lines."""
    image = np.full((height, width, 3), WHITE, np.uint8)
    band = max(24, int(height * BAND_FRACTION))
    top = 0
    if training:
        _band(image, 0, band, TRAINING_BAND, f"{TRAINING_MARK} - bukan hasil resmi")
        top = band
    _band(image, top, band, TITLE_BAND, title)
    top += band
    left = 8
    if picture is not None:
        left = _place(image, picture, top + 6, 6, height - top - 12, width // 2)
    _lines(image, lines, left + 10, top + 6, width - left - 16)
    if training:  # a corner mark too: a photo of the card alone still says LATIHAN
        _text(image, TRAINING_MARK, (width - 150, height - 12), 0.8, TRAINING_BAND, 2)
    return image


def qr_image(text: str, *, module_px: int = 6, border: int = 4) -> np.ndarray:
    """The QR code of ``text`` (segno, error correction M) as an RGB image."""
    import segno

    code = segno.make(text, error="m", micro=False)
    matrix = np.array([list(row) for row in code.matrix], np.uint8)
    matrix = np.pad(matrix, border)
    pixels = np.where(np.kron(matrix, np.ones((module_px, module_px), np.uint8)), 0, 255)
    return np.repeat(pixels.astype(np.uint8)[:, :, None], 3, axis=2)


def _band(
    image: np.ndarray, top: int, height: int, colour: tuple[int, int, int], text: str
) -> None:
    image[top : top + height] = colour
    scale = _fit(text, image.shape[1] - 20, height - 10)
    (_, th), _ = cv2.getTextSize(text, _FONT, scale, 2)
    _text(image, text, (10, top + (height + th) // 2), scale, WHITE, 2)


def _place(image: np.ndarray, picture: np.ndarray, top: int, left: int, h: int, w: int) -> int:
    """Scale ``picture`` into the box (keeping its shape); return its right edge."""
    ph, pw = picture.shape[:2]
    k = min(h / ph, w / pw)
    # Upscale by a whole factor with nearest: every QR module the same size and crisp, as
    # a phone's QR reader needs; downscale the card's photo by area.
    k = float(int(k)) if k >= 1 else k
    size = (max(1, int(pw * k)), max(1, int(ph * k)))
    interpolation = cv2.INTER_NEAREST if k >= 1 else cv2.INTER_AREA
    scaled = cv2.resize(picture, size, interpolation=interpolation)
    if scaled.ndim == 2:
        scaled = np.repeat(scaled[:, :, None], 3, axis=2)
    image[top : top + size[1], left : left + size[0]] = scaled
    return left + size[0]


def _lines(image: np.ndarray, lines: Sequence[str], x: int, y: int, width: int) -> None:
    scale = 0.6
    step = int(34 * scale / 0.6)
    for line in _wrapped(lines, width, scale):
        y += step
        if y > image.shape[0] - 24:
            break
        _text(image, line, (x, y), scale, BLACK, 1)


def _wrapped(lines: Sequence[str], width: int, scale: float) -> list[str]:
    out: list[str] = []
    for line in lines:
        words, current = line.split(" "), ""
        for word in words:
            trial = f"{current} {word}".strip()
            if current and cv2.getTextSize(trial, _FONT, scale, 1)[0][0] > width:
                out.append(current)
                current = word
            else:
                current = trial
        out.append(current)
    return out


def _fit(text: str, width: int, height: int) -> float:
    scale = 1.4
    while scale > 0.4:
        (w, h), _ = cv2.getTextSize(text, _FONT, scale, 2)
        if w <= width and h <= height:
            break
        scale -= 0.1
    return scale


def _text(
    image: np.ndarray,
    text: str,
    at: tuple[int, int],
    scale: float,
    colour: tuple[int, int, int],
    thickness: int,
) -> None:
    ascii_text = text.encode("ascii", "replace").decode()
    cv2.putText(image, ascii_text, at, _FONT, scale, colour, thickness, cv2.LINE_AA)
