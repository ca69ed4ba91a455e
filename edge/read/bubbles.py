"""Reading a bubble column (0-9 under one digit box) by how much of each bubble is inked.

The bubbles are a second, independent reading of the same digit. Their darkness is judged
against the column's own median, so uneven light over the sheet does not matter: the
bubble a KPPS blackened stands out from the nine printed-only ones beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FILLED = 0.30  # above the column's median by this: inked
CLEAR_MARGIN = 0.15  # the filled bubble must beat the next one by this to be unambiguous


@dataclass(frozen=True)
class BubbleReading:
    digit: int | None  # the blackened bubble, or None if none is clearly filled
    ambiguous: bool  # two or more bubbles look filled
    fill: tuple[float, ...]  # per bubble 0-9: ink above the column's median

    @property
    def state(self) -> str:
        if self.ambiguous:
            return "ambiguous"
        return "empty" if self.digit is None else "filled"


def read_column(darkness: np.ndarray) -> BubbleReading:
    relative = np.clip(darkness - np.median(darkness), 0.0, 1.0)
    order = np.argsort(-relative)
    first, second = relative[order[0]], relative[order[1]]
    fill = tuple(round(float(v), 3) for v in relative)
    if first < FILLED:
        return BubbleReading(None, False, fill)
    if second >= FILLED and first - second < CLEAR_MARGIN:
        return BubbleReading(None, True, fill)
    return BubbleReading(int(order[0]), False, fill)


def bubble_value(columns: list[BubbleReading]) -> int | None:
    """The number the bubbles spell (an empty leading column counts as nothing), or None."""
    digits = [c.digit for c in columns]
    if any(c.ambiguous for c in columns) or all(d is None for d in digits):
        return None
    first = next(i for i, d in enumerate(digits) if d is not None)
    tail = digits[first:]
    if any(d is None for d in tail):
        return None  # a gap after the first filled column: the bubbles do not spell a number
    return int("".join(str(d) for d in tail))
