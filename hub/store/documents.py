"""The documents table (every accepted version), its page rows, and current_results (the
version of each TPS's form that counts): the SQL only. Which version counts and where a
document sits in its kit's chain are hub/ledger.py's rules; this reads and writes their rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hub.ledger import (
    BatchChains,
    ChainRow,
    ChainStatus,
    Counting,
    CurrentVersions,
    DocumentFields,
    StoredDocument,
)
from hub.store.db import Database, Row
from hub.store.rows import IN_CHUNK, column_list, insert_sql, joined_with, read_row, row_values

PageRow = tuple[int, int, str]  # document id, page, image hash

_DOCUMENTS = column_list(StoredDocument)
_FIELDS_OF = column_list(DocumentFields, "d.")


class DocumentTable:
    """The documents, document_pages and current_results tables over one database."""

    db: Database

    # -- documents ---------------------------------------------------------------------------

    def find_document(self, document_sha256: str) -> StoredDocument | None:
        row = self.db.one(
            f"SELECT {_DOCUMENTS} FROM documents WHERE document_sha256 = ?", (document_sha256,)
        )
        return None if row is None else read_row(StoredDocument, row)

    def find_documents(self, shas: Sequence[str]) -> dict[str, StoredDocument]:
        """:meth:`find_document` of many hashes in few queries (those stored, by hash)."""
        wanted = list(dict.fromkeys(shas))
        found: dict[str, StoredDocument] = {}
        for start in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[start : start + IN_CHUNK]
            marks = ", ".join("?" * len(chunk))
            rows = self.db.all(
                f"SELECT {_DOCUMENTS} FROM documents WHERE document_sha256 IN ({marks})", chunk
            )
            for row in rows:
                doc = read_row(StoredDocument, row)
                found[doc.document_sha256] = doc
        return found

    def document(self, document_id: int) -> StoredDocument:
        row = self.db.one(f"SELECT {_DOCUMENTS} FROM documents WHERE id = ?", (document_id,))
        if row is None:
            raise KeyError(document_id)
        return read_row(StoredDocument, row)

    def versions(self, election: str, tps: str, form: str) -> list[StoredDocument]:
        """Every stored version of one TPS's form, oldest first."""
        rows = self.db.all(
            f"SELECT {_DOCUMENTS} FROM documents WHERE election = ? AND tps = ? AND form = ? "
            "ORDER BY seq, id",
            (election, tps, form),
        )
        return [read_row(StoredDocument, row) for row in rows]

    def next_document_ids(self, count: int) -> list[int]:
        """The ids the next ``count`` documents get, in order (inside the write transaction
        that inserts them): a batch needs its documents' ids before one statement stores
        them all."""
        return self.db.next_ids("documents", count)

    def insert_documents(self, docs: Sequence[StoredDocument], pages: Iterable[PageRow]) -> None:
        """Store documents under ids from :meth:`next_document_ids`, their page rows, and
        the pages whose image the hub does not hold yet (awaited until it arrives)."""
        self.db.executemany(insert_sql(StoredDocument, "documents"), map(row_values, docs))
        rows = list(pages)
        self.db.executemany(
            "INSERT INTO document_pages (document_id, page, sha256) VALUES (?, ?, ?)", rows
        )
        received = {d.id: d.received_at for d in docs}
        self.db.executemany(
            "INSERT INTO awaited_images (document_id, page, sha256, named_at) "
            "SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM images WHERE sha256 = ?)",
            [(doc, page, sha, received[doc], sha) for doc, page, sha in rows],
        )

    # -- the per-kit hash chain ----------------------------------------------------------------

    def batch_chains(self, places: Iterable[tuple[str, int]]) -> BatchChains:
        """A kit's stored documents at ``seq - 1``, ``seq`` and ``seq + 1`` for every
        (kit, seq) in ``places``: what hub.ledger.chain_position reads, in a query per few
        hundred kits, not one per place."""
        rows = joined_with(
            self.db,
            "kit, lo, hi",
            _seq_ranges(places),
            "SELECT d.kit, d.id, d.seq, d.document_sha256, d.prev_sha256, d.chain_status "
            "FROM wanted AS w JOIN documents AS d ON d.kit = w.kit AND d.seq BETWEEN w.lo AND w.hi "
            "ORDER BY d.id",
        )
        return BatchChains(
            (str(r[0]), ChainRow(int(r[1]), int(r[2]), str(r[3]), str(r[4]), r[5])) for r in rows
        )

    def set_chain_status(self, document_id: int, status: ChainStatus) -> None:
        self.db.execute("UPDATE documents SET chain_status = ? WHERE id = ?", (status, document_id))

    # -- the version that counts -------------------------------------------------------------

    def current_versions(
        self, keys: Iterable[tuple[str, str, str]], excluded: frozenset[str] = frozenset()
    ) -> CurrentVersions:
        """The current_results rows of these (election, tps, form), in a query per few
        hundred, for hub.ledger to move in memory and :meth:`write_current` to store.
        ``excluded``: kits declared compromised (the store's ``compromised_kits``)."""
        wanted = list(dict.fromkeys(keys))
        rows = joined_with(
            self.db,
            "election, tps, form",
            wanted,
            "SELECT c.election, c.tps, c.form, c.is_training, c.document_id, "
            "c.first_document_id, c.kit, c.seq, c.captured_at, c.versions, c.updated_at "
            "FROM wanted AS w JOIN current_results AS c "
            "ON c.election = w.election AND c.tps = w.tps AND c.form = w.form",
        )
        return CurrentVersions((_counting(r) for r in rows), excluded)

    def write_current(self, versions: CurrentVersions) -> None:
        """Store every row the ledger moved, in two statements."""
        new, stored = versions.take_changed()
        self.db.executemany(
            "INSERT INTO current_results (election, tps, form, is_training, document_id, "
            "first_document_id, kit, seq, captured_at, versions, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    *r.key,
                    int(r.is_training),
                    r.document_id,
                    r.first_document_id,
                    r.kit,
                    r.seq,
                    r.captured_at,
                    r.versions,
                    r.updated_at,
                )
                for r in new
            ],
        )
        self.db.executemany(
            "UPDATE current_results SET document_id = ?, kit = ?, seq = ?, captured_at = ?, "
            "versions = ?, updated_at = ? WHERE election = ? AND tps = ? AND form = ?",
            [
                (r.document_id, r.kit, r.seq, r.captured_at, r.versions, r.updated_at, *r.key)
                for r in stored
            ],
        )

    def current(self, election: str, tps: str, form: str) -> StoredDocument | None:
        row = self.db.one(
            "SELECT document_id FROM current_results WHERE election = ? AND tps = ? AND form = ?",
            (election, tps, form),
        )
        return None if row is None else self.document(int(row[0]))

    def forms_of_kit(self, kit: str) -> list[tuple[str, str, str]]:
        """Every (election, tps, form) a kit has stored versions of."""
        rows = self.db.all(
            "SELECT DISTINCT election, tps, form FROM documents WHERE kit = ? "
            "ORDER BY election, tps, form",
            (kit,),
        )
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    def set_counting(self, key: tuple[str, str, str], doc: StoredDocument | None, now: str) -> None:
        """Point a TPS's form at another counting version (hub.ledger's
        ``counting_version`` chose it), or at none: the row goes, its history stays in
        documents."""
        if doc is None:
            self.db.execute(
                "DELETE FROM current_results WHERE election = ? AND tps = ? AND form = ?", key
            )
            return
        self.db.execute(
            "UPDATE current_results SET document_id = ?, kit = ?, seq = ?, captured_at = ?, "
            "updated_at = ? WHERE election = ? AND tps = ? AND form = ?",
            (doc.id, doc.kit, doc.seq, doc.captured_at, now, *key),
        )

    # -- readers for the recapitulation -------------------------------------------------------

    def document_fields(self, document_id: int) -> DocumentFields:
        row = self.db.one(f"SELECT {_FIELDS_OF} FROM documents AS d WHERE id = ?", (document_id,))
        if row is None:
            raise KeyError(document_id)
        return read_row(DocumentFields, row)

    def first_document_id(self, election: str, tps: str, form: str) -> int | None:
        """The first version of a TPS's form that arrived (its first report)."""
        row = self.db.one(
            "SELECT first_document_id FROM current_results "
            "WHERE election = ? AND tps = ? AND form = ?",
            (election, tps, form),
        )
        return None if row is None else int(row[0])

    def current_fields(
        self, election: str, form: str, tps_codes: Sequence[str]
    ) -> dict[str, DocumentFields]:
        """The version that counts of each named TPS (those that reported), by TPS code."""
        found: dict[str, DocumentFields] = {}
        for start in range(0, len(tps_codes), IN_CHUNK):
            chunk = list(tps_codes[start : start + IN_CHUNK])
            marks = ", ".join("?" * len(chunk))
            rows = self.db.all(
                f"SELECT {_FIELDS_OF} FROM current_results AS c "
                "JOIN documents AS d ON d.id = c.document_id "
                f"WHERE c.election = ? AND c.form = ? AND c.tps IN ({marks})",
                (election, form, *chunk),
            )
            for row in rows:
                doc = read_row(DocumentFields, row)
                found[doc.tps] = doc
        return found

    # -- images ------------------------------------------------------------------------------

    def image_named_by(self, kit: str, sha256: str) -> bool:
        """Whether a stored document of ``kit`` names an image with this hash."""
        row = self.db.one(
            "SELECT 1 FROM document_pages AS p JOIN documents AS d ON d.id = p.document_id "
            "WHERE p.sha256 = ? AND d.kit = ? LIMIT 1",
            (sha256, kit),
        )
        return row is not None


def _seq_ranges(places: Iterable[tuple[str, int]]) -> list[tuple[str, int, int]]:
    """(kit, lo, hi) covering each place's seq - 1 to seq + 1, overlaps merged (so no row
    is read twice)."""
    ranges: list[tuple[str, int, int]] = []
    for kit, seq in sorted(set(places)):
        if ranges and ranges[-1][0] == kit and seq - 1 <= ranges[-1][2]:
            ranges[-1] = (kit, ranges[-1][1], seq + 1)
        else:
            ranges.append((kit, seq - 1, seq + 1))
    return ranges


def _counting(r: Row) -> Counting:
    return Counting(
        (str(r[0]), str(r[1]), str(r[2])),
        bool(r[3]),
        int(r[4]),
        int(r[5]),
        str(r[6]),
        int(r[7]),
        str(r[8]),
        int(r[9]),
        str(r[10]),
        stored=True,
    )
