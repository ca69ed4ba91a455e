"""``python -m training.evaluate``: measure a digit model on held-out boxes.

Renders held-out digits (those after ``--skip`` in an IDX set), synthetic X's and blanks as
camera-like boxes with the same renderer the trainer uses but an independent seed, runs the
kit's own normalise + DigitModel in page-sized batches, and reports accuracy per kind, the
confusion matrix and the time per page. Needs only the kit's dependencies (no torch).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.recognition.model import CLASS_BLANK, CLASS_NAMES, CLASS_X, NUM_CLASSES, DigitModel
from edge.recognition.normalise import normalise_batch
from protocol.idx import load_digits
from training import render

PAGE = 70  # boxes per page: the kit classifies a page in one call
PROFILES = {"kit": render.KIT, "train": render.TRAIN}


@dataclass
class Report:
    """Predictions against truth, with timing per page."""

    truth: np.ndarray
    predicted: np.ndarray
    normalise_ms: float
    classify_ms: float

    def accuracy(self, classes: range | tuple[int, ...]) -> tuple[int, int]:
        """(correct, total) over the boxes whose true class is in ``classes``."""
        sel = np.isin(self.truth, list(classes))
        return int((self.predicted[sel] == self.truth[sel]).sum()), int(sel.sum())

    def confusion(self) -> np.ndarray:
        m = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
        np.add.at(m, (self.truth, self.predicted), 1)
        return m


def render_boxes(
    images: np.ndarray,
    labels: np.ndarray,
    n_x: int,
    n_blank: int,
    seed: int,
    *,
    profile: render.Profile = render.KIT,
    clean: bool = False,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Held-out digits, then X's, then blanks, as grey box crops with their classes."""
    rng = np.random.default_rng(seed)
    glyphs = [render.mnist_glyph(img) for img in images]
    glyphs += [render.x_glyph(rng) for _ in range(n_x)]
    glyphs += [render.blank_glyph() for _ in range(n_blank)]
    boxes = [render.render_box(g, rng, profile=profile, clean=clean) for g in glyphs]
    truth = np.concatenate(
        [labels.astype(np.int64), np.full(n_x, CLASS_X), np.full(n_blank, CLASS_BLANK)]
    )
    return boxes, truth


def evaluate(model: DigitModel, boxes: list[np.ndarray], truth: np.ndarray) -> Report:
    """Classify ``boxes`` page by page, as the kit does, timing both stages."""
    predicted = np.empty(len(boxes), dtype=np.int64)
    t_norm = t_cls = 0.0
    for start in range(0, len(boxes), PAGE):
        t0 = time.perf_counter()
        batch = normalise_batch(boxes[start : start + PAGE])
        t1 = time.perf_counter()
        probs = model.classify(batch)
        t2 = time.perf_counter()
        predicted[start : start + PAGE] = probs.argmax(axis=1)
        t_norm, t_cls = t_norm + t1 - t0, t_cls + t2 - t1
    pages = max(1, -(-len(boxes) // PAGE))
    return Report(truth, predicted, 1e3 * t_norm / pages, 1e3 * t_cls / pages)


def format_report(rep: Report, title: str) -> str:
    lines = [f"== {title}"]
    for name, classes in (("digits", range(10)), ("X", (CLASS_X,)), ("blank", (CLASS_BLANK,))):
        ok, n = rep.accuracy(classes)
        if n:
            lines.append(f"{name:>7}: {100 * ok / n:6.2f} %  ({ok}/{n}, {n - ok} wrong)")
    timing = f"normalise {rep.normalise_ms:.1f} ms, classify {rep.classify_ms:.1f} ms"
    lines.append(f"per page of {PAGE}: {timing}")
    lines.append("confusion (rows = truth, columns = read):")
    lines.append("      " + "".join(f"{n[:5]:>6}" for n in CLASS_NAMES))
    for name, row in zip(CLASS_NAMES, rep.confusion(), strict=True):
        lines.append(f"{name[:5]:>6}" + "".join(f"{v:6d}" for v in row))
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m training.evaluate",
        description="Accuracy of a digit model on held-out digits rendered as camera-like boxes.",
    )
    p.add_argument("--digits", required=True, metavar="PREFIX", help="IDX prefix")
    p.add_argument("--skip", type=int, default=0, help="evaluate only digits after the first N")
    p.add_argument("--model", type=Path, default=None, help="ONNX file (default: the shipped)")
    p.add_argument("--x", type=int, default=1000, help="synthetic X boxes to add")
    p.add_argument("--blank", type=int, default=1000, help="blank boxes to add")
    p.add_argument("--seed", type=int, default=20240214, help="rendering seed")
    p.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default="kit",
        help="kit: boxes as the kit's camera sees them (default); train: the harsher "
        "training distribution",
    )
    p.add_argument("--clean", action="store_true", help="also report on undegraded boxes")
    p.add_argument(
        "--compare",
        type=Path,
        metavar="MODEL",
        help="also run this model (an int8 copy, say) on the same boxes in the same run, and "
        "compare accuracy and classify time with --model's",
    )
    return p.parse_args(argv)


def comparison(base: Report, other: Report, names: tuple[str, str]) -> str:
    """Accuracy in points and classify time of ``other`` against ``base``, same boxes."""
    lines = [f"== {names[1]} against {names[0]}"]
    for name, classes in (("digits", range(10)), ("X", (CLASS_X,)), ("blank", (CLASS_BLANK,))):
        (ok_a, n), (ok_b, _) = base.accuracy(classes), other.accuracy(classes)
        if n:
            a, b = 100 * ok_a / n, 100 * ok_b / n
            lines.append(f"{name:>7}: {a:6.2f} % -> {b:6.2f} % ({b - a:+.2f} points)")
    same = int((base.predicted == other.predicted).sum())
    lines.append(f"same class on {same} of {len(base.predicted)} boxes")
    ratio = other.classify_ms / base.classify_ms
    lines.append(
        f"classify per page of {PAGE}: {base.classify_ms:.2f} ms -> {other.classify_ms:.2f} ms "
        f"({ratio:.2f} x, one thread)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    images, labels = load_digits(a.digits)
    images, labels = images[a.skip :], labels[a.skip :]
    model = DigitModel.load(a.model)
    model.warm_up()
    print(f"model {model.path} sha256 {model.sha256}")
    print(f"held-out digits: {len(images)} ({a.digits}, after the first {a.skip})")
    other = None
    if a.compare is not None:
        other = DigitModel.load(a.compare)
        other.warm_up()
        print(f"compared with {other.path} sha256 {other.sha256}")
    profile = PROFILES[a.profile]
    sets = [(f"{a.profile} profile boxes", False)] + ([("clean boxes", True)] if a.clean else [])
    for title, clean in sets:
        boxes, truth = render_boxes(
            images, labels, a.x, a.blank, a.seed, profile=profile, clean=clean
        )
        base = evaluate(model, boxes, truth)
        print(format_report(base, f"{title}: {model.path.name}"))
        if other is not None:
            compared = evaluate(other, boxes, truth)
            print(format_report(compared, f"{title}: {other.path.name}"))
            print(comparison(base, compared, (model.path.name, other.path.name)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
