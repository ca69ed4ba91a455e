"""The transparency log's storage in the hub's database (SQLite or PostgreSQL).

Each log is keyed by its name, so a real election's log and a training (bimtek) log share a
database without mixing. Three tables of its own: the complete subtree hashes
(``translog_nodes``, level 0 being the leaf hashes), the signed tree heads
(``translog_heads``) and the same heads as C2SP checkpoints (``translog_checkpoints``, each
marked once witnesses cosigned it).
The entries themselves are not copied here: every leaf is exactly the signed bytes of
one accepted document, which ``documents`` keeps anyway (``signed``, at its ``log_name``
and ``log_index``, unique together), so :meth:`DatabaseLogStorage.entries` reads them
there. A second copy cost as much space again as the documents (about 5.7 KB a
result, ~23 GB at national scale) and a write per result; migration 3 dropped it after
checking both copies agreed. The log's size is therefore counted by its leaf hashes, and
an entry is readable only once its document is stored: the ingestor appends a batch's
leaves, then inserts their documents in the same transaction, and reads no entry between.

Through hub/store/db.py the log lives in SQLite or in the one PostgreSQL database every
worker shares. It commits nothing itself: an append joins the caller's transaction, so a
result, its leaf and its ack are committed together or not at all. Called outside a
transaction, an append opens its own.

Appends are serialized by the database's write lock (see db.py), and the size is checked
before anything is written, so a worker whose view of the log is stale gets
LogConflictError with its transaction still usable, and TransparencyLog reloads and
retries. The primary keys remain the last line of defence against a forked tree: a key
violation is reported as the same LogConflictError, never as a second version of a leaf.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence

from hub.errors import StoreError
from hub.store.db import Database
from hub.translog.storage import LogConflictError, LogRangeError
from protocol.subtrees import NodeId

_BATCH = 400  # node ids per query: well under both databases' parameter limits


class DatabaseLogStorage:
    """A :class:`~hub.translog.storage.LogStorage` for the log named ``log``."""

    def __init__(self, db: Database, log: str) -> None:
        self._db = db
        self.log = log

    def size(self) -> int:
        # The last leaf hash: one step down translog_nodes' primary key (log, level, idx).
        row = self._db.one(
            "SELECT idx FROM translog_nodes WHERE log = ? AND level = 0 ORDER BY idx DESC LIMIT 1",
            (self.log,),
        )
        return 0 if row is None else int(row[0]) + 1

    def append(
        self, first_index: int, entries: Sequence[bytes], nodes: Mapping[NodeId, bytes]
    ) -> None:
        # ``entries`` are not written: each is its document's ``signed``, which the caller
        # stores in this transaction (see the module's docstring). Their leaf hashes are
        # what the size is counted by, so each must come with its own.
        leaves = sorted(idx for level, idx in nodes if level == 0)
        if leaves != list(range(first_index, first_index + len(entries))):
            raise ValueError(f"append at {first_index}: nodes lack a leaf hash of the entries")
        with self._db.transaction():
            size = self.size()
            if size != first_index:
                raise LogConflictError(
                    f"append at {first_index}, but log {self.log!r} holds {size} leaves"
                )
            try:
                self._db.executemany(
                    "INSERT INTO translog_nodes (log, level, idx, hash) VALUES (?, ?, ?, ?)",
                    [(self.log, level, idx, h) for (level, idx), h in nodes.items()],
                )
            except StoreError as e:
                if not _key_violation(e.__cause__):
                    raise
                raise LogConflictError(f"append at {first_index} lost a race: {e}") from e

    def entries(self, start: int, end: int) -> list[bytes]:
        """The leaves ``[start, end)``: their documents' signed bytes, by index."""
        rows = self._db.all(
            "SELECT signed FROM documents WHERE log_name = ? AND log_index >= ? "
            "AND log_index < ? ORDER BY log_index",
            (self.log, start, end),
        )
        if start < 0 or len(rows) != end - start:
            raise LogRangeError(
                f"entries [{start}, {end}) not in log {self.log!r} of {self.size()} leaves "
                "(a leaf's entry is its stored document's signed bytes)"
            )
        return [bytes(row[0]) for row in rows]

    def nodes(self, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        wanted = list(dict.fromkeys(ids))
        found: dict[NodeId, bytes] = {}
        for offset in range(0, len(wanted), _BATCH):
            found.update(self._nodes_batch(wanted[offset : offset + _BATCH]))
        return found

    def _nodes_batch(self, ids: list[NodeId]) -> dict[NodeId, bytes]:
        if not ids:
            return {}
        values = ", ".join("(?, ?)" for _ in ids)
        params: list[object] = [v for node in ids for v in node]
        # A join on a VALUES list: one primary-key lookup per node in both databases
        # (SQLite plans ``(level, idx) IN (VALUES ...)`` as a scan of the whole log).
        rows = self._db.all(
            f"WITH wanted(level, idx) AS (VALUES {values}) "
            "SELECT n.level, n.idx, n.hash FROM wanted JOIN translog_nodes AS n "
            "ON n.log = ? AND n.level = wanted.level AND n.idx = wanted.idx",
            [*params, self.log],
        )
        return {(int(level), int(idx)): bytes(h) for level, idx, h in rows}

    def put_tree_head(self, tree_size: int, signed: bytes) -> None:
        with self._db.transaction():
            self._db.execute(
                "INSERT INTO translog_heads (log, tree_size, head) VALUES (?, ?, ?) "
                "ON CONFLICT (log, tree_size) DO UPDATE SET head = excluded.head",
                (self.log, tree_size, signed),
            )

    def tree_head(self, tree_size: int | None = None) -> bytes | None:
        if tree_size is None:
            row = self._db.one(
                "SELECT head FROM translog_heads WHERE log = ? ORDER BY tree_size DESC LIMIT 1",
                (self.log,),
            )
        else:
            row = self._db.one(
                "SELECT head FROM translog_heads WHERE log = ? AND tree_size = ?",
                (self.log, tree_size),
            )
        return None if row is None else bytes(row[0])

    def put_checkpoint(self, tree_size: int, signed: bytes, *, cosigned: bool = False) -> None:
        with self._db.transaction():
            self._db.execute(
                "INSERT INTO translog_checkpoints (log, tree_size, note, cosigned) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (log, tree_size) DO UPDATE SET "
                "note = excluded.note, cosigned = excluded.cosigned",
                (self.log, tree_size, signed, int(cosigned)),
            )

    def checkpoint(self, tree_size: int | None = None) -> bytes | None:
        if tree_size is None:
            row = self._db.one(
                "SELECT note FROM translog_checkpoints WHERE log = ? "
                "ORDER BY tree_size DESC LIMIT 1",
                (self.log,),
            )
        else:
            row = self._db.one(
                "SELECT note FROM translog_checkpoints WHERE log = ? AND tree_size = ?",
                (self.log, tree_size),
            )
        return None if row is None else bytes(row[0])

    def cosigned_checkpoint(self) -> bytes | None:
        row = self._db.one(
            "SELECT note FROM translog_checkpoints WHERE log = ? AND cosigned = 1 "
            "ORDER BY tree_size DESC LIMIT 1",
            (self.log,),
        )
        return None if row is None else bytes(row[0])


def _key_violation(error: BaseException | None) -> bool:
    """A primary-key refusal from either database (another writer took that index)."""
    if isinstance(error, sqlite3.IntegrityError):
        return True
    return type(error).__name__ == "UniqueViolation"  # psycopg.errors, without importing it
