"""Decoding a number from its boxes' class probabilities, with the X grammar.

A number is written in n boxes, most significant first. Leading boxes a KPPS does not need
hold an X (or stay blank); an X is never valid after a digit: "X 4 7" is 47, "4 X 7" is no
number at all. SIREKAP read X as 5 or 8 and published 62 as 941; here an X can only ever
mean "nothing in this place", so that misreading cannot produce a value.

The probability of a value v is the sum over its valid spellings (X X 7, X 0 7, 0 0 7) of
the product of the boxes' probabilities, computed for every value at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from edge.recognition.model import CLASS_BLANK, CLASS_NAMES, CLASS_X


@dataclass(frozen=True)
class NumberReading:
    value: int | None  # None: every box empty (the field was not filled in)
    p: float  # probability of that reading
    alternatives: tuple[tuple[int | None, float], ...]  # the next most probable readings
    boxes: tuple[tuple[tuple[str, float], ...], ...]  # per box: top classes with probability
    probs: np.ndarray | None = None  # (n boxes, 12): the model's full output, for the decoder


@cache
def _digits(n: int) -> np.ndarray:
    """(10**n, n): the digits of every value 0 .. 10**n - 1, zero-padded."""
    values = np.arange(10**n)
    return np.stack([(values // 10 ** (n - 1 - i)) % 10 for i in range(n)], axis=1)


def value_probabilities(probs: np.ndarray) -> tuple[np.ndarray, float]:
    """P(value) for every value 0 .. 10**n - 1, and P(all boxes empty), from (n, 12) probs."""
    n = probs.shape[0]
    digits = _digits(n)
    p_digit = probs[np.arange(n), digits]  # (10**n, n): each box showing the value's digit
    p_lead = probs[:, CLASS_X] + probs[:, CLASS_BLANK]  # an unused leading box
    # Spelling with j leading unused boxes: only values whose digits there are 0 qualify.
    total = np.zeros(10**n)
    lead_prefix = 1.0
    for j in range(n):
        tail = p_digit[:, j:].prod(axis=1)
        fits = digits[:, :j].sum(axis=1) == 0 if j else np.ones(10**n, bool)
        total += np.where(fits, lead_prefix * tail, 0.0)
        lead_prefix *= p_lead[j]
    empty = float(probs[:, CLASS_BLANK].prod() + probs[:, CLASS_X].prod())
    return total, empty


def top_classes(probs: np.ndarray, k: int = 3) -> tuple[tuple[tuple[str, float], ...], ...]:
    order = np.argsort(-probs, axis=1)[:, :k]
    return tuple(
        tuple((CLASS_NAMES[c], round(float(row[c]), 4)) for c in best)
        for row, best in zip(probs, order, strict=True)
    )


def read_number(probs: np.ndarray, *, alternatives: int = 3) -> NumberReading:
    """The most probable value under the X grammar, with the runners-up."""
    values, empty = value_probabilities(probs.astype(np.float64))
    order = np.argsort(-values)[: alternatives + 1]
    ranked: list[tuple[int | None, float]] = [(int(v), float(values[v])) for v in order]
    ranked.append((None, empty))
    ranked.sort(key=lambda item: -item[1])
    best, rest = ranked[0], tuple(ranked[1 : alternatives + 1])
    return NumberReading(best[0], best[1], rest, top_classes(probs), probs)
