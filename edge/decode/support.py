"""Whether the paper itself supports a decided value: every box read clearly, or a rule pins it.

Why this exists beside the margin. The margin (``search.MARGIN_NATS``) makes a field
doubtful when another consistent reading is nearly as probable, and a single misread breaks
a rule. But two misreads can keep each other consistent: with L = 0 the form says P = JML,
and a 7 read as 1 in both boxes (each read at only 0.81 and 0.89) passed the margin by
0.4 nats in the 1,000-form safety run. Such a pair is only possible where boxes were read
unclearly, so a value stands as read only when

- every one of its boxes holds the digit the value needs with probability at least
  ``BOX_CLEAR`` (digit model and bubbles together), or
- an equation pins it: all the other fields of the equation are themselves supported, so
  the rule computes this field from clear readings (a rule names each field once:
  protocol/forms/rules.py refuses ``a + b = a + c``, where ``a`` would cancel out).

Measured on synthesized forms from held-out handwriting (20,356 digit boxes): boxes read at
0.9 or more were right 99.94 % of the time, boxes below 0.9 only 85 %. The misreads that
remain above 0.9 (mostly a 9 read as 7 at 0.94-0.97) would need a second one at the same
place in a linked field to pass unflagged.

``BOX_CLEAR`` belongs to the shipped model: its probabilities are soft (a clearly written
digit reads 0.93-0.98), so 0.95 would doubt most fields and 0.8 let the pair above through.
A retrained model needs the threshold measured again (benchmarks/safety.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from edge.recognition.model import CLASS_BLANK, CLASS_X
from protocol.forms.rules import Relation

BOX_CLEAR = 0.9


def box_digits(value: int | None, boxes: int) -> list[int | None]:
    """The digit each box holds for ``value``; None for an unused leading box."""
    if value is None:
        return [None] * boxes
    text = str(value).rjust(boxes)
    return [None if c == " " else int(c) for c in text[-boxes:]]


def digit_p(row: np.ndarray, digit: int | None) -> float:
    """P(a box holds ``digit``) from its 12 class probabilities; an unused leading box may
    hold an X, nothing, or a 0."""
    if digit is None:
        return float(row[CLASS_X] + row[CLASS_BLANK] + row[0])
    return float(row[digit])


def weakest_box(probs: np.ndarray, value: int | None) -> float:
    """The smallest probability, over the field's boxes, of the digit ``value`` needs there."""
    if len(probs) == 0:
        return 0.0  # no box at all: nothing on the paper supports a value
    digits = box_digits(value, len(probs))
    return min(digit_p(row, d) for row, d in zip(probs, digits, strict=True))


# Ballots received (II.1) are the registered voters (I.A.JML) plus the reserve, rounded up:
# that is how KPU prints and delivers them (2 % at the general election, 2.5 % at the
# Pilkada). Paper may depart from it (a box of ballots short), so it is never a rule that
# flags or corrects; but two fields read apart that agree with it exactly confirm each other.
BALLOTS, VOTERS = "II.1", "I.A.JML"


def reserve_confirms(values: Mapping[str, int | None], reserve_permille: int) -> bool:
    """Whether ballots received equal the voters plus the reserve, exactly."""
    voters, ballots = values.get(VOTERS), values.get(BALLOTS)
    if voters is None or ballots is None:
        return False
    return ballots == voters + -(-voters * reserve_permille // 1000)


def unsupported(
    clear: Mapping[str, bool], relations: Sequence[Relation], *, reserve_agrees: bool = False
) -> set[str]:
    """Fields neither read clearly nor pinned by an equation over supported fields.

    ``clear`` holds every decided field (False for one already doubtful: a value a person
    must check pins nothing); relations over fields not in it are ignored. Pinning
    propagates: a field pinned by one equation can pin the next. ``reserve_agrees`` (see
    ``reserve_confirms``) lets ballots received and voters each pin the other."""
    supported = {f for f, ok in clear.items() if ok}
    equations = [
        set(r.fields)
        for r in relations
        if r.op == "=" and r.limit is None and set(r.fields) <= set(clear)
    ]
    if reserve_agrees and {BALLOTS, VOTERS} <= set(clear):
        equations.append({BALLOTS, VOTERS})
    grew = True
    while grew:
        grew = False
        for fields in equations:
            rest = fields - supported
            if len(rest) == 1:
                supported |= rest
                grew = True
    return set(clear) - supported
