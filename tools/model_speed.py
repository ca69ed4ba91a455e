"""The digit model's classify time, float against int8, on one thread (scripts/check-arm64).

Both shipped models classify the same pages of 70 boxes (held-out fixture digits drawn dark on
light, as the camera sees ink, through the kit's own ``normalise_batch``), alternating so the
machine's load falls on both alike. Prints the median time per page of each and their ratio;
run on x86 and under emulation, the ratio says whether int8 pays on the Pi's CPU as it does
here (emulated times themselves are no estimate of the Pi's). The last line is one JSON object.

    python -m tools.model_speed [--pages 12] [--digits tests/fixtures/digits/heldout-300]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from edge.recognition.model import FLOAT_MODEL, INT8_MODEL, DigitModel
from edge.recognition.normalise import normalise_batch
from protocol.idx import load_digits

BOXES_PER_PAGE = 70
BOX_PX = 34  # about a box's side in the kit's photo (the kit profile, edge/recognition/MODEL.md)
FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "digits" / "heldout-300"


def page_of_boxes(digits: np.ndarray) -> np.ndarray:
    """Model inputs for one page: each digit as a grey box the camera might have taken."""
    boxes = [255 - cv2.resize(d, (BOX_PX, BOX_PX), interpolation=cv2.INTER_LINEAR) for d in digits]
    return normalise_batch(boxes)


def page_ms(model: DigitModel, page: np.ndarray) -> float:
    start = time.perf_counter()
    model.classify(page)
    return 1000 * (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=12, help="timed pages per model")
    parser.add_argument("--digits", type=Path, default=FIXTURE, help="IDX prefix")
    args = parser.parse_args(argv)
    images, _ = load_digits(args.digits)
    if len(images) < BOXES_PER_PAGE:
        parser.error(f"{args.digits} has {len(images)} digits, fewer than a page")
    page = page_of_boxes(images[:BOXES_PER_PAGE])
    models = {"float": DigitModel.load(FLOAT_MODEL), "int8": DigitModel.load(INT8_MODEL)}
    for model in models.values():
        model.classify(page)  # the first run allocates; not timed
    times: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(args.pages):
        for name, model in models.items():
            times[name].append(page_ms(model, page))
    same = int(
        (models["float"].classify(page).argmax(1) == models["int8"].classify(page).argmax(1)).sum()
    )
    result = {
        "machine": platform.machine(),
        "float_ms_per_page": round(statistics.median(times["float"]), 2),
        "int8_ms_per_page": round(statistics.median(times["int8"]), 2),
        "same_class": f"{same}/{BOXES_PER_PAGE}",
    }
    result["int8_over_float"] = round(result["int8_ms_per_page"] / result["float_ms_per_page"], 3)
    print(
        f"{result['machine']}: classify a page of {BOXES_PER_PAGE} boxes, one thread, median of "
        f"{args.pages}: float {result['float_ms_per_page']} ms, int8 "
        f"{result['int8_ms_per_page']} ms ({result['int8_over_float']} x); same class on "
        f"{result['same_class']} boxes"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
