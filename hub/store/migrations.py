"""The hub's schema, as numbered migrations recorded in ``schema_migrations``.

A migration is applied once, inside the same serialized transaction that records it, so
two workers starting together cannot both apply it, and a failed one leaves nothing
behind (DDL is transactional in SQLite and PostgreSQL alike). Never edit a released
migration: add the next one. A database newer than this code is refused, not downgraded.

Schema 1 (what ingest needs; the recapitulation adds its own tables in later migrations):

- ``documents``: every accepted version of every TPS result, its signed bytes exactly as
  received (the log's leaf), its place in the log and the signed ack it got. Unique by
  document hash: the same document twice is stored once; unique by place in the log
  (``log_name``, ``log_index``), the index the log's entries are read by.
- ``document_pages``: the page-image hashes each document names (images are checked
  against them, and the dashboard shows them beside the numbers).
- ``current_results``: per (election, TPS, form) the version that counts now and how many
  versions there were. The incremental recapitulation keys on this pointer: when it moves,
  subtract the old document's contribution and add the new one's.
- ``images``: page images whose hash a stored document of the same kit names.
- ``rejections``: every refused message with its reason, a size-capped copy of the bytes,
  how often it came, and the ack sent (if one could be).
- ``anomalies``: things stored but worth a person's look (a broken per-kit chain, a
  reused sequence number); the recapitulation's rule anomalies belong here too.
- ``translog_*``: the transparency log (hub/store/logstorage.py): ``translog_nodes``, its
  complete subtree hashes (level 0: the leaf hashes, which count its size), and
  ``translog_heads``, its signed tree heads (and from schema 6 ``translog_checkpoints``, the
  same heads as C2SP checkpoints, from schema 7 marked once cosigned). Schema 1 also kept
  every entry in
  ``translog_entries``; schema 3 dropped that second copy of ``documents.signed`` (see
  ``_check_log_entries``), so a leaf's entry is its document's signed bytes.

``is_training`` is on every result row: training (bimtek) results are stored apart in
their own log and must never be summed into a real total.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hub.errors import MigrationError
from hub.store.db import Database
from protocol.merkle import leaf_hash


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    ddl: str  # statements separated by ';', with the dialect's {id} and {blob}
    # Run in the migration's transaction before its DDL: raises MigrationError to refuse a
    # database the DDL would harm (the transaction rolls back: nothing is changed).
    check: Callable[[Database], None] | None = None


_SHOWN = 5  # differences named in a refusal; the rest are counted


def _check_log_entries(db: Database) -> None:
    """Migration 3's check: refuse to drop ``translog_entries`` unless every row is byte for
    byte the ``signed`` of the document at its (log_name, log_index), every document has
    its row, and each log's size (counted from now on by its leaf hashes) stays the same."""
    differ = (
        "FROM translog_entries AS e "
        "LEFT JOIN documents AS d ON d.log_name = e.log AND d.log_index = e.idx "
        "WHERE d.signed IS NULL OR d.signed <> e.entry"
    )
    unlogged = (
        "FROM documents AS d LEFT JOIN translog_entries AS e "
        "ON e.log = d.log_name AND e.idx = d.log_index WHERE e.idx IS NULL"
    )
    sizes = (
        "SELECT log, MAX(idx) FROM translog_entries GROUP BY log",
        "SELECT log, MAX(idx) FROM translog_nodes WHERE level = 0 GROUP BY log",
    )
    n_differ = _count(db, f"SELECT COUNT(*) {differ}")
    n_unlogged = _count(db, f"SELECT COUNT(*) {unlogged}")
    before, after = (dict(db.all(query)) for query in sizes)
    if not n_differ and not n_unlogged and before == after:
        return
    found: list[str] = []
    sample = f"SELECT e.log, e.idx, e.entry, d.signed {differ} ORDER BY e.log, e.idx LIMIT ?"
    for log, idx, entry, signed in db.all(sample, (_SHOWN,)):
        if signed is None:
            found.append(f"log {log!r} leaf {idx}: an entry with no document")
            continue
        row = db.one(
            "SELECT hash FROM translog_nodes WHERE log = ? AND level = 0 AND idx = ?",
            (log, idx),
        )
        logged = [
            name
            for name, data in (("the entry", entry), ("the document", signed))
            if row is not None and bytes(row[0]) == leaf_hash(bytes(data))
        ]
        found.append(
            f"log {log!r} leaf {idx}: the entry differs from its document's signed bytes "
            f"(the log's leaf hash is that of {(logged or ['neither'])[0]})"
        )
    sample = f"SELECT d.log_name, d.log_index {unlogged} ORDER BY d.log_name, d.log_index LIMIT ?"
    found += [
        f"log {log!r} leaf {idx}: a document with no entry"
        for log, idx in db.all(sample, (_SHOWN,))
    ]
    found += [
        f"log {log!r}: last entry {before.get(log)}, last leaf hash {after.get(log)}"
        for log in sorted(before.keys() | after.keys())
        if before.get(log) != after.get(log)
    ]
    raise MigrationError(
        "schema migration 3 refused: it drops translog_entries, the transparency log's copy "
        "of each accepted document's signed bytes, but the copies differ "
        f"({_count(db, 'SELECT COUNT(*) FROM translog_entries')} entries, "
        f"{_count(db, 'SELECT COUNT(*) FROM documents')} documents; {n_differ} entries "
        f"without an equal document, {n_unlogged} documents without an entry): "
        + "; ".join(found)
        + ". Nothing was changed. Keep running the previous hub version on this database, "
        "find out which copy is right (the log signed the one whose leaf hash is in "
        "translog_nodes at level 0), restore or repair the other (documents.signed or the "
        "translog_entries row), and migrate again"
    )


def _count(db: Database, sql: str) -> int:
    row = db.one(sql)
    return 0 if row is None else int(row[0])


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "documents, pages, current versions, images, rejections, anomalies, transparency log",
        """
CREATE TABLE documents (
    id {id},
    document_sha256 TEXT NOT NULL UNIQUE,
    kit TEXT NOT NULL,
    seq BIGINT NOT NULL,
    election TEXT NOT NULL,
    is_training INTEGER NOT NULL,
    tps TEXT NOT NULL,
    form TEXT NOT NULL,
    form_version INTEGER NOT NULL,
    captured_at TEXT NOT NULL,
    prev_sha256 TEXT NOT NULL,
    fields TEXT NOT NULL,
    signed {blob} NOT NULL,
    cert_serial TEXT NOT NULL,
    chain_status TEXT NOT NULL,
    log_name TEXT NOT NULL,
    log_index BIGINT NOT NULL,
    ack {blob} NOT NULL,
    source TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (log_name, log_index)
);
CREATE INDEX documents_kit_seq ON documents (kit, seq);
CREATE INDEX documents_tps ON documents (election, tps, form, seq);
CREATE TABLE document_pages (
    document_id BIGINT NOT NULL REFERENCES documents (id),
    page INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (document_id, page)
);
CREATE INDEX document_pages_sha256 ON document_pages (sha256);
CREATE TABLE current_results (
    election TEXT NOT NULL,
    tps TEXT NOT NULL,
    form TEXT NOT NULL,
    is_training INTEGER NOT NULL,
    document_id BIGINT NOT NULL REFERENCES documents (id),
    first_document_id BIGINT NOT NULL REFERENCES documents (id),
    kit TEXT NOT NULL,
    seq BIGINT NOT NULL,
    captured_at TEXT NOT NULL,
    versions INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (election, tps, form)
);
CREATE TABLE images (
    sha256 TEXT PRIMARY KEY,
    kit TEXT NOT NULL,
    data {blob} NOT NULL,
    size BIGINT NOT NULL,
    source TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE rejections (
    id {id},
    kind TEXT NOT NULL,
    topic_kit TEXT NOT NULL,
    message_sha256 TEXT NOT NULL,
    document_sha256 TEXT,
    seq BIGINT,
    reason_code TEXT NOT NULL,
    reason TEXT NOT NULL,
    raw {blob} NOT NULL,
    raw_size BIGINT NOT NULL,
    ack {blob},
    times INTEGER NOT NULL,
    source TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    UNIQUE (kind, topic_kit, message_sha256, reason_code)
);
CREATE INDEX rejections_kit ON rejections (topic_kit, last_seen);
CREATE TABLE anomalies (
    id {id},
    kind TEXT NOT NULL,
    kit TEXT,
    election TEXT,
    tps TEXT,
    document_id BIGINT REFERENCES documents (id),
    detail TEXT NOT NULL,
    detected_at TEXT NOT NULL,
    resolved_at TEXT
);
CREATE INDEX anomalies_document ON anomalies (document_id);
CREATE INDEX anomalies_open ON anomalies (resolved_at, kind);
CREATE TABLE translog_entries (
    log TEXT NOT NULL, idx BIGINT NOT NULL, entry {blob} NOT NULL,
    PRIMARY KEY (log, idx)
);
CREATE TABLE translog_nodes (
    log TEXT NOT NULL, level INTEGER NOT NULL, idx BIGINT NOT NULL, hash {blob} NOT NULL,
    PRIMARY KEY (log, level, idx)
);
CREATE TABLE translog_heads (
    log TEXT NOT NULL, tree_size BIGINT NOT NULL, head {blob} NOT NULL,
    PRIMARY KEY (log, tree_size)
)
""",
    ),
    # Schema 2, the recapitulation (hub/recap/), all kept up inside the ingest transaction:
    #
    # - ``recap_totals``: one row per (election, form, region) for every region above a TPS
    #   (desa, kecamatan, kabupaten/kota, provinsi, and the whole election as region ''): how
    #   many TPS count there and, as JSON, each field's sum and how many TPS gave that field.
    #   One row per region, not per field, so a document touches five rows, not 5 x 28,
    #   and a recap read is one primary-key lookup. Region codes of different levels never
    #   collide (they have different numbers of parts), so the region is the key.
    # - ``recap_tps``: which TPS of a desa have reported a form (written once, at the first
    #   report), so a desa's TPS columns are found by equality, with no text-range scan
    #   whose meaning would depend on PostgreSQL's collation.
    # - ``kit_last_seen``: when each kit was last heard from (a document, later its status),
    #   for "kits silent too long" without scanning documents.
    Migration(
        2,
        "recapitulation totals per region, reported TPS per desa, kits last seen",
        """
CREATE TABLE recap_totals (
    election TEXT NOT NULL,
    form TEXT NOT NULL,
    region TEXT NOT NULL,
    level TEXT NOT NULL,
    parent TEXT,
    is_training INTEGER NOT NULL,
    tps_reported BIGINT NOT NULL,
    totals TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (election, form, region)
);
CREATE INDEX recap_totals_children ON recap_totals (election, form, parent, region);
CREATE INDEX recap_totals_level ON recap_totals (election, form, level, region);
CREATE TABLE recap_tps (
    election TEXT NOT NULL,
    form TEXT NOT NULL,
    desa TEXT NOT NULL,
    tps TEXT NOT NULL,
    PRIMARY KEY (election, form, desa, tps)
);
CREATE TABLE kit_last_seen (
    kit TEXT PRIMARY KEY,
    election TEXT,
    tps TEXT,
    last_seen TEXT NOT NULL,
    last_document_id BIGINT REFERENCES documents (id),
    status TEXT,
    status_at TEXT
);
CREATE INDEX kit_last_seen_at ON kit_last_seen (last_seen)
""",
    ),
    # Schema 3: each accepted envelope stored once. ``translog_entries`` held every leaf a
    # second time, byte for byte ``documents.signed`` of the document at that (log_name,
    # log_index): ~5.7 KB a result, ~23 GB nationally, and a write per result. The log now
    # reads its entries from documents (hub/store/logstorage.py) by the UNIQUE (log_name,
    # log_index) that schema 1 already declared on documents (so no index is added: a
    # second one would cost space and writes for nothing). The table is dropped only once
    # both copies are shown to agree.
    Migration(
        3,
        "the transparency log's entries read from documents.signed; translog_entries dropped",
        "DROP TABLE translog_entries",
        check=_check_log_entries,
    ),
    # Schema 4: what an operator decided, with who, when and why: a kit declared
    # compromised (none of its results count), a result breaking a hard limit released into
    # the totals or kept out. The ledger and the recapitulation read them; nothing deletes.
    Migration(
        4,
        "operator decisions: compromised kits, held results released or kept out",
        """
CREATE TABLE operator_decisions (
    id {id},
    kind TEXT NOT NULL,
    kit TEXT,
    document_id BIGINT REFERENCES documents (id),
    decided_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    decided_at TEXT NOT NULL
);
CREATE INDEX operator_decisions_kind ON operator_decisions (kind, kit, document_id)
""",
    ),
    # Schema 5: the page images the hub still waits for, kept as they come and go, so "a
    # counting version's image never arrived" costs the pages still missing, not a join of
    # every page of every counting version against every image. Filled from what is stored.
    Migration(
        5,
        "page images awaited: named by a stored document, not yet received",
        """
CREATE TABLE awaited_images (
    document_id BIGINT NOT NULL REFERENCES documents (id),
    page INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    named_at TEXT NOT NULL,
    PRIMARY KEY (document_id, page)
);
CREATE INDEX awaited_images_sha256 ON awaited_images (sha256);
CREATE INDEX awaited_images_named_at ON awaited_images (named_at);
INSERT INTO awaited_images (document_id, page, sha256, named_at)
SELECT p.document_id, p.page, p.sha256, d.received_at
FROM document_pages AS p JOIN documents AS d ON d.id = p.document_id
WHERE NOT EXISTS (SELECT 1 FROM images AS i WHERE i.sha256 = p.sha256)
""",
    ),
    # Schema 6: each signed tree head also as a C2SP checkpoint (protocol/checkpoint.py), the
    # signed note that tlog tooling and witnesses read. Signed with the head, in the same
    # step; heads signed before this schema have none (the next head brings one).
    Migration(
        6,
        "the transparency log's heads as C2SP checkpoints (signed notes)",
        """
CREATE TABLE translog_checkpoints (
    log TEXT NOT NULL, tree_size BIGINT NOT NULL, note {blob} NOT NULL,
    PRIMARY KEY (log, tree_size)
)
""",
    ),
    # Schema 7: which kept checkpoints carry witnesses' cosignatures. Every ingest batch
    # signs a newer checkpoint than the one the last cosigning round took to the witnesses,
    # so the newest cosigned one is served apart (.../checkpoint.witnessed) and found by
    # this index, not by parsing the notes from the newest down. Rows before it are marked
    # by the next cosigning round.
    Migration(
        7,
        "the transparency log's checkpoints marked when witnesses cosigned them",
        """
ALTER TABLE translog_checkpoints ADD COLUMN cosigned INTEGER NOT NULL DEFAULT 0;
CREATE INDEX translog_checkpoints_cosigned ON translog_checkpoints (log, cosigned, tree_size)
""",
    ),
)

LATEST = MIGRATIONS[-1].version


def schema_version(db: Database) -> int:
    """The version the database is at (0: empty)."""
    with db.transaction():
        _ensure_table(db)
        row = db.one("SELECT MAX(version) FROM schema_migrations")
    return int(row[0]) if row and row[0] is not None else 0


def migrate(db: Database, now: str, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Apply every migration the database lacks; return the versions applied."""
    latest = migrations[-1].version if migrations else 0
    applied: list[int] = []
    with db.transaction():
        _ensure_table(db)
        row = db.one("SELECT MAX(version) FROM schema_migrations")
        current = int(row[0]) if row and row[0] is not None else 0
        if current > latest:
            raise MigrationError(
                f"the database is at schema version {current}, newer than this hub's "
                f"{latest}: upgrade the hub software, do not run an older one against it"
            )
        for migration in migrations:
            if migration.version <= current:
                continue
            if migration.check is not None:
                migration.check(db)
            db.script(migration.ddl)
            db.execute(
                "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.description, now),
            )
            applied.append(migration.version)
    return applied


def _ensure_table(db: Database) -> None:
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
