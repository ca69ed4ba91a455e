"""The int8 copy of the digit model (training/quantize.py) reads as the float model does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from edge.recognition.model import DEFAULT_MODEL, FLOAT_MODEL, INT8_MODEL, DigitModel
from protocol.idx import load_digits
from training.evaluate import evaluate, render_boxes
from training.quantize import calibration_batches, main, quantize

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "digits" / "heldout-300"
INT8 = INT8_MODEL


@pytest.fixture(scope="module")
def digits():
    return load_digits(FIXTURE)


@pytest.fixture(scope="module")
def boxes(digits):
    images, labels = digits
    return render_boxes(images[100:], labels[100:], 40, 40, seed=3)


def agreement(a: DigitModel, b: DigitModel, boxes) -> float:
    found, truth = boxes
    return float(
        (evaluate(a, found, truth).predicted == evaluate(b, found, truth).predicted).mean()
    )


def test_the_shipped_int8_model_reads_as_the_float_model_and_is_a_quarter_of_its_size(boxes):
    float_model, int8_model = DigitModel.load(FLOAT_MODEL), DigitModel.load(INT8)
    assert DEFAULT_MODEL == INT8  # the kit reads with the int8 copy
    assert agreement(float_model, int8_model, boxes) >= 0.99
    probs = int8_model.classify(np.zeros((3, 1, 28, 28), np.float32))
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)  # the softmax stayed in float
    assert INT8.stat().st_size < FLOAT_MODEL.stat().st_size / 3
    ops = {node.op_type for node in onnx.load(str(INT8)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops


def test_static_quantization_calibrates_on_boxes_and_keeps_the_readings(tmp_path, digits, boxes):
    images, labels = digits
    batches = calibration_batches(images[:100], labels[:100], 10, 10, seed=7)
    assert sum(len(b) for b in batches) == 120 and all(len(b) <= 70 for b in batches)
    out = tmp_path / "int8.onnx"
    quantize(FLOAT_MODEL, out, batches=batches)
    quantized = onnx.load(str(out))
    weights = [t for t in quantized.graph.initializer if t.data_type == onnx.TensorProto.INT8]
    assert len(weights) >= 6  # four convolutions and two dense layers, in int8
    assert agreement(DigitModel.load(FLOAT_MODEL), DigitModel.load(out), boxes) >= 0.97


def test_dynamic_quantization_needs_no_calibration_and_static_needs_digits(tmp_path, capsys):
    out = tmp_path / "dynamic.onnx"
    assert main(["--method", "dynamic", "--out", str(out)]) == 0
    assert out.stat().st_size < FLOAT_MODEL.stat().st_size / 3
    assert main(["--out", str(tmp_path / "static.onnx")]) == 2
    assert "calibrates on --digits" in capsys.readouterr().err
