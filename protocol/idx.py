"""Reading IDX digit files (the MNIST format), gzip or plain.

Both the model trainer (training) and the form synthesizer (provisioning) read
handwriting from IDX files named ``PREFIX-images-idx3-ubyte.gz`` and
``PREFIX-labels-idx1-ubyte.gz``; this is the one reader.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np


class IdxError(ValueError):
    """An IDX file is missing, truncated or not of the expected kind."""


def _open(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except FileNotFoundError as e:
        raise IdxError(f"{path}: no such IDX file") from e
    return _unzip(raw)


def _unzip(raw: bytes) -> bytes:
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def _read(path: Path, expected_dims: int) -> np.ndarray:
    return _parse(_open(path), expected_dims, str(path))


def _parse(data: bytes, expected_dims: int, name: str) -> np.ndarray:
    if len(data) < 4 or data[0:2] != b"\0\0" or data[2] != 0x08:
        raise IdxError(f"{name}: not an unsigned-byte IDX file")
    dims = data[3]
    if dims != expected_dims:
        raise IdxError(f"{name}: expected {expected_dims} dimensions, found {dims}")
    shape = struct.unpack(f">{dims}I", data[4 : 4 + 4 * dims])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims)
    if body.size != int(np.prod(shape)):
        raise IdxError(f"{name}: truncated ({body.size} bytes for shape {shape})")
    return body.reshape(shape)


def load_digits(prefix: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8, white ink on black, and labels (N,) uint8 for an IDX prefix."""
    prefix = str(prefix)
    images = _read(_resolve(prefix, "images-idx3-ubyte"), 3)
    labels = _read(_resolve(prefix, "labels-idx1-ubyte"), 1)
    return _paired(images, labels, prefix)


def parse_digits(images: bytes, labels: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """As ``load_digits``, from the two files' bytes (plain or gzip); ``name`` is for errors."""
    pixels = _parse(_unzip(images), 3, f"{name} images")
    return _paired(pixels, _parse(_unzip(labels), 1, f"{name} labels"), name)


def _paired(images: np.ndarray, labels: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    if len(images) != len(labels):
        raise IdxError(f"{name}: {len(images)} images but {len(labels)} labels")
    return images, labels


def _resolve(prefix: str, kind: str) -> Path:
    for suffix in (".gz", ""):
        path = Path(f"{prefix}-{kind}{suffix}")
        if path.exists():
            return path
    raise IdxError(f"no {prefix}-{kind}.gz (or uncompressed) file: check the --digits prefix")
