"""The hub's record of results: every version, every rejection, images, chain anomalies.

All SQL the ingest path runs lives here, written once for both databases (hub/store/db.py).
Writes expect to run inside the caller's :meth:`Database.transaction` so a document, its
log entry, its ack and its effects on the chain and current-version pointer commit together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import orjson

from hub.store import migrations
from hub.store.db import Database, Row
from hub.store.logstorage import DatabaseLogStorage
from protocol.document import GENESIS

ChainStatus = Literal["ok", "gap", "fork"]

_DOC_COLUMNS = (
    "id, document_sha256, kit, seq, election, is_training, tps, form, form_version, "
    "captured_at, prev_sha256, fields, signed, cert_serial, chain_status, log_name, "
    "log_index, ack, source, received_at"
)


@dataclass(frozen=True)
class NewDocument:
    """A verified document about to be stored (every column but the id)."""

    document_sha256: str
    kit: str
    seq: int
    election: str
    is_training: bool
    tps: str
    form: str
    form_version: int
    captured_at: str
    prev_sha256: str
    fields: str  # canonical JSON of the field values, read by the recapitulation
    signed: bytes
    cert_serial: str
    chain_status: ChainStatus
    log_name: str
    log_index: int
    ack: bytes
    source: str
    received_at: str
    pages: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class StoredDocument:
    id: int
    document_sha256: str
    kit: str
    seq: int
    election: str
    is_training: bool
    tps: str
    form: str
    form_version: int
    captured_at: str
    prev_sha256: str
    fields: str
    signed: bytes
    cert_serial: str
    chain_status: ChainStatus
    log_name: str
    log_index: int
    ack: bytes
    source: str
    received_at: str


@dataclass(frozen=True)
class ChainRow:
    """A stored document's place in its kit's chain (ResultStore.chain_neighbours)."""

    id: int
    seq: int
    document_sha256: str
    prev_sha256: str
    chain_status: ChainStatus


@dataclass(frozen=True)
class CurrentChange:
    """The version that counts for one TPS and form moved: the recapitulation's input."""

    election: str
    tps: str
    form: str
    is_training: bool
    document_id: int
    previous_document_id: int | None  # None: the first report of this TPS and form
    # The new version as the recapitulation reads it, when the writer has it at hand:
    # store.document_fields(document_id) would read back (and parse) what was just written.
    document: DocumentFields | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class DocumentFields:
    """A stored document's identity and numbers, without its signed bytes: what the
    recapitulation reads (a fraction of the row, so the hot path stays cheap)."""

    id: int
    kit: str
    seq: int
    election: str
    is_training: bool
    tps: str
    form: str
    form_version: int
    fields: dict[str, int]
    received_at: str


@dataclass(frozen=True)
class Rejection:
    id: int
    kind: str
    topic_kit: str
    message_sha256: str
    document_sha256: str | None
    seq: int | None
    reason_code: str
    reason: str
    raw: bytes
    raw_size: int
    ack: bytes | None
    times: int
    source: str


@dataclass(frozen=True)
class Anomaly:
    id: int
    kind: str
    kit: str | None
    document_id: int | None
    detail: str
    resolved: bool


def utc_text(now: dt.datetime) -> str:
    """Timestamps are stored as sortable UTC text with microseconds, the same in both."""
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ResultStore:
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

    # -- documents ---------------------------------------------------------------------------

    def find_document(self, document_sha256: str) -> StoredDocument | None:
        row = self.db.one(
            f"SELECT {_DOC_COLUMNS} FROM documents WHERE document_sha256 = ?", (document_sha256,)
        )
        return None if row is None else _document(row)

    def find_documents(self, shas: Sequence[str]) -> dict[str, StoredDocument]:
        """:meth:`find_document` of many hashes in few queries (those stored, by hash)."""
        wanted = list(dict.fromkeys(shas))
        found: dict[str, StoredDocument] = {}
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            marks = ", ".join("?" * len(chunk))
            rows = self.db.all(
                f"SELECT {_DOC_COLUMNS} FROM documents WHERE document_sha256 IN ({marks})", chunk
            )
            for row in rows:
                doc = _document(row)
                found[doc.document_sha256] = doc
        return found

    def document(self, document_id: int) -> StoredDocument:
        row = self.db.one(f"SELECT {_DOC_COLUMNS} FROM documents WHERE id = ?", (document_id,))
        if row is None:
            raise KeyError(document_id)
        return _document(row)

    def versions(self, election: str, tps: str, form: str) -> list[StoredDocument]:
        """Every stored version of one TPS's form, oldest first."""
        rows = self.db.all(
            f"SELECT {_DOC_COLUMNS} FROM documents WHERE election = ? AND tps = ? AND form = ? "
            "ORDER BY seq, id",
            (election, tps, form),
        )
        return [_document(row) for row in rows]

    def current(self, election: str, tps: str, form: str) -> StoredDocument | None:
        row = self.db.one(
            "SELECT document_id FROM current_results WHERE election = ? AND tps = ? AND form = ?",
            (election, tps, form),
        )
        return None if row is None else self.document(int(row[0]))

    def insert_document(self, doc: NewDocument) -> int:
        """Store one document and its page rows; its id."""
        with self.db.transaction():  # the reserved id must not be taken meanwhile
            (document_id,) = self.next_document_ids(1)
            self.insert_documents([(document_id, doc)])
        return document_id

    def next_document_ids(self, count: int) -> list[int]:
        """The ids the next ``count`` documents get, in order (inside the write transaction
        that inserts them): a batch needs its documents' ids before one statement stores
        them all."""
        return self.db.next_ids("documents", count)

    def insert_documents(self, docs: Sequence[tuple[int, NewDocument]]) -> None:
        """Store documents under ids from :meth:`next_document_ids`, and their page rows."""
        self.db.executemany(
            "INSERT INTO documents (id, document_sha256, kit, seq, election, is_training, tps, "
            "form, form_version, captured_at, prev_sha256, fields, signed, cert_serial, "
            "chain_status, log_name, log_index, ack, source, received_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [_document_values(document_id, doc) for document_id, doc in docs],
        )
        self.insert_pages(
            [(document_id, page, sha) for document_id, doc in docs for page, sha in doc.pages]
        )

    def insert_pages(self, rows: Sequence[tuple[int, int, str]]) -> None:
        """Page rows: (document id, page, image hash)."""
        self.db.executemany(
            "INSERT INTO document_pages (document_id, page, sha256) VALUES (?, ?, ?)", rows
        )

    # -- the per-kit hash chain ----------------------------------------------------------------

    def chain_neighbours(self, kit: str, seq: int) -> list[ChainRow]:
        """A kit's stored documents at ``seq - 1``, ``seq`` and ``seq + 1``: everything
        :meth:`chain_position` and :func:`settled_successors` read, in one query."""
        rows = self.db.all(
            "SELECT id, seq, document_sha256, prev_sha256, chain_status FROM documents "
            "WHERE kit = ? AND seq BETWEEN ? AND ? ORDER BY seq, id",
            (kit, seq - 1, seq + 1),
        )
        return [_chain_row(r) for r in rows]

    def batch_chains(self, places: Iterable[tuple[str, int]]) -> BatchChains:
        """:meth:`chain_neighbours` of every (kit, seq) in ``places``, in a query per few
        hundred kits (_MAX_PARAMS), not one per place."""
        rows = _joined_with(
            self.db,
            "kit, lo, hi",
            _seq_ranges(places),
            "SELECT d.kit, d.id, d.seq, d.document_sha256, d.prev_sha256, d.chain_status "
            "FROM wanted AS w JOIN documents AS d ON d.kit = w.kit AND d.seq BETWEEN w.lo AND w.hi "
            "ORDER BY d.id",
        )
        return BatchChains((str(r[0]), _chain_row(r[1:])) for r in rows)

    def chain_position(
        self,
        kit: str,
        seq: int,
        document_sha256: str,
        prev_sha256: str,
        neighbours: Sequence[ChainRow] | None = None,
    ) -> tuple[ChainStatus, list[tuple[str, str]]]:
        """Where a new document sits in its kit's chain, and the anomalies that shows.

        The kit signed the document, so a break is recorded, never a reason to refuse: a
        gap (the predecessor is not here, perhaps not yet: results can arrive out of order
        through several workers) or a fork (the predecessor here is another document).
        ``neighbours``: :meth:`chain_neighbours`, if the caller already read them.
        """
        if neighbours is None:
            neighbours = self.chain_neighbours(kit, seq)
        anomalies: list[tuple[str, str]] = []
        same_seq = [r.document_sha256 for r in neighbours if r.seq == seq]
        if same_seq:
            others = ", ".join(sha[:12] for sha in same_seq)
            anomalies.append(
                (
                    "seq-reused",
                    f"kit {kit} signed seq {seq} again: {document_sha256[:12]} beside {others}",
                )
            )
        status: ChainStatus
        if seq == 1:
            status = "ok" if prev_sha256 == GENESIS else "fork"
        else:
            before = {r.document_sha256 for r in neighbours if r.seq == seq - 1}
            status = "ok" if prev_sha256 in before else ("fork" if before else "gap")
        if status == "gap":
            anomalies.append(
                (
                    "chain-gap",
                    f"kit {kit} seq {seq}: seq {seq - 1} ({prev_sha256[:12]}) is not here",
                )
            )
        elif status == "fork":
            anomalies.append(
                (
                    "chain-fork",
                    f"kit {kit} seq {seq} names previous {prev_sha256[:12]}, "
                    "which is not the document stored before it",
                )
            )
        return status, anomalies

    def settle_successors(
        self, kit: str, seq: int, document_sha256: str, now: str, settled: Sequence[ChainRow]
    ) -> None:
        """A late predecessor (``document_sha256`` at ``seq``) arrived: store what
        :func:`settled_successors` made of the gaps it fills (closed, or forks)."""
        for row in settled:
            if row.chain_status == "ok":
                self.db.execute("UPDATE documents SET chain_status = 'ok' WHERE id = ?", (row.id,))
                self.db.execute(
                    "UPDATE anomalies SET resolved_at = ? WHERE document_id = ? "
                    "AND kind = 'chain-gap' AND resolved_at IS NULL",
                    (now, row.id),
                )
            else:
                self.db.execute(
                    "UPDATE documents SET chain_status = 'fork' WHERE id = ?", (row.id,)
                )
                self.add_anomaly(
                    "chain-fork",
                    f"kit {kit} seq {seq + 1} names previous {row.prev_sha256[:12]}, but seq "
                    f"{seq} is {document_sha256[:12]}",
                    now,
                    kit=kit,
                    document_id=row.id,
                )

    def add_anomaly(
        self,
        kind: str,
        detail: str,
        now: str,
        *,
        kit: str | None = None,
        election: str | None = None,
        tps: str | None = None,
        document_id: int | None = None,
    ) -> None:
        self.db.execute(
            "INSERT INTO anomalies (kind, kit, election, tps, document_id, detail, detected_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (kind, kit, election, tps, document_id, detail, now),
        )

    def anomalies(self, *, open_only: bool = False) -> list[Anomaly]:
        where = " WHERE resolved_at IS NULL" if open_only else ""
        rows = self.db.all(
            f"SELECT id, kind, kit, document_id, detail, resolved_at FROM anomalies{where} "
            "ORDER BY id"
        )
        return [Anomaly(int(r[0]), r[1], r[2], r[3], r[4], r[5] is not None) for r in rows]

    # -- the version that counts -------------------------------------------------------------

    def advance_current(self, document_id: int, doc: NewDocument, now: str) -> CurrentChange | None:
        """Make ``doc`` the current version of its TPS and form if it is newer.

        Newer means a higher seq from the same kit (a rescan). A document from another kit
        (a replacement kit enrolled for the same TPS) is newer if captured later: seqs of
        two kits do not compare. Arrival order does not matter, so a late old version
        never replaces a newer one. (For one document; a batch uses :meth:`current_versions`.)
        """
        versions = self.current_versions([doc])
        change = versions.advance(document_id, doc, now)
        versions.write()
        return change

    def current_versions(self, docs: Iterable[NewDocument]) -> CurrentVersions:
        """The current_results rows of the TPSs and forms of ``docs``, in a query per few
        hundred TPSs (_MAX_PARAMS), not one per document."""
        keys = list(dict.fromkeys((d.election, d.tps, d.form) for d in docs))
        rows = _joined_with(
            self.db,
            "election, tps, form",
            keys,
            "SELECT c.election, c.tps, c.form, c.is_training, c.document_id, "
            "c.first_document_id, c.kit, c.seq, c.captured_at, c.versions, c.updated_at "
            "FROM wanted AS w JOIN current_results AS c "
            "ON c.election = w.election AND c.tps = w.tps AND c.form = w.form",
        )
        return CurrentVersions(self.db, [_counting(r) for r in rows])

    # -- readers for the recapitulation -------------------------------------------------------

    def document_fields(self, document_id: int) -> DocumentFields:
        row = self.db.one(f"SELECT {_FIELDS_COLUMNS} FROM documents WHERE id = ?", (document_id,))
        if row is None:
            raise KeyError(document_id)
        return _document_fields(row)

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
        columns = ", ".join(f"d.{c.strip()}" for c in _FIELDS_COLUMNS.split(","))
        for start in range(0, len(tps_codes), 400):
            chunk = list(tps_codes[start : start + 400])
            marks = ", ".join("?" * len(chunk))
            rows = self.db.all(
                f"SELECT {columns} FROM current_results AS c "
                "JOIN documents AS d ON d.id = c.document_id "
                f"WHERE c.election = ? AND c.form = ? AND c.tps IN ({marks})",
                (election, form, *chunk),
            )
            for row in rows:
                doc = _document_fields(row)
                found[doc.tps] = doc
        return found

    def current_documents(self, election: str, form: str) -> list[DocumentFields]:
        """Every TPS's counting version of one election's form (a full scan: for checks and
        rebuilds, never for serving a recap)."""
        columns = ", ".join(f"d.{c.strip()}" for c in _FIELDS_COLUMNS.split(","))
        rows = self.db.all(
            f"SELECT {columns} FROM current_results AS c "
            "JOIN documents AS d ON d.id = c.document_id "
            "WHERE c.election = ? AND c.form = ? ORDER BY c.tps",
            (election, form),
        )
        return [_document_fields(row) for row in rows]

    def version_count(self, election: str, tps: str, form: str) -> int:
        row = self.db.one(
            "SELECT versions FROM current_results WHERE election = ? AND tps = ? AND form = ?",
            (election, tps, form),
        )
        return 0 if row is None else int(row[0])

    # -- images ------------------------------------------------------------------------------

    def image_named_by(self, kit: str, sha256: str) -> bool:
        """Whether a stored document of ``kit`` names an image with this hash."""
        row = self.db.one(
            "SELECT 1 FROM document_pages AS p JOIN documents AS d ON d.id = p.document_id "
            "WHERE p.sha256 = ? AND d.kit = ? LIMIT 1",
            (sha256, kit),
        )
        return row is not None

    def insert_image(self, sha256: str, kit: str, data: bytes, source: str, now: str) -> bool:
        """Store an image; False if it was already stored (the same bytes: its hash)."""
        row = self.db.one(
            "INSERT INTO images (sha256, kit, data, size, source, received_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING RETURNING sha256",
            (sha256, kit, data, len(data), source, now),
        )
        return row is not None

    def image(self, sha256: str) -> bytes | None:
        row = self.db.one("SELECT data FROM images WHERE sha256 = ?", (sha256,))
        return None if row is None else bytes(row[0])

    def has_image(self, sha256: str) -> bool:
        """Whether the image is stored, without reading its megabytes."""
        return self.db.one("SELECT 1 FROM images WHERE sha256 = ?", (sha256,)) is not None

    # -- rejections --------------------------------------------------------------------------

    def record_rejection(
        self,
        *,
        kind: str,
        topic_kit: str,
        message_sha256: str,
        document_sha256: str | None,
        seq: int | None,
        reason_code: str,
        reason: str,
        raw: bytes,
        raw_size: int,
        source: str,
        now: str,
    ) -> Rejection:
        """Store a rejection, or count a repeat of the same one; return the stored row.

        Repeats (a kit retrying, or someone replaying) are counted, not stored again, so
        a flood of the same bad message cannot fill the disk.
        """
        key = (kind, topic_kit[:200], message_sha256, reason_code)
        updated = self.db.one(
            "UPDATE rejections SET times = times + 1, last_seen = ? "
            "WHERE kind = ? AND topic_kit = ? AND message_sha256 = ? AND reason_code = ? "
            "RETURNING id",
            (now, *key),
        )
        if updated is None:
            updated = self.db.one(
                "INSERT INTO rejections (kind, topic_kit, message_sha256, document_sha256, seq, "
                "reason_code, reason, raw, raw_size, ack, times, source, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 1, ?, ?, ?) RETURNING id",
                (
                    *key[:3],
                    document_sha256,
                    seq,
                    reason_code,
                    reason,
                    raw,
                    raw_size,
                    source,
                    now,
                    now,
                ),
            )
        assert updated is not None
        return self.rejection(int(updated[0]))

    def set_rejection_ack(self, rejection_id: int, ack: bytes) -> None:
        self.db.execute("UPDATE rejections SET ack = ? WHERE id = ?", (ack, rejection_id))

    def rejection(self, rejection_id: int) -> Rejection:
        row = self.db.one(f"SELECT {_REJ_COLUMNS} FROM rejections WHERE id = ?", (rejection_id,))
        if row is None:
            raise KeyError(rejection_id)
        return _rejection(row)

    def rejections(self) -> list[Rejection]:
        return [
            _rejection(r) for r in self.db.all(f"SELECT {_REJ_COLUMNS} FROM rejections ORDER BY id")
        ]

    # -- figures -----------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        tables = ("documents", "current_results", "images", "rejections", "anomalies")
        return {t: int(self.db.one(f"SELECT COUNT(*) FROM {t}")[0]) for t in tables}  # type: ignore[index]


class BatchChains:
    """A batch's view of its kits' chains around its documents, read at once
    (:meth:`ResultStore.batch_chains`) and kept up to date as the batch places each
    document, so each sees what :meth:`ResultStore.chain_neighbours` would read at its turn
    (a kit's seq 2 sees the seq 1 placed just before it). Valid only for the places it was
    read for."""

    def __init__(self, rows: Iterable[tuple[str, ChainRow]]) -> None:
        # (kit, seq) -> its rows in id order, the order chain_neighbours reads them in.
        self._rows: dict[tuple[str, int], list[ChainRow]] = {}
        for kit, row in rows:
            self.add(kit, row)

    def neighbours(self, kit: str, seq: int) -> list[ChainRow]:
        return [r for s in (seq - 1, seq, seq + 1) for r in self._rows.get((kit, s), ())]

    def add(self, kit: str, row: ChainRow) -> None:
        """A document placed (ids only grow, so the id order holds)."""
        self._rows.setdefault((kit, row.seq), []).append(row)

    def settle(self, kit: str, settled: Sequence[ChainRow]) -> None:
        """Successors whose status a placed document changed (:func:`settled_successors`)."""
        for row in settled:
            same_seq = self._rows[(kit, row.seq)]
            same_seq[:] = [row if r.id == row.id else r for r in same_seq]


def settled_successors(
    seq: int, document_sha256: str, neighbours: Sequence[ChainRow]
) -> list[ChainRow]:
    """The gaps at ``seq + 1`` that a document at ``seq`` settles, with their new status:
    closed if they name it as previous, forks if they name another document.

    ``neighbours``: :meth:`ResultStore.chain_neighbours`, read before this document was
    inserted (inserting it changes no other row, so they still hold).
    """
    return [
        replace(r, chain_status="ok" if r.prev_sha256 == document_sha256 else "fork")
        for r in neighbours
        if r.seq == seq + 1 and r.chain_status == "gap"
    ]


@dataclass
class _Counting:
    """One TPS and form's current_results row, as a batch moves it."""

    key: tuple[str, str, str]  # election, tps, form
    is_training: int
    document_id: int
    first_document_id: int
    kit: str
    seq: int
    captured_at: str
    versions: int
    updated_at: str
    stored: bool  # the row is in the table (else the batch inserts it)
    changed: bool = False


class CurrentVersions:
    """The version that counts of a batch's TPSs (:meth:`ResultStore.current_versions`),
    moved in memory as each document is stored, in the batch's order, and written by
    :meth:`write` in two statements: the same rows as :meth:`ResultStore.advance_current`
    once per document, without a statement per document."""

    def __init__(self, db: Database, rows: Iterable[_Counting]) -> None:
        self.db = db
        self._rows = {row.key: row for row in rows}

    def advance(self, document_id: int, doc: NewDocument, now: str) -> CurrentChange | None:
        """:meth:`ResultStore.advance_current`, stored later by :meth:`write`."""
        key = (doc.election, doc.tps, doc.form)
        row = self._rows.get(key)
        if row is None:  # the first report of the TPS: nearly every document
            self._rows[key] = _Counting(
                key,
                int(doc.is_training),
                document_id,
                document_id,
                doc.kit,
                doc.seq,
                doc.captured_at,
                1,
                now,
                stored=False,
                changed=True,
            )
            return _change(document_id, None, doc)
        row.versions, row.updated_at, row.changed = row.versions + 1, now, True
        if not _is_newer(doc, row):
            return None
        previous = row.document_id
        row.document_id, row.kit, row.seq = document_id, doc.kit, doc.seq
        row.captured_at = doc.captured_at
        return _change(document_id, previous, doc)

    def write(self) -> None:
        """Store every row :meth:`advance` changed."""
        changed = [row for row in self._rows.values() if row.changed]
        self.db.executemany(
            "INSERT INTO current_results (election, tps, form, is_training, document_id, "
            "first_document_id, kit, seq, captured_at, versions, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    *r.key,
                    r.is_training,
                    r.document_id,
                    r.first_document_id,
                    r.kit,
                    r.seq,
                    r.captured_at,
                    r.versions,
                    r.updated_at,
                )
                for r in changed
                if not r.stored
            ],
        )
        self.db.executemany(
            "UPDATE current_results SET document_id = ?, kit = ?, seq = ?, captured_at = ?, "
            "versions = ?, updated_at = ? WHERE election = ? AND tps = ? AND form = ?",
            [
                (r.document_id, r.kit, r.seq, r.captured_at, r.versions, r.updated_at, *r.key)
                for r in changed
                if r.stored
            ],
        )
        for row in changed:
            row.stored, row.changed = True, False


_IN_CHUNK = 400  # values per IN list: well under both databases' parameter limits
# Parameters per statement of _joined_with: SQLite's limit before 3.32 (later ones and
# PostgreSQL take far more), so a 500-result batch takes two queries at 3 values a key.
_MAX_PARAMS = 999


def _joined_with(
    db: Database, names: str, keys: Sequence[tuple[Any, ...]], select: str
) -> list[Row]:
    """``select``'s rows, where it joins ``wanted (names)``: ``keys`` as a VALUES list
    (both databases take one, and each key finds its rows through an index)."""
    if not keys:
        return []
    one = "(" + ", ".join("?" * len(keys[0])) + ")"
    per_query = _MAX_PARAMS // len(keys[0])
    rows: list[Row] = []
    for start in range(0, len(keys), per_query):
        chunk = keys[start : start + per_query]
        values = ", ".join([one] * len(chunk))
        params = [value for key in chunk for value in key]
        rows.extend(db.all(f"WITH wanted ({names}) AS (VALUES {values}) {select}", params))
    return rows


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


def _is_newer(doc: NewDocument, current: _Counting) -> bool:
    """The rule of :meth:`ResultStore.advance_current`: seqs compare within one kit only."""
    if doc.kit == current.kit:
        return doc.seq > current.seq
    return doc.captured_at > current.captured_at


def _change(document_id: int, previous: int | None, doc: NewDocument) -> CurrentChange:
    return CurrentChange(
        doc.election,
        doc.tps,
        doc.form,
        doc.is_training,
        document_id,
        previous,
        _new_fields(document_id, doc),
    )


def _chain_row(r: Row) -> ChainRow:
    return ChainRow(int(r[0]), int(r[1]), str(r[2]), str(r[3]), r[4])


def _counting(r: Row) -> _Counting:
    return _Counting(
        (str(r[0]), str(r[1]), str(r[2])),
        int(r[3]),
        int(r[4]),
        int(r[5]),
        str(r[6]),
        int(r[7]),
        str(r[8]),
        int(r[9]),
        str(r[10]),
        stored=True,
    )


def _document_values(document_id: int, doc: NewDocument) -> tuple[Any, ...]:
    return (
        document_id,
        doc.document_sha256,
        doc.kit,
        doc.seq,
        doc.election,
        int(doc.is_training),
        doc.tps,
        doc.form,
        doc.form_version,
        doc.captured_at,
        doc.prev_sha256,
        doc.fields,
        doc.signed,
        doc.cert_serial,
        doc.chain_status,
        doc.log_name,
        doc.log_index,
        doc.ack,
        doc.source,
        doc.received_at,
    )


_REJ_COLUMNS = (
    "id, kind, topic_kit, message_sha256, document_sha256, seq, reason_code, reason, raw, "
    "raw_size, ack, times, source"
)


_FIELDS_COLUMNS = (
    "id, kit, seq, election, is_training, tps, form, form_version, fields, received_at"
)


def _new_fields(document_id: int, doc: NewDocument) -> DocumentFields:
    """What :meth:`ResultStore.document_fields` will read back for a document just inserted."""
    return DocumentFields(
        id=document_id,
        kit=doc.kit,
        seq=doc.seq,
        election=doc.election,
        is_training=bool(int(doc.is_training)),
        tps=doc.tps,
        form=doc.form,
        form_version=doc.form_version,
        # Written by hub/ingest/verdict.py Accepted.of: string keys, integer values.
        fields=orjson.loads(doc.fields),
        received_at=doc.received_at,
    )


def _document_fields(row: Row) -> DocumentFields:
    values = list(row)
    return DocumentFields(
        id=int(values[0]),
        kit=values[1],
        seq=int(values[2]),
        election=values[3],
        is_training=bool(values[4]),
        tps=values[5],
        form=values[6],
        form_version=int(values[7]),
        fields={str(k): int(v) for k, v in orjson.loads(values[8]).items()},
        received_at=values[9],
    )


def _document(row: Row) -> StoredDocument:
    values = list(row)
    values[5] = bool(values[5])
    values[12] = bytes(values[12])
    values[17] = bytes(values[17])
    return StoredDocument(*values)


def _rejection(row: Row) -> Rejection:
    values = list(row)
    values[8] = bytes(values[8])
    values[10] = None if values[10] is None else bytes(values[10])
    return Rejection(*values)
