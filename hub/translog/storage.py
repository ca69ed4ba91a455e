"""Where the log keeps its entries, complete subtree hashes, signed tree heads and checkpoints.

:class:`LogStorage` is all the log asks of a database, so the hub's storage layer can back
it with SQLite or PostgreSQL. :class:`MemoryStorage` is the reference implementation (tests,
tools); hub/store/logstorage.py is the durable one, in the hub's database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from protocol.subtrees import NodeId


class TranslogError(Exception):
    """Root of the transparency log's own errors (not proof failures: see protocol.merkle)."""


class LogConflictError(TranslogError):
    """Another writer appended first: the index this writer meant to fill is taken."""


class LogRangeError(TranslogError, ValueError):
    """An index or size the log does not have (yet)."""


class LogStorage(Protocol):
    """Append-only storage of one log. Nothing stored is ever changed or deleted."""

    def size(self) -> int:
        """How many leaves the log holds."""
        ...

    def append(
        self, first_index: int, entries: Sequence[bytes], nodes: Mapping[NodeId, bytes]
    ) -> None:
        """Store ``entries`` at ``first_index``… and the complete nodes they finish (level 0
        included: the leaf hashes), all or nothing. Raise :class:`LogConflictError` if
        ``first_index`` is not the current size."""
        ...

    def entries(self, start: int, end: int) -> list[bytes]:
        """The entries at indexes ``[start, end)`` (all present, or LogRangeError)."""
        ...

    def nodes(self, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        """The stored hashes of the complete nodes ``ids`` (missing ones are left out)."""
        ...

    def put_tree_head(self, tree_size: int, signed: bytes) -> None:
        """Keep a signed tree head; a newer one for the same size replaces the older."""
        ...

    def tree_head(self, tree_size: int | None = None) -> bytes | None:
        """The signed tree head for ``tree_size``, or the largest one when None."""
        ...

    def put_checkpoint(self, tree_size: int, signed: bytes, *, cosigned: bool = False) -> None:
        """Keep a signed checkpoint (C2SP note); a newer one for the same size replaces it.
        ``cosigned``: it carries witnesses' cosignatures (hub/translog/cosigning.py)."""
        ...

    def checkpoint(self, tree_size: int | None = None) -> bytes | None:
        """The signed checkpoint for ``tree_size``, or the largest one when None."""
        ...

    def cosigned_checkpoint(self) -> bytes | None:
        """The largest checkpoint kept as cosigned; None when no witness cosigned one."""
        ...


class MemoryStorage:
    """A :class:`LogStorage` in process memory."""

    def __init__(self) -> None:
        self._entries: list[bytes] = []
        self._nodes: dict[NodeId, bytes] = {}
        self._heads: dict[int, bytes] = {}
        self._checkpoints: dict[int, bytes] = {}
        self._cosigned: set[int] = set()

    def size(self) -> int:
        return len(self._entries)

    def append(
        self, first_index: int, entries: Sequence[bytes], nodes: Mapping[NodeId, bytes]
    ) -> None:
        if first_index != len(self._entries):
            raise LogConflictError(
                f"append at {first_index}, but the log holds {len(self._entries)} leaves"
            )
        self._entries.extend(entries)
        self._nodes.update(nodes)

    def entries(self, start: int, end: int) -> list[bytes]:
        if not 0 <= start <= end <= len(self._entries):
            raise LogRangeError(f"entries [{start}, {end}) not in a log of {self.size()}")
        return self._entries[start:end]

    def nodes(self, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        return {node: self._nodes[node] for node in ids if node in self._nodes}

    def put_tree_head(self, tree_size: int, signed: bytes) -> None:
        self._heads[tree_size] = signed

    def tree_head(self, tree_size: int | None = None) -> bytes | None:
        if tree_size is None:
            tree_size = max(self._heads, default=-1)
        return self._heads.get(tree_size)

    def put_checkpoint(self, tree_size: int, signed: bytes, *, cosigned: bool = False) -> None:
        self._checkpoints[tree_size] = signed
        (self._cosigned.add if cosigned else self._cosigned.discard)(tree_size)

    def checkpoint(self, tree_size: int | None = None) -> bytes | None:
        if tree_size is None:
            tree_size = max(self._checkpoints, default=-1)
        return self._checkpoints.get(tree_size)

    def cosigned_checkpoint(self) -> bytes | None:
        return self._checkpoints.get(max(self._cosigned, default=-1))
