"""Ink on paper: real handwritten digits, X marks and filled bubbles, drawn into a page image.

Digits come from IDX files (MNIST: white ink on black, 28x28). Ink darkens the paper
(multiplicative), as a ballpoint does, so printed box borders stay visible under strokes.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle in page pixels (x, y = top-left)."""

    x: float
    y: float
    w: float
    h: float


class DigitBank:
    """Handwritten digit images by label, drawn at random without a fixed order."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self._by_label = {d: images[labels == d] for d in range(10)}
        missing = [d for d, imgs in self._by_label.items() if len(imgs) == 0]
        if missing:
            raise ValueError(f"the digit files hold no examples of {missing}")

    def draw(self, digit: int, rng: np.random.Generator) -> np.ndarray:
        pool = self._by_label[digit]
        return pool[int(rng.integers(len(pool)))]


def _ink_level(rng: np.random.Generator) -> float:
    """How dark the pen is: 1.0 = black; ballpoints and markers vary."""
    return float(rng.uniform(0.65, 0.95))


def _stamp(page: np.ndarray, alpha: np.ndarray, x: int, y: int, darkness: float) -> None:
    """Darken ``page`` by ``alpha`` (0..1 coverage) at (x, y), clipped to the page."""
    h, w = alpha.shape
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, page.shape[1]), min(y + h, page.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    a = alpha[y0 - y : y1 - y, x0 - x : x1 - x]
    region = page[y0:y1, x0:x1].astype(np.float32)
    page[y0:y1, x0:x1] = (region * (1.0 - darkness * a)).astype(np.uint8)


def write_digit(
    page: np.ndarray, box: Rect, digit_image: np.ndarray, rng: np.random.Generator
) -> None:
    """Write one MNIST digit into a box as a person does: not centred, not the same size."""
    # MNIST digits sit in a 20x20 core of the 28x28 image; scale that core to the box height,
    # or to its width where the box is narrow (the A4 copy's tall boxes): a digit is at most
    # about 16 of those 20 px wide, and people write within the box.
    target_h = box.h * rng.uniform(0.62, 0.9)
    scale = min(target_h, box.w * 0.95 * 20.0 / 16.0) / 20.0
    size = max(8, round(28 * scale))
    glyph = cv2.resize(digit_image, (size, size), interpolation=cv2.INTER_LINEAR)
    alpha = glyph.astype(np.float32) / 255.0
    if rng.random() < 0.3:  # thicker or thinner pens
        kernel = np.ones((2, 2), np.uint8)
        alpha = cv2.dilate(alpha, kernel) if rng.random() < 0.6 else cv2.erode(alpha, kernel)
    slant = rng.uniform(-0.15, 0.15)
    shear = np.float32([[1, slant, -slant * size / 2], [0, 1, 0]])
    alpha = cv2.warpAffine(alpha, shear, (size, size))
    jitter_x = rng.uniform(-0.12, 0.12) * box.w
    jitter_y = rng.uniform(-0.1, 0.1) * box.h
    x = round(box.x + box.w / 2 - size / 2 + jitter_x)
    y = round(box.y + box.h / 2 - size / 2 + jitter_y)
    _stamp(page, alpha, x, y, _ink_level(rng))


def write_x(page: np.ndarray, box: Rect, rng: np.random.Generator) -> None:
    """An X in an unused leading box, as KPPS write it: two quick strokes."""
    canvas = np.zeros((round(box.h), round(box.w)), np.float32)
    thickness = max(1, round(min(box.w, box.h) * rng.uniform(0.06, 0.12)))
    margin_x, margin_y = box.w * rng.uniform(0.12, 0.3), box.h * rng.uniform(0.12, 0.3)

    def jitter() -> float:
        return float(rng.uniform(-0.07, 0.07) * box.w)

    a = (margin_x + jitter(), margin_y + jitter())
    b = (box.w - margin_x + jitter(), box.h - margin_y + jitter())
    c = (box.w - margin_x + jitter(), margin_y + jitter())
    d = (margin_x + jitter(), box.h - margin_y + jitter())
    for p, q in ((a, b), (c, d)):
        start = (round(p[0]), round(p[1]))
        end = (round(q[0]), round(q[1]))
        cv2.line(canvas, start, end, 1.0, thickness, cv2.LINE_AA)
    _stamp(page, canvas, round(box.x), round(box.y), _ink_level(rng))


def fill_bubble(
    page: np.ndarray,
    centre: tuple[float, float],
    radius: float,
    rng: np.random.Generator,
    style: str,
) -> None:
    """Blacken a bubble: ``good``, ``sloppy`` (off-centre, partly outside), or ``faint``."""
    canvas_size = round(radius * 4)
    canvas = np.zeros((canvas_size, canvas_size), np.float32)
    mid = canvas_size / 2
    if style == "sloppy":
        offset = rng.uniform(-0.45, 0.45, 2) * radius
        axes = (radius * rng.uniform(0.7, 1.2), radius * rng.uniform(0.55, 1.0))
    else:
        offset = rng.uniform(-0.1, 0.1, 2) * radius
        axes = (radius * rng.uniform(0.85, 1.05), radius * rng.uniform(0.85, 1.05))
    cv2.ellipse(
        canvas,
        (round(mid + offset[0]), round(mid + offset[1])),
        (max(1, round(axes[0])), max(1, round(axes[1]))),
        float(rng.uniform(0, 180)),
        0,
        360,
        1.0,
        -1,
        cv2.LINE_AA,
    )
    darkness = rng.uniform(0.3, 0.5) if style == "faint" else _ink_level(rng)
    x = round(centre[0] - mid)
    y = round(centre[1] - mid)
    _stamp(page, canvas, x, y, darkness)


def number_boxes(value: int, boxes: int) -> list[int | None]:
    """The digits of ``value`` written into ``boxes`` boxes; None marks a leading X box."""
    digits = str(value)
    if len(digits) > boxes:
        raise ValueError(f"{value} does not fit in {boxes} boxes")
    return [None] * (boxes - len(digits)) + [int(d) for d in digits]
