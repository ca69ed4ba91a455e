"""Row types: a frozen dataclass whose fields are a table's columns, in order, names and all,
so its column list, its INSERT and its reading back are generated from it and never spelled
out again beside it. Also the keyed read many batch look-ups share.

Only what the two databases return differently is converted on reading: a boolean comes
back from SQLite as an integer, a blob from PostgreSQL as a memoryview, a JSON text column
typed ``dict[str, int]`` is parsed. Everything else is taken as the driver gives it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

import orjson

from hub.store.db import Database, Row

T = TypeVar("T")

# Parameters per statement of joined_with: SQLite's limit before 3.32 (later ones and
# PostgreSQL take far more), so a 500-result batch takes two queries at 3 values a key.
MAX_PARAMS = 999
IN_CHUNK = 400  # values per IN list: well under both databases' parameter limits


def _as_bytes(value: Any) -> bytes:
    return bytes(value)


def _as_optional_bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def _as_counts(value: Any) -> dict[str, int]:
    return {str(k): int(v) for k, v in orjson.loads(value).items()}


_READ: dict[str, Callable[[Any], Any]] = {
    "bool": bool,
    "bytes": _as_bytes,
    "bytes | None": _as_optional_bytes,
    "dict[str, int]": _as_counts,
}


@cache
def columns(row_type: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(row_type))


@cache
def column_list(row_type: type, prefix: str = "") -> str:
    """``a, b, c`` (or ``d.a, d.b, d.c`` with prefix ``d.``) for a SELECT."""
    return ", ".join(prefix + name for name in columns(row_type))


@cache
def insert_sql(row_type: type, table: str) -> str:
    names = columns(row_type)
    marks = ", ".join("?" * len(names))
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})"


def _spelled(annotation: Any) -> str:
    """A field's type as written (a string under ``from __future__ import annotations``)."""
    if isinstance(annotation, str):
        return annotation
    return annotation.__name__ if isinstance(annotation, type) else str(annotation)


@cache
def _readers(row_type: type) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    kinds = [_spelled(f.type) for f in dataclasses.fields(row_type)]
    return tuple((i, _READ[kind]) for i, kind in enumerate(kinds) if kind in _READ)


def read_row(row_type: type[T], row: Row) -> T:
    """A row selected with :func:`column_list`, as its row type."""
    values = list(row)
    for i, read in _readers(row_type):
        values[i] = read(values[i])
    return row_type(*values)


def row_values(row: Any) -> tuple[Any, ...]:
    """A row type's values in column order, for :func:`insert_sql` (booleans as 0 or 1:
    what both databases store in the schema's integer columns)."""
    return tuple(
        int(v) if isinstance(v, bool) else v
        for v in (getattr(row, name) for name in columns(type(row)))
    )


def joined_with(
    db: Database, names: str, keys: Sequence[tuple[Any, ...]], select: str
) -> list[Row]:
    """``select``'s rows, where it joins ``wanted (names)``: ``keys`` as a VALUES list
    (both databases take one, and each key finds its rows through an index), in a query
    per few hundred keys (:data:`MAX_PARAMS`), not one per key."""
    if not keys:
        return []
    one = "(" + ", ".join("?" * len(keys[0])) + ")"
    per_query = MAX_PARAMS // len(keys[0])
    rows: list[Row] = []
    for start in range(0, len(keys), per_query):
        chunk = keys[start : start + per_query]
        values = ", ".join([one] * len(chunk))
        params = [value for key in chunk for value in key]
        rows.extend(db.all(f"WITH wanted ({names}) AS (VALUES {values}) {select}", params))
    return rows
