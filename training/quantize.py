"""``python -m training.quantize``: an int8 copy of the digit model, for a slower CPU.

Static quantization with onnxruntime's own tool (QDQ format: weights int8 per output channel,
activations uint8), calibrated on boxes rendered from the digits the model was trained on
(the first ``--calibrate`` of an IDX set: never the held-out ones after ``--holdout``'s
cut), with X's and blanks, through the kit's own ``normalise``, in page-sized batches as the
kit classifies them. ``--method dynamic`` quantizes the weights only (no calibration).
The softmax at the end stays in float, so the output is still probabilities.

    .venv/bin/pip install onnx            # onnxruntime.quantization needs it (train extra)
    .venv/bin/python -m training.quantize \\
        --digits /work/shared/data/mnist-t10k-dev/t10k-dev --calibrate 2000 \\
        --out edge/recognition/digits-int8.onnx

Then compare it with the float model on the held-out boxes, accuracy and speed in one run:
``python -m training.evaluate --digits ... --skip 6000 --model edge/recognition/digits.onnx
--compare edge/recognition/digits-int8.onnx``
(edge/recognition/MODEL.md, "Quantized").
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from edge.recognition.model import FLOAT_MODEL
from edge.recognition.normalise import normalise_batch
from protocol.idx import load_digits
from training.evaluate import PAGE, render_boxes

CALIBRATION_SEED = 7  # not evaluate's seed: calibration boxes are drawn apart from the test's


def calibration_batches(
    images: np.ndarray, labels: np.ndarray, n_x: int, n_blank: int, seed: int
) -> list[np.ndarray]:
    """Page-sized batches of normalised boxes, shuffled so each mixes digits, X and blank."""
    boxes, _ = render_boxes(images, labels, n_x, n_blank, seed)
    order = np.random.default_rng(seed).permutation(len(boxes))
    shuffled = [boxes[i] for i in order]
    return [normalise_batch(shuffled[i : i + PAGE]) for i in range(0, len(shuffled), PAGE)]


class _Reader:
    """onnxruntime's CalibrationDataReader protocol over prepared batches."""

    def __init__(self, name: str, batches: list[np.ndarray]) -> None:
        self._items: Iterator[dict[str, np.ndarray]] = iter({name: b} for b in batches)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._items, None)


def quantize(
    model: Path,
    out: Path,
    *,
    batches: list[np.ndarray] | None,
) -> None:
    """Write the int8 model: static QDQ with ``batches`` to calibrate, dynamic without."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_dynamic,
        quantize_static,
    )

    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(model), str(prepared), skip_symbolic_shape=True)
        if batches is None:
            quantize_dynamic(str(prepared), str(out), weight_type=QuantType.QInt8)
            return
        name = onnx.load(str(prepared)).graph.input[0].name
        quantize_static(
            str(prepared),
            str(out),
            _Reader(name, batches),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            op_types_to_quantize=["Conv", "Gemm", "MatMul", "Relu", "MaxPool"],
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.quantize", description=__doc__)
    p.add_argument("--digits", metavar="PREFIX", help="IDX prefix of training digits")
    p.add_argument(
        "--calibrate",
        type=int,
        default=2000,
        help="calibrate on the first N digits of --digits (trained on; never held-out ones)",
    )
    p.add_argument("--x", type=int, default=200, help="synthetic X boxes to calibrate with")
    p.add_argument("--blank", type=int, default=200, help="blank boxes to calibrate with")
    p.add_argument("--model", type=Path, default=FLOAT_MODEL, help="the float model")
    p.add_argument("--out", type=Path, required=True, help="where the int8 model goes")
    p.add_argument("--method", choices=["static", "dynamic"], default="static")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    batches = None
    if a.method == "static":
        if a.digits is None:
            print("static quantization calibrates on --digits PREFIX", file=sys.stderr)
            return 2
        images, labels = load_digits(a.digits)
        batches = calibration_batches(
            images[: a.calibrate], labels[: a.calibrate], a.x, a.blank, CALIBRATION_SEED
        )
    quantize(a.model, a.out, batches=batches)
    print(f"{a.method} int8 model written to {a.out} ({a.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
