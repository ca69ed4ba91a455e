"""Compare two ``tps-kit read --json`` reports of the same photos (scripts/check-arm64).

Every value, decision, verdict, class and message must be equal; numbers measured in floating
point (probabilities, fill ratios, px/mm, sharpness) may differ by rounding between CPUs and
builds, within ``abs_tol + rel_tol x |value|``. In a ranked list of ``[label, probability]``
(a field's other readings, a box's classes after its first), two entries whose probabilities
tie within that tolerance may come in either order: rounding decides a tie, and neither is
what the kit reads (a box's first class, a field's value, stay strict). Prints each
difference, the ties taken either way and the largest probability difference; exit status 0
when the reports agree, 1 otherwise.

    python tools/compare_readings.py x86.json arm64.json [--abs-tol 0.001] [--rel-tol 0.01]
"""

from __future__ import annotations

import argparse
import json
import re
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
    tied_swaps: list[str] = field(default_factory=list)

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
            if probability and _ranked(a) and _ranked(b):
                a, b = self._untie(a, b, path)
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                self.walk(x, y, f"{path}[{i}]", probability)
        else:
            self._same(a, b, path)

    def _untie(self, a: list, b: list, path: str) -> tuple[list, list]:
        """``b`` with each entry that ties (within tolerance) with a neighbour, or ends the list
        where it was cut at a tie, named as in ``a`` (never a box's first class: what the kit
        reads). An int8 model's probabilities tie often, and rounding orders a tie."""
        b = list(b)
        first = 1 if re.search(r"/boxes\[\d+\]$", path) else 0
        last = len(a) - 1
        for i in range(first, len(a)):
            if a[i][0] == b[i][0] or not self._tol(a[i][1], b[i][1]):
                continue
            near = [j for j in (i - 1, i + 1) if first <= j <= last]
            if i == last or any(self._tol(a[i][1], a[j][1]) for j in near):
                b[i] = [a[i][0], b[i][1]]
                self.tied_swaps.append(f"{path}[{i}]")
        return a, b

    def _tol(self, x: float, y: float) -> bool:
        return abs(x - y) <= self.abs_tol + self.rel_tol * max(abs(x), abs(y))

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
        if not self._tol(float(a), float(b)):
            self.differences.append(f"{path}: {a!r} against {b!r} (differs by {diff:.6g})")


def _ranked(items: list) -> bool:
    """A list of [label, probability] pairs, most probable first."""
    return len(items) > 1 and all(
        isinstance(i, list)
        and len(i) == 2
        and isinstance(i[1], int | float)
        and not isinstance(i[1], bool)
        for i in items
    )


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
    for line in result.tied_swaps:
        print(f"tie taken either way: {line}")
    verdict = "agree" if result.agree else f"DIFFER in {len(result.differences)} place(s)"
    print(
        f"{args.a.name} and {args.b.name} {verdict}: {result.floats} measured numbers, largest "
        f"probability difference {result.max_probability_diff:.6f}, largest other "
        f"{result.max_other_diff:.6f}"
    )
    return 0 if result.agree else 1


if __name__ == "__main__":
    sys.exit(main())
