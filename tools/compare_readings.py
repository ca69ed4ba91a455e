"""Compare two ``tps-kit read --json`` reports of the same photos (scripts/check-arm64).

Every value, decision, verdict, class and message must be equal; numbers measured in floating
point (probabilities, fill ratios, px/mm, sharpness) may differ by rounding between CPUs and
builds, within ``abs_tol + rel_tol x |value|``. Prints each difference and the largest
probability difference; exit status 0 when the reports agree, 1 otherwise.

    python tools/compare_readings.py x86.json arm64.json [--abs-tol 0.001] [--rel-tol 0.01]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROBABILITY_KEYS = ("p", "boxes", "alternatives")  # where a float is a probability


@dataclass
class Comparison:
    abs_tol: float = 0.001
    rel_tol: float = 0.01
    differences: list[str] = field(default_factory=list)
    floats: int = 0
    max_probability_diff: float = 0.0
    max_other_diff: float = 0.0

    @property
    def agree(self) -> bool:
        return not self.differences

    def walk(self, a: Any, b: Any, path: str = "", probability: bool = False) -> None:
        if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
            self._same(a, b, path)
        elif isinstance(a, float) or isinstance(b, float):
            self._close(a, b, path, probability)
        elif isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                if key not in a or key not in b:
                    self.differences.append(f"{path}/{key}: only in {'b' if key in b else 'a'}")
                    continue
                inner = probability or key in PROBABILITY_KEYS
                self.walk(a[key], b[key], f"{path}/{key}", inner)
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                self.differences.append(f"{path}: {len(a)} items against {len(b)}")
                return
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                self.walk(x, y, f"{path}[{i}]", probability)
        else:
            self._same(a, b, path)

    def _same(self, a: Any, b: Any, path: str) -> None:
        if a != b or type(a) is not type(b):
            self.differences.append(f"{path}: {a!r} against {b!r}")

    def _close(self, a: Any, b: Any, path: str, probability: bool) -> None:
        if not all(isinstance(v, int | float) for v in (a, b)):
            self._same(a, b, path)
            return
        self.floats += 1
        diff = abs(float(a) - float(b))
        if probability:
            self.max_probability_diff = max(self.max_probability_diff, diff)
        else:
            self.max_other_diff = max(self.max_other_diff, diff)
        if diff > self.abs_tol + self.rel_tol * max(abs(a), abs(b)):
            self.differences.append(f"{path}: {a!r} against {b!r} (differs by {diff:.6g})")


def compare(a: Any, b: Any, *, abs_tol: float = 0.001, rel_tol: float = 0.01) -> Comparison:
    result = Comparison(abs_tol, rel_tol)
    result.walk(a, b)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--abs-tol", type=float, default=0.001)
    parser.add_argument("--rel-tol", type=float, default=0.01)
    args = parser.parse_args(argv)
    result = compare(
        json.loads(args.a.read_text()),
        json.loads(args.b.read_text()),
        abs_tol=args.abs_tol,
        rel_tol=args.rel_tol,
    )
    for line in result.differences:
        print(f"differs: {line}")
    verdict = "agree" if result.agree else f"DIFFER in {len(result.differences)} place(s)"
    print(
        f"{args.a.name} and {args.b.name} {verdict}: {result.floats} measured numbers, largest "
        f"probability difference {result.max_probability_diff:.6f}, largest other "
        f"{result.max_other_diff:.6f}"
    )
    return 0 if result.agree else 1


if __name__ == "__main__":
    sys.exit(main())
