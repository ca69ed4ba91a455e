"""Drawing on the kit's screen: text no smaller than the KPPS can read, bands, button keys.

Sizes are given as the height of a capital letter in pixels (``caps``): OpenCV's Hershey
Duplex draws capitals 20 px tall at scale 1.0, so ``caps`` 24 is scale 1.2. Nothing on the
screen is drawn below ``MIN_CAPS`` (24 px capitals, larger than a 24 px font's): the KPPS
reads it at arm's length, late at night, on an 800 x 480 panel. A :class:`Canvas` records
every text it draws with its size and place, and any text that did not fit, so the tests can
check each screen without reading pixels back.

OpenCV's Hershey fonts draw ASCII only: every line the kit shows is plain ASCII Indonesian.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

MIN_CAPS = 24
CAPS_AT_SCALE_1 = 20  # px: a capital of Hershey Duplex at fontScale 1.0 (measured)
DESCENT = 0.35  # of the capital height: how far g, p, y reach below the baseline
LINE = 1.45  # line pitch, in capital heights
FONT = cv2.FONT_HERSHEY_DUPLEX

WHITE = (255, 255, 255)
INK = (20, 20, 20)
KEY = (45, 45, 45)  # the button names, drawn as dark keys


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h


@dataclass(frozen=True)
class Drawn:
    """One line of text as drawn: its words, capital height and bounding box."""

    text: str
    caps: int
    rect: Rect
    colour: tuple[int, int, int]


@dataclass(frozen=True)
class Placed:
    """A picture on the screen: what it is, where, and its scale (px per mm of the page)."""

    name: str
    rect: Rect
    px_per_mm: float = 0.0


@dataclass
class Canvas:
    """An RGB image being drawn, with the record of what went on it."""

    width: int
    height: int
    image: np.ndarray = field(init=False)
    texts: list[Drawn] = field(default_factory=list)
    pictures: list[Placed] = field(default_factory=list)
    bands: list[tuple[Rect, tuple[int, int, int]]] = field(default_factory=list)
    overflow: list[str] = field(default_factory=list)  # words that did not fit: a bug

    def __post_init__(self) -> None:
        self.image = np.full((self.height, self.width, 3), WHITE, np.uint8)

    # -- text -----------------------------------------------------------------------------

    def text(
        self,
        text: str,
        x: int,
        baseline: int,
        caps: int,
        colour: tuple[int, int, int] = INK,
    ) -> Rect:
        """One line with its baseline at ``baseline``; returns the box it covers."""
        if caps < MIN_CAPS:
            raise ValueError(f"{caps} px capitals are below the screen's minimum {MIN_CAPS}")
        scale = caps / CAPS_AT_SCALE_1
        thick = max(2, round(caps / 11))
        ascii_text = text.encode("ascii", "replace").decode()
        width = text_width(ascii_text, caps)
        rect = Rect(x, baseline - caps, width, caps + round(DESCENT * caps))
        cv2.putText(self.image, ascii_text, (x, baseline), FONT, scale, colour, thick, cv2.LINE_AA)
        self.texts.append(Drawn(ascii_text, caps, rect, colour))
        if rect.right > self.width or rect.bottom > self.height or rect.y < 0:
            self.overflow.append(ascii_text)
        return rect

    def paragraph(
        self,
        lines: Sequence[str],
        box: Rect,
        caps: Sequence[int],
        colour: tuple[int, int, int] = INK,
        *,
        spaced: bool = True,
    ) -> int:
        """Wrap ``lines`` into ``box`` at the first size of ``caps`` at which they all fit
        (the last size regardless, noting what overflows), with a little space between the
        lines given (``spaced``: they are sentences apart); returns the y below the text."""
        size = caps[-1]
        for c in caps:
            if text_height(lines, box.w, c, spaced) <= box.h:
                size = c
                break
        y = box.y
        for n, line in enumerate(lines):
            if n and spaced:
                y += gap(size)
            for part in wrap([line], box.w, size):
                if y + pitch(size) > box.bottom:
                    self.overflow.append(part)
                    continue
                self.text(part, box.x, y + size + (pitch(size) - size) // 3, size, colour)
                y += pitch(size)
        return y

    # -- shapes ---------------------------------------------------------------------------

    def band(self, rect: Rect, colour: tuple[int, int, int]) -> None:
        self.image[rect.y : rect.bottom, rect.x : rect.right] = colour
        self.bands.append((rect, colour))

    def picture(self, name: str, image: np.ndarray, x: int, y: int, px_per_mm: float = 0.0) -> Rect:
        h, w = image.shape[:2]
        if image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)
        rect = Rect(x, y, w, h)
        if rect.right > self.width or rect.bottom > self.height:
            self.overflow.append(f"picture {name}")
            image = image[: self.height - y, : self.width - x]
        self.image[y : y + image.shape[0], x : x + image.shape[1]] = image
        self.pictures.append(Placed(name, rect, px_per_mm))
        return rect

    def frame(self, rect: Rect, colour: tuple[int, int, int], thickness: int) -> None:
        cv2.rectangle(
            self.image, (rect.x, rect.y), (rect.right - 1, rect.bottom - 1), colour, thickness
        )

    def key(self, name: str, action: str, x: int, baseline: int, caps: int) -> Rect:
        """A button's name as a dark key, then what pressing it does now."""
        pad = caps // 4
        width = text_width(name, caps) + 2 * pad
        top = baseline - caps - pad
        key = Rect(x, top, width, caps + 2 * pad)
        self.image[key.y : key.bottom, key.x : key.right] = KEY
        self.text(name, x + pad, baseline, caps, WHITE)
        end = self.text(action, key.right + pad, baseline, caps, INK)
        return Rect(x, key.y, end.right - x, key.h)

    @property
    def smallest(self) -> int:
        return min((t.caps for t in self.texts), default=MIN_CAPS)


def text_width(text: str, caps: int) -> int:
    scale = caps / CAPS_AT_SCALE_1
    thick = max(2, round(caps / 11))
    return cv2.getTextSize(text, FONT, scale, thick)[0][0]


def pitch(caps: int) -> int:
    return round(caps * LINE)


def gap(caps: int) -> int:
    """Between two lines given apart (two sentences), more than between a line's parts."""
    return caps // 3


def text_height(lines: Sequence[str], width: int, caps: int, spaced: bool = True) -> int:
    """How tall a paragraph of ``lines`` is, wrapped to ``width``."""
    parts = sum(len(wrap([line], width, caps)) for line in lines)
    return parts * pitch(caps) + (max(0, len(lines) - 1) * gap(caps) if spaced else 0)


def wrap(lines: Sequence[str], width: int, caps: int) -> list[str]:
    """Each line broken at spaces so it fits ``width``; a word too long stays whole."""
    out: list[str] = []
    for line in lines:
        current = ""
        for word in line.split(" "):
            trial = f"{current} {word}".strip()
            if current and text_width(trial, caps) > width:
                out.append(current)
                current = word
            else:
                current = trial
        out.append(current)
    return out


def fit(text: str, width: int, caps: Sequence[int]) -> int:
    """The first size of ``caps`` at which ``text`` fits on one line of ``width`` (the last
    size if none does)."""
    for c in caps:
        if text_width(text, c) <= width:
            return c
    return caps[-1]
