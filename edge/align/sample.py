"""Cutting boxes and bubbles out of an aligned photograph, straight from the frame.

Rather than rectifying the whole 12 MP page, each box is sampled through the homography with
one ``cv2.remap`` for all boxes of a size: the page's pixels are read once, at the camera's
own resolution, and only where a box is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from edge.align.aligner import AlignedPage


@dataclass(frozen=True)
class BoxMm:
    """A digit box's interior in template mm (x, y = top-left)."""

    x: float
    y: float
    w: float
    h: float


def _grid(box: BoxMm, rows: int, cols: int) -> np.ndarray:
    # Pixel centres: the sample for output pixel (r, c) is taken at the middle of its cell.
    xs = box.x + (np.arange(cols, dtype=np.float32) + 0.5) * box.w / cols
    ys = box.y + (np.arange(rows, dtype=np.float32) + 0.5) * box.h / rows
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx, gy], axis=-1)


def sample_boxes(
    frame: np.ndarray, page: AlignedPage, boxes: Sequence[BoxMm], *, max_px: int = 64
) -> list[np.ndarray]:
    """Each box as a grey patch at about the camera's resolution (at most ``max_px`` on its
    longer side, its shape kept: a tall box stays tall)."""
    if not boxes:
        return []
    sizes = []
    for b in boxes:
        rows, cols = b.h * page.px_per_mm, b.w * page.px_per_mm
        shrink = min(1.0, max_px / max(rows, cols))
        sizes.append((max(12, round(rows * shrink)), max(12, round(cols * shrink))))
    grids = [_grid(b, r, c) for b, (r, c) in zip(boxes, sizes, strict=True)]
    # One remap over a strip of all patches (padded to the widest) instead of one per box.
    width = max(c for _, c in sizes)
    strip = np.zeros((sum(r for r, _ in sizes), width, 2), np.float32) - 1.0
    top = 0
    for grid, (rows, cols) in zip(grids, sizes, strict=True):
        strip[top : top + rows, :cols] = grid
        top += rows
    mapped = cv2.perspectiveTransform(strip.reshape(-1, 1, 2), page.homography)
    mapped = mapped.reshape(strip.shape)
    patches = cv2.remap(frame, mapped[..., 0], mapped[..., 1], cv2.INTER_LINEAR, borderValue=255)
    out, top = [], 0
    for rows, cols in sizes:
        out.append(patches[top : top + rows, :cols])
        top += rows
    return out


def bubble_darkness(
    frame: np.ndarray,
    page: AlignedPage,
    centres_mm: np.ndarray,
    radius_mm: float,
    *,
    samples: int = 9,
) -> np.ndarray:
    """How much of each bubble's inner disc is inked: 0 = paper, 1 = as black as the marks.

    Measured inside 70 % of the radius, so the printed outline does not count as ink.
    """
    centres = np.asarray(centres_mm, np.float32).reshape(-1, 2)
    offsets = np.linspace(-0.7, 0.7, samples, dtype=np.float32) * radius_mm
    ox, oy = np.meshgrid(offsets, offsets)
    inside = (ox**2 + oy**2) <= (0.7 * radius_mm) ** 2
    disc = np.stack([ox[inside], oy[inside]], axis=-1)
    points = (centres[:, None, :] + disc[None, :, :]).reshape(-1, 1, 2)
    mapped = cv2.perspectiveTransform(points, page.homography).reshape(-1, 2)
    values = (
        cv2.remap(
            frame,
            mapped[:, 0].reshape(1, -1),
            mapped[:, 1].reshape(1, -1),
            cv2.INTER_LINEAR,
            borderValue=255,
        )
        .reshape(len(centres), -1)
        .astype(np.float32)
    )
    ink = (page.paper_level - values) / max(page.contrast, 1.0)
    return np.clip(ink, 0.0, 1.0).mean(axis=1)
