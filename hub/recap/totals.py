"""The pre-aggregated numbers of one region: each field's sum and how many TPS gave it.

Stored as one JSON text per region row (``{"IV.1": [sum, tps], ...}``, keys sorted), the
same bytes on SQLite and PostgreSQL. The TPS count per field makes removal exact: when the
last TPS giving a field is replaced by a version without it, the field disappears rather
than lingering as a zero nobody reported.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

Sums = dict[str, list[int]]  # field -> [sum, number of TPS that gave the field]


def decode(text: str) -> Sums:
    # Written only by encode(): lists of two ints under string keys, no conversion needed.
    sums: Sums = orjson.loads(text)
    return sums


def encode(sums: Mapping[str, list[int]]) -> str:
    # Sorted compact JSON: the field ids are ASCII, where orjson's bytes are json.dumps'.
    return orjson.dumps(dict(sums), option=orjson.OPT_SORT_KEYS).decode()


def delta(new: Mapping[str, int], old: Mapping[str, int] | None) -> Sums:
    """What replacing ``old`` (None: nothing) by ``new`` adds to every region above the TPS."""
    change: Sums = {f: [v, 1] for f, v in new.items()}
    for f, v in (old or {}).items():
        entry = change.setdefault(f, [0, 0])
        entry[0] -= v
        entry[1] -= 1
    return change


def apply(sums: Sums, change: Mapping[str, list[int]]) -> Sums:
    """Add ``change`` into ``sums`` (in place, and returned)."""
    for f, (d_sum, d_count) in change.items():
        entry = sums.get(f)
        if entry is None:
            sums[f] = entry = [0, 0]
        entry[0] += d_sum
        entry[1] += d_count
        if entry[1] == 0:
            del sums[f]  # no TPS gives this field any more
    return sums


def add(into: Sums, change: Mapping[str, list[int]]) -> Sums:
    """Sum two changes (in place into ``into``, and returned); zero entries are kept, as a
    change of zero TPS may still be part of a larger sum."""
    for f, (d_sum, d_count) in change.items():
        entry = into.get(f)
        if entry is None:
            into[f] = [d_sum, d_count]
        else:
            entry[0] += d_sum
            entry[1] += d_count
    return into


def values(sums: Mapping[str, list[int]]) -> dict[str, int]:
    return {f: v[0] for f, v in sums.items()}
