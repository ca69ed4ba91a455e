"""The 12-class digit-box model (0-9, X, blank) behind one onnxruntime session.

The kit classifies all of a page's boxes in one call: ``DigitModel.load().classify(batch)``
with ``batch`` from ``normalise.normalise_batch``. The ONNX graph ends in a softmax, so the
output is already probabilities; ``classify`` renormalises in float64 only to make the rows
sum to 1 exactly enough for the decoder's arithmetic. See MODEL.md beside this file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from edge.recognition.normalise import SIDE

CLASS_X = 10  # a handwritten X in an unused leading box
CLASS_BLANK = 11  # nothing written
NUM_CLASSES = 12
CLASS_NAMES: tuple[str, ...] = (*(str(d) for d in range(10)), "X", "blank")
FLOAT_MODEL = Path(__file__).with_name("digits.onnx")  # as trained (training/)
INT8_MODEL = Path(__file__).with_name("digits-int8.onnx")  # its int8 copy (training/quantize)
# The kit reads with the int8 copy: as accurate on held-out boxes, the same verdicts on the
# safety benchmark's forms, and a third of the float model's time per page of boxes (MODEL.md).
DEFAULT_MODEL = INT8_MODEL


class DigitModel:
    """A loaded digit model: an onnxruntime session plus the model file's SHA-256."""

    def __init__(self, session: Any, sha256: str, path: Path) -> None:
        self._session = session
        self._input = session.get_inputs()[0].name
        self.sha256 = sha256
        self.path = path

    @classmethod
    def load(cls, path: Path | None = None, *, threads: int = 1) -> DigitModel:
        """Load ``path`` (default: DEFAULT_MODEL) with ``threads`` intra-op threads."""
        import onnxruntime as ort  # imported here: nothing heavy happens at import time

        path = Path(path) if path is not None else DEFAULT_MODEL
        raw = path.read_bytes()  # hash exactly the bytes the session runs
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        session = ort.InferenceSession(raw, options, providers=["CPUExecutionProvider"])
        return cls(session, hashlib.sha256(raw).hexdigest(), path)

    def classify(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities (N, 12) float32 for a batch (N, 1, 28, 28) of normalised boxes."""
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if batch.ndim != 4 or batch.shape[1:] != (1, SIDE, SIDE):
            raise ValueError(f"expected (N, 1, {SIDE}, {SIDE}) boxes, got {batch.shape}")
        if batch.shape[0] == 0:
            return np.zeros((0, NUM_CLASSES), dtype=np.float32)
        (probs,) = self._session.run(None, {self._input: batch})
        probs = np.asarray(probs, dtype=np.float64)
        return (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)

    def warm_up(self) -> None:
        """Run one page-sized batch so the first real scan does not pay the set-up cost."""
        self.classify(np.zeros((70, 1, SIDE, SIDE), dtype=np.float32))
