"""What the boxes and the bubbles say about one field, as costs of candidate values.

Costs are negative log-probabilities (nats) relative to the field's most probable reading
(which costs 0), so a whole form's cost is the sum of its fields' costs and the most probable
consistent reading is the cheapest one.

Bubble reliability model. On forms with bubbles each vote box has a column of bubbles 0-9
that the KPPS blackens for the same digit: an independent second reading of the box. Its
observation is one of: a *clear* fill (the reader's digit with fill >= ``BUBBLE_CLEAR``), a
*weak* fill (a digit, but faint or sloppy), or nothing usable (empty or ambiguous). Given the
digit really written in the box, the observation's likelihood is:

=================  ===================  ==========================  ==========
observation        bubble = box digit   bubble = one other digit    ratio
=================  ===================  ==========================  ==========
clear fill         0.85                 0.002 (2 % over 9 digits)   425 (6.0 nats)
weak fill          0.10                 0.01                        10 (2.3 nats)
empty / ambiguous  same for every digit                              1
=================  ===================  ==========================  ==========

Per box the reader's 12-class probabilities are multiplied by these likelihoods and
renormalised (digit and bubble are independent evidence of the same digit). So a sloppy or
missing bubble never overrules a confident digit (a weak fill shifts it by at most 2.3
nats); a clearly filled bubble that disagrees with a digit read at 0.999 (6.9 nats) leaves
the two within about one nat: the box becomes doubtful and the form's rules, or a person,
decide. A leading X or blank box counts as 0 (KPPS blacken 0 there, or nothing).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge.read.bubbles import BubbleReading, bubble_value
from edge.read.numbers import value_probabilities
from edge.read.page import FieldReading
from edge.recognition.model import CLASS_BLANK, CLASS_X, NUM_CLASSES

# Fill above the column's median: good and sloppy fills reach 0.5 (5th percentile), faint
# ones about 0.4 (measured on synthesized plano pages).
BUBBLE_CLEAR = 0.5
P_CLEAR_RIGHT, P_CLEAR_WRONG = 0.85, 0.002
P_WEAK_RIGHT, P_WEAK_WRONG = 0.10, 0.01
MAX_CANDIDATES = 32  # per field; a truncated list is remembered and makes the field doubtful
_FLOOR = 1e-300  # log(0) guard: impossible values get a huge but finite cost


def bubble_clear(column: BubbleReading) -> bool:
    """A bubble blackened unmistakably (not ambiguous, well above the column's median)."""
    return column.digit is not None and column.fill[column.digit] >= BUBBLE_CLEAR


def bubble_likelihood(column: BubbleReading) -> np.ndarray:
    """P(this column's observation | the box holds class c), for the 12 classes."""
    if column.digit is None or column.ambiguous:
        return np.ones(NUM_CLASSES)
    right, wrong = (
        (P_CLEAR_RIGHT, P_CLEAR_WRONG) if bubble_clear(column) else (P_WEAK_RIGHT, P_WEAK_WRONG)
    )
    out = np.full(NUM_CLASSES, wrong)
    out[column.digit] = right
    if column.digit == 0:  # an unused leading box: KPPS blacken 0 for it
        out[CLASS_X] = out[CLASS_BLANK] = right
    return out


def combined_boxes(probs: np.ndarray, bubbles: tuple[BubbleReading, ...]) -> np.ndarray:
    """Per-box posterior over the 12 classes from the digit model and the bubbles."""
    probs = probs.astype(np.float64)
    if not bubbles:
        return probs
    post = probs * np.stack([bubble_likelihood(b) for b in bubbles])
    return post / np.maximum(post.sum(axis=1, keepdims=True), _FLOOR)


@dataclass(frozen=True)
class FieldEvidence:
    """One field's readings and its candidate values (cost-sorted, within the window)."""

    field_id: str
    page: int
    digits_value: int | None  # what the boxes alone say (the reader's value)
    bubbles_value: int | None  # what the bubbles spell, if anything
    best: int | None  # the most probable value from boxes and bubbles together (None: empty)
    candidates: tuple[tuple[int, float], ...]  # (value, cost) cheapest first
    dropped_cost: float | None  # cost of the cheapest value cut by MAX_CANDIDATES
    costs: np.ndarray  # cost of every value 0 .. 10**n - 1
    empty_cost: float
    probabilities: np.ndarray  # P(value) from boxes and bubbles, every value
    empty_p: float  # P(every box empty)
    box_probs: np.ndarray  # per box, P(class) from the digit model and the bubbles

    def cost(self, value: int | None) -> float:
        if value is None:
            return self.empty_cost
        return float(self.costs[value]) if 0 <= value < len(self.costs) else float("inf")

    def p(self, value: int | None) -> float:
        """The reading's own probability of ``value`` (boxes and bubbles, no rules)."""
        if value is None:
            return self.empty_p
        return float(self.probabilities[value]) if 0 <= value < len(self.costs) else 0.0


def field_evidence(
    field_id: str,
    page: int,
    reading: FieldReading,
    *,
    window: float,
    allowed: int | None = None,
) -> FieldEvidence:
    """Candidates within ``window`` nats of the best reading, at most ``allowed`` (the cap)."""
    boxes = combined_boxes(model_probs(reading), reading.bubbles)
    values, empty = value_probabilities(boxes)
    log_p = np.log(np.maximum(values, _FLOOR))
    log_empty = float(np.log(max(empty, _FLOOR)))
    top = max(float(log_p.max()), log_empty)
    costs = top - log_p
    best = None if log_empty >= float(log_p.max()) else int(np.argmax(log_p))
    ok = costs <= window
    if allowed is not None:
        ok[allowed + 1 :] = False
    inside = np.flatnonzero(ok)
    order = inside[np.argsort(costs[inside], kind="stable")]
    kept = [int(v) for v in order[:MAX_CANDIDATES]]
    dropped = float(costs[order[MAX_CANDIDATES]]) if len(order) > MAX_CANDIDATES else None
    return FieldEvidence(
        field_id=field_id,
        page=page,
        digits_value=reading.number.value,
        bubbles_value=bubble_value(list(reading.bubbles)) if reading.bubbles else None,
        best=best,
        candidates=tuple((v, float(costs[v])) for v in kept),
        dropped_cost=dropped,
        costs=costs,
        empty_cost=top - log_empty,
        probabilities=values,
        empty_p=float(empty),
        box_probs=boxes,
    )


def model_probs(reading: FieldReading) -> np.ndarray:
    """The boxes' class probabilities; a reading made without them is rebuilt from its top
    classes (unit tests, old recordings): unlisted classes share what is left."""
    if reading.number.probs is not None:
        return np.asarray(reading.number.probs, np.float64)
    from edge.recognition.model import CLASS_NAMES

    rows = []
    for top in reading.number.boxes:
        row = np.zeros(NUM_CLASSES)
        for name, p in top:
            row[CLASS_NAMES.index(name)] = p
        rest = max(1.0 - row.sum(), 1e-6)
        row[row == 0] = rest / max(int((row == 0).sum()), 1)
        rows.append(row / row.sum())
    return np.stack(rows)
