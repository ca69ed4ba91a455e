"""The digit model on real handwriting: the boxes of a filled 2015 Pilkada sheet from Bengkulu.

    python benchmarks/real_sheet.py ../shared/data/forms-reference/pilkada-2015-bengkulu-filled.jpeg

The sheet (``forms-reference/README.md``) is the one real filled form at hand: twelve boxes
written by a KPPS, with an open-topped 4 and an X in an unused box. It is no template of
ours, so its boxes are cut at the places measured on that scan (790 x 1115 px). Prints each
box's reading with its probability and the probability of the digit written there; the last
line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.recognition.model import CLASS_NAMES, DigitModel
from edge.recognition.normalise import normalise_batch

SIZE = (790, 1115)
COLUMNS = ((621, 667), (669, 715), (717, 764))  # x from .. to, px
ROWS = {  # y from .. to, and what the KPPS wrote
    "paslon 1": ((246, 305), "140"),
    "paslon 2": ((312, 373), "105"),
    "suara sah": ((380, 421), "245"),
    "tidak sah": ((440, 481), "X19"),
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("scan", type=Path, help="pilkada-2015-bengkulu-filled.jpeg")
    parser.add_argument("--model", type=Path, help="an ONNX model (default: the shipped one)")
    parser.add_argument("--crops", type=Path, help="write each box's crop here as PNG")
    args = parser.parse_args()
    page = cv2.imread(str(args.scan), cv2.IMREAD_GRAYSCALE)
    if page is None or page.shape[::-1] != SIZE:
        sys.exit(f"{args.scan}: not the 790 x 1115 px Bengkulu scan this command measures")
    crops, truth, names = [], [], []
    for name, ((y0, y1), written) in ROWS.items():
        for (x0, x1), char in zip(COLUMNS, written, strict=True):
            crops.append(page[y0:y1, x0:x1])
            truth.append(char)
            names.append(name)
    model = DigitModel.load(args.model)
    probs = model.classify(normalise_batch(crops))
    right, rows = 0, []
    for i, (row, char, name) in enumerate(zip(probs, truth, names, strict=True)):
        read = CLASS_NAMES[int(row.argmax())]
        p_truth = float(row[CLASS_NAMES.index(char)])
        right += read == char
        rows.append(
            {
                "field": name,
                "written": char,
                "read": read,
                "p": round(float(row.max()), 3),
                "p_written": round(p_truth, 3),
            }
        )
        print(
            f"{name:>10} box {i % 3 + 1}: written {char}  read {read} (p {row.max():.3f}), "
            f"p({char}) {p_truth:.3f}"
        )
        if args.crops:
            args.crops.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(args.crops / f"{i:02d}-{char}.png"), crops[i])
    print(
        json.dumps(
            {
                "model": model.sha256[:12],
                "boxes": len(rows),
                "right": right,
                "min_p_written": min(r["p_written"] for r in rows),
            }
        )
    )


if __name__ == "__main__":
    main()
