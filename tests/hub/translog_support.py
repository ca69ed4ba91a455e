"""A transparency log on its own SQLite file, as the hub stores it (for the log's tests).

The hub's log storage reads a leaf's entry from the document stored at that leaf
(``documents.signed``), which ingest inserts right after appending: the storage here does
the same, so entries written by a test read back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from hub.store import ResultStore
from hub.store.db import Database
from hub.store.logstorage import DatabaseLogStorage
from hub.translog.tree import NodeId

_WHEN = "2024-02-14T12:00:00.000000Z"


def store_leaf_documents(
    db: Database, log: str, first_index: int, entries: Sequence[bytes]
) -> None:
    """Store each entry as the signed bytes of a (placeholder) document at its leaf."""
    rows = []
    for offset, entry in enumerate(entries):
        index = first_index + offset
        sha = hashlib.sha256(b"%s/%d/%s" % (log.encode(), index, entry)).hexdigest()
        rows.append(
            (
                sha,
                "kit-uji",
                index,
                "pemilu-uji",
                0,
                "tps",
                "C1",
                1,
                _WHEN,
                "",
                "{}",
                entry,
                "1",
                "ok",
                log,
                index,
                b"ack",
                "test",
                _WHEN,
            )
        )
    db.executemany(
        "INSERT INTO documents (document_sha256, kit, seq, election, is_training, tps, form, "
        "form_version, captured_at, prev_sha256, fields, signed, cert_serial, chain_status, "
        "log_name, log_index, ack, source, received_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


class LeafDocumentStorage(DatabaseLogStorage):
    """The hub's log storage, storing each appended entry's document as ingest would."""

    def __init__(self, db: Database, log: str) -> None:
        super().__init__(db, log)
        self.db = db

    def append(
        self, first_index: int, entries: Sequence[bytes], nodes: Mapping[NodeId, bytes]
    ) -> None:
        with self.db.transaction():
            super().append(first_index, entries, nodes)
            store_leaf_documents(self.db, self.log, first_index, entries)


def sqlite_log(path: Path, log: str = "main") -> DatabaseLogStorage:
    """The hub's log storage on ``path``; ``.close()`` closes the database."""
    store = ResultStore.open(str(path), now=dt.datetime.now(dt.UTC))
    storage = LeafDocumentStorage(store.db, log)
    storage.close = store.close  # type: ignore[attr-defined]
    return storage
