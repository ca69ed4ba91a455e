"""The shipped digit-box model and its normalisation, on committed fixture digits (no torch)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.recognition.model import CLASS_BLANK, CLASS_NAMES, CLASS_X, DEFAULT_MODEL, DigitModel
from edge.recognition.normalise import SIDE, normalise, normalise_batch
from protocol.idx import load_digits
from training import render
from training.evaluate import evaluate, main, render_boxes

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "digits" / "heldout-300"


@pytest.fixture(scope="module")
def model() -> DigitModel:
    m = DigitModel.load()
    m.warm_up()
    return m


class CountingSession:
    """Wraps an onnxruntime session to count how often the model runs."""

    def __init__(self, session):
        self.session, self.calls = session, 0

    def run(self, *args, **kwargs):
        self.calls += 1
        return self.session.run(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.session, name)


def paper_box(size: int = 34, level: int = 210, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(level, 3, (size, size)), 0, 255).astype(np.uint8)


def hand_x(size: int = 34) -> np.ndarray:
    box = paper_box(size)
    cv2.line(box, (8, 7), (26, 27), 40, 3, cv2.LINE_AA)
    cv2.line(box, (25, 6), (9, 28), 40, 3, cv2.LINE_AA)
    return box


def test_constants_and_shipped_file():
    assert (CLASS_X, CLASS_BLANK, len(CLASS_NAMES)) == (10, 11, 12)
    assert CLASS_NAMES[:10] == tuple("0123456789")
    assert DEFAULT_MODEL.is_file()
    assert DEFAULT_MODEL.stat().st_size <= 1_000_000


def test_loads_with_the_files_sha256(model):
    assert model.sha256 == hashlib.sha256(DEFAULT_MODEL.read_bytes()).hexdigest()
    assert DigitModel.load(DEFAULT_MODEL, threads=2).sha256 == model.sha256


def test_classifies_a_page_in_one_call(model):
    counting = CountingSession(model._session)
    model._session = counting
    try:
        rng = np.random.default_rng(3)
        batch = normalise_batch([paper_box(int(s)) for s in rng.integers(20, 80, 70)])
        probs = model.classify(batch)
    finally:
        model._session = counting.session
    assert counting.calls == 1
    assert probs.shape == (70, 12) and probs.dtype == np.float32
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert (probs >= 0).all()


def test_empty_batch_and_bad_shape(model):
    assert model.classify(np.zeros((0, 1, SIDE, SIDE), np.float32)).shape == (0, 12)
    with pytest.raises(ValueError):
        model.classify(np.zeros((3, SIDE, SIDE), np.float32))


def test_reads_fixture_digits_rendered_as_boxes(model):
    images, labels = load_digits(FIXTURE)
    boxes, truth = render_boxes(images, labels, 0, 0, seed=5)
    read = model.classify(normalise_batch(boxes)).argmax(axis=1)
    accuracy = float((read == truth).mean())
    assert accuracy >= 0.97, f"fixture digits read at {accuracy:.3f}"


def test_reads_synthetic_x_and_blank_boxes(model):
    empty = np.zeros((0, 28, 28), np.uint8)
    boxes, truth = render_boxes(empty, empty[:, 0, 0], 40, 40, seed=6)
    read = model.classify(normalise_batch(boxes)).argmax(axis=1)
    assert (read[:40] == CLASS_X).mean() >= 0.95
    assert (read[40:] == CLASS_BLANK).mean() >= 0.95
    assert (truth[:40] == CLASS_X).all()


def test_a_drawn_x_and_an_empty_box(model):
    bordered = paper_box(40)
    bordered[:2, :] = 30  # a sliver of the printed border along the top
    bordered[:, -2:] = 30  # and the right
    batch = normalise_batch([hand_x(), paper_box(), paper_box(60, level=90), bordered])
    read = model.classify(batch).argmax(axis=1).tolist()
    assert read == [CLASS_X, CLASS_BLANK, CLASS_BLANK, CLASS_BLANK]


@pytest.mark.parametrize("size", [20, 27, 34, 45, 62, 80, 90])
def test_normalise_sizes(size):
    images, _ = load_digits(FIXTURE)
    box = render.render_box(render.mnist_glyph(images[0]), np.random.default_rng(size), size=size)
    out = normalise(box)
    assert out.shape == (1, SIDE, SIDE) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert out.max() > 0.5  # the digit survived


def test_normalise_non_square_and_colour():
    out = normalise(cv2.cvtColor(hand_x(36)[:, 2:], cv2.COLOR_GRAY2BGR))
    assert out.shape == (1, SIDE, SIDE)
    with pytest.raises(ValueError):
        normalise(np.zeros((2, 2), np.uint8))


def test_normalise_is_indifferent_to_light(model):
    images, labels = load_digits(FIXTURE)
    rng = np.random.default_rng(9)
    box = render.render_box(render.mnist_glyph(images[7]), rng, clean=True).astype(np.float32)
    ramp = np.linspace(0.45, 1.0, box.shape[1], dtype=np.float32)[None, :]
    variants = [box, box * 0.4, box * ramp, np.minimum(box * 1.2, 255)]
    outs = normalise_batch([v.astype(np.uint8) for v in variants])
    for out in outs[1:]:
        assert np.corrcoef(outs[0].ravel(), out.ravel())[0, 1] > 0.9
    assert (model.classify(outs).argmax(axis=1) == labels[7]).all()


def test_normalise_blank_is_empty_in_any_light():
    for level in (60, 130, 250):
        assert normalise(paper_box(34, level)).max() == 0.0


def test_normalise_a_page_quickly():
    boxes = [paper_box(34, seed=i) for i in range(70)]
    boxes[::3] = [hand_x() for _ in boxes[::3]]
    normalise_batch(boxes)
    start = time.perf_counter()
    normalise_batch(boxes)
    elapsed = time.perf_counter() - start
    assert elapsed < 0.25, f"normalising a page took {elapsed * 1e3:.0f} ms"
    assert normalise_batch([]).shape == (0, 1, SIDE, SIDE)


def test_evaluate_command_on_fixture(capsys):
    assert main(["--digits", str(FIXTURE), "--skip", "250", "--x", "10", "--blank", "10"]) == 0
    out = capsys.readouterr().out
    assert "digits:" in out and "confusion" in out


def test_evaluate_reports_per_kind(model):
    images, labels = load_digits(FIXTURE)
    boxes, truth = render_boxes(images[:20], labels[:20], 5, 5, seed=2, clean=True)
    rep = evaluate(model, boxes, truth)
    assert rep.accuracy(range(10))[1] == 20
    assert rep.confusion().sum() == 30


def test_importing_needs_neither_torch_nor_onnxruntime():
    code = (
        "import sys, edge.recognition, edge.recognition.model, edge.recognition.normalise, "
        "training, training.render, training.data, training.evaluate, "
        "training.net, training.__main__; "
        "assert 'torch' not in sys.modules and 'onnxruntime' not in sys.modules, sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
