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
from hub.store.documents import StoredDocument
from hub.store.logstorage import DatabaseLogStorage
from protocol.subtrees import NodeId

_WHEN = "2024-02-14T12:00:00.000000Z"


def store_leaf_documents(
    db: Database, log: str, first_index: int, entries: Sequence[bytes]
) -> None:
    """Store each entry as the signed bytes of a (placeholder) document at its leaf."""
    with db.transaction():  # the ids reserved are taken by the same transaction
        store = ResultStore(db)
        ids = store.next_document_ids(len(entries))
        docs = []
        for offset, (entry, document_id) in enumerate(zip(entries, ids, strict=True)):
            index = first_index + offset
            sha = hashlib.sha256(b"%s/%d/%s" % (log.encode(), index, entry)).hexdigest()
            docs.append(
                StoredDocument(
                    id=document_id,
                    document_sha256=sha,
                    kit="kit-uji",
                    seq=index + 1,
                    election="pemilu-uji",
                    is_training=False,
                    tps="tps",
                    form="C1",
                    form_version=1,
                    captured_at=_WHEN,
                    prev_sha256="",
                    fields="{}",
                    signed=entry,
                    cert_serial="1",
                    chain_status="ok",
                    log_name=log,
                    log_index=index,
                    ack=b"ack",
                    source="test",
                    received_at=_WHEN,
                )
            )
        store.insert_documents(docs, ())


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
