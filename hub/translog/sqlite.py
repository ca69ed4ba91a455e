"""The transparency log in SQLite (stdlib sqlite3), beside the hub's other tables.

Three tables, each keyed by the log's name so a real election's log and a training
(bimtek) log can share a database without mixing: entries, complete subtree hashes (level 0
being the leaf hashes) and signed tree heads. Primary keys make the log append-only in the
database itself: a second writer that computed the same next index fails on the key and
learns it lost the race (:class:`LogConflictError`) instead of forking the tree.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from hub.translog.storage import LogConflictError, LogRangeError
from hub.translog.tree import NodeId

SCHEMA = """
CREATE TABLE IF NOT EXISTS translog_entries (
    log TEXT NOT NULL, idx INTEGER NOT NULL, entry BLOB NOT NULL,
    PRIMARY KEY (log, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS translog_nodes (
    log TEXT NOT NULL, level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
    PRIMARY KEY (log, level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS translog_heads (
    log TEXT NOT NULL, tree_size INTEGER NOT NULL, head BLOB NOT NULL,
    PRIMARY KEY (log, tree_size)
) WITHOUT ROWID;
"""
_BATCH = 400  # node ids per query: stays under SQLite's limit of bound parameters


class SqliteStorage:
    """A :class:`~hub.translog.storage.LogStorage` in one SQLite database."""

    def __init__(self, connection: sqlite3.Connection, log: str = "main") -> None:
        self._db = connection
        self._log = log
        with self._db:
            self._db.executescript(SCHEMA)

    @classmethod
    def open(cls, path: Path, log: str = "main") -> SqliteStorage:
        """Open (or create) a database file in WAL mode, as the hub runs SQLite."""
        connection = sqlite3.connect(path)
        connection.execute("PRAGMA journal_mode=WAL")
        # WAL with synchronous=NORMAL survives a process crash; the hub acks after commit.
        connection.execute("PRAGMA synchronous=NORMAL")
        return cls(connection, log)

    def close(self) -> None:
        self._db.close()

    def size(self) -> int:
        row = self._db.execute(
            "SELECT idx FROM translog_entries WHERE log = ? ORDER BY idx DESC LIMIT 1",
            (self._log,),
        ).fetchone()
        return 0 if row is None else row[0] + 1

    def append(
        self, first_index: int, entries: Sequence[bytes], nodes: Mapping[NodeId, bytes]
    ) -> None:
        try:
            with self._db:
                if self.size() != first_index:
                    raise LogConflictError(
                        f"append at {first_index}, but log {self._log!r} holds {self.size()}"
                    )
                self._db.executemany(
                    "INSERT INTO translog_entries (log, idx, entry) VALUES (?, ?, ?)",
                    [(self._log, first_index + i, e) for i, e in enumerate(entries)],
                )
                self._db.executemany(
                    "INSERT INTO translog_nodes (log, level, idx, hash) VALUES (?, ?, ?, ?)",
                    [(self._log, level, idx, h) for (level, idx), h in nodes.items()],
                )
        except sqlite3.IntegrityError as e:
            # Two writers read the same size: the key refuses the second, nothing is written.
            raise LogConflictError(f"append at {first_index} lost a race: {e}") from e

    def entries(self, start: int, end: int) -> list[bytes]:
        rows = self._db.execute(
            "SELECT entry FROM translog_entries WHERE log = ? AND idx >= ? AND idx < ? "
            "ORDER BY idx",
            (self._log, start, end),
        ).fetchall()
        if start < 0 or len(rows) != end - start:
            raise LogRangeError(f"entries [{start}, {end}) not in a log of {self.size()}")
        return [row[0] for row in rows]

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
        # A join, not ``(level, idx) IN (VALUES …)``: SQLite plans the IN form as a scan of
        # the whole log, the join as one primary-key lookup per wanted node.
        rows = self._db.execute(
            f"WITH wanted(level, idx) AS (VALUES {values}) "
            "SELECT n.level, n.idx, n.hash FROM wanted JOIN translog_nodes AS n "
            "ON n.log = ? AND n.level = wanted.level AND n.idx = wanted.idx",
            [*params, self._log],
        )
        return {(level, idx): h for level, idx, h in rows}

    def put_tree_head(self, tree_size: int, signed: bytes) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO translog_heads (log, tree_size, head) VALUES (?, ?, ?)",
                (self._log, tree_size, signed),
            )

    def tree_head(self, tree_size: int | None = None) -> bytes | None:
        if tree_size is None:
            row = self._db.execute(
                "SELECT head FROM translog_heads WHERE log = ? ORDER BY tree_size DESC LIMIT 1",
                (self._log,),
            ).fetchone()
        else:
            row = self._db.execute(
                "SELECT head FROM translog_heads WHERE log = ? AND tree_size = ?",
                (self._log, tree_size),
            ).fetchone()
        return None if row is None else row[0]
