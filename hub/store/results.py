"""The hub's record of results over one :class:`Database`: every version, every rejection,
images and anomalies, a module per table (documents.py, rejections.py, images.py,
anomalies.py), and what spans two of them.

All SQL the ingest path runs lives in those modules, written once for both databases
(hub/store/db.py); the rules the rows follow are hub/ledger.py's. Writes expect to run inside
the caller's :meth:`Database.transaction` so a document, its log entry, its ack and its
effects on the chain and current-version rows commit together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from hub.ledger import ChainRow, settled_fork_detail
from hub.store import migrations
from hub.store.anomalies import AnomalyTable
from hub.store.db import Database
from hub.store.documents import DocumentTable
from hub.store.images import ImageTable
from hub.store.logstorage import DatabaseLogStorage
from hub.store.rejections import RejectionTable


def utc_text(now: dt.datetime) -> str:
    """Timestamps are stored as sortable UTC text with microseconds, the same in both."""
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ResultStore(DocumentTable, RejectionTable, ImageTable, AnomalyTable):
    """The hub's tables over one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    def open(
        cls,
        url: str,
        *,
        now: dt.datetime,
        schema: str | None = None,
        cache_mb: int | None = None,
        background_checkpoint: bool = False,
    ) -> ResultStore:
        """Connect and bring the schema up to date (migrations run once, under the lock).

        ``background_checkpoint``: see :meth:`Database.open` (the ingesting hub's store).
        """
        db = Database.open(
            url, schema=schema, cache_mb=cache_mb, background_checkpoint=background_checkpoint
        )
        try:
            migrations.migrate(db, utc_text(now))
        except BaseException:
            db.close()
            raise
        return cls(db)

    def close(self) -> None:
        self.db.close()

    def log_storage(self, log: str) -> DatabaseLogStorage:
        return DatabaseLogStorage(self.db, log)

    def store_settled(
        self, kit: str, seq: int, document_sha256: str, now: str, settled: Sequence[ChainRow]
    ) -> None:
        """A late predecessor (``document_sha256`` at ``seq``) arrived: store what
        hub.ledger.settled_successors made of the gaps it fills (closed, or forks)."""
        for row in settled:
            self.set_chain_status(row.id, row.chain_status)
            if row.chain_status == "ok":
                self.resolve_anomalies(row.id, "chain-gap", now)
            else:
                detail = settled_fork_detail(kit, seq, document_sha256, row)
                self.add_anomaly("chain-fork", detail, now, kit=kit, document_id=row.id)

    def counts(self) -> dict[str, int]:
        tables = ("documents", "current_results", "images", "rejections", "anomalies")
        return {t: int(self.db.one(f"SELECT COUNT(*) FROM {t}")[0]) for t in tables}  # type: ignore[index]
