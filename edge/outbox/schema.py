"""The outbox's SQLite schema and its migrations.

The schema version lives in ``PRAGMA user_version`` and the file is marked as an outbox with
``PRAGMA application_id``, so a stray database (or a future tps-kit's outbox) is refused
instead of being written into. Each migration runs in its own write transaction together
with the version bump: a power cut mid-migration leaves the old version, which simply runs
again on the next start.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from edge.outbox.errors import CorruptOutboxError, SchemaVersionError

APPLICATION_ID = 0x54505331  # "TPS1" in the file header: `file` and sqlite3 show it

# Version 1. Comments say why, since the file outlives the code that wrote it.
_V1 = """
-- The per-kit chain head, one row. Kept apart from `documents` so pruning delivered
-- documents never moves it: the next seq and prev_sha256 always come from here.
-- `kit` is the kit id of the chain's documents (NULL until the first): one outbox file
-- holds one kit's chain, so a re-enrolled kit starts a new file instead of splicing chains.
CREATE TABLE chain (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq    INTEGER NOT NULL CHECK (last_seq >= 0),
    last_sha256 TEXT    NOT NULL CHECK (length(last_sha256) = 64),
    kit         TEXT
);
INSERT INTO chain (id, last_seq, last_sha256) VALUES (1, 0, '{genesis}');

-- One row per signed document, exactly the bytes published. Rows are never updated except
-- for delivery bookkeeping (state, attempts, errors, the hub's verdict).
CREATE TABLE documents (
    seq         INTEGER PRIMARY KEY CHECK (seq >= 1),
    sha256      TEXT    NOT NULL UNIQUE CHECK (length(sha256) = 64),
    prev_sha256 TEXT    NOT NULL CHECK (length(prev_sha256) = 64),
    signed      BLOB    NOT NULL,
    kit         TEXT    NOT NULL,
    form        TEXT    NOT NULL,
    created_at  REAL    NOT NULL,  -- unix seconds, when the outbox took it
    state       TEXT    NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'sent', 'acknowledged', 'rejected')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    sent_at     REAL,              -- first PUBACK
    verdict_at  REAL,              -- the hub's signed ack (accepted or rejected)
    reason      TEXT,              -- the hub's reason for a rejection
    ack         BLOB               -- the hub's signed verdict as received, kept as evidence
);
CREATE INDEX documents_pending ON documents (state, seq);

-- Page images by content hash: the hub addresses them as tps/v1/{kit}/image/{sha256}, so
-- one image shared by two versions of a form travels and is stored once.
CREATE TABLE images (
    sha256  TEXT PRIMARY KEY CHECK (length(sha256) = 64),
    data    BLOB NOT NULL,
    sent_at REAL
);

-- Which document names which image on which page.
CREATE TABLE document_images (
    seq    INTEGER NOT NULL REFERENCES documents (seq) ON DELETE CASCADE,
    page   INTEGER NOT NULL,
    sha256 TEXT    NOT NULL REFERENCES images (sha256),
    PRIMARY KEY (seq, page)
);
CREATE INDEX document_images_sha ON document_images (sha256);
"""

GENESIS = "0" * 64


def _to_v1(conn: sqlite3.Connection) -> None:
    _run_script(conn, _V1.replace("{genesis}", GENESIS))


# MIGRATIONS[n] takes a database from version n to n + 1.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_to_v1]
CURRENT_VERSION = len(MIGRATIONS)


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    # executescript() would COMMIT first; run statement by statement inside our transaction.
    # complete_statement() finds statement ends, so a ';' inside a comment cannot split one.
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip() and not statement.strip().startswith("--"):
        raise ValueError(f"unterminated SQL statement: {statement!r}")


def migrate(conn: sqlite3.Connection, path: str) -> int:
    """Bring the database to CURRENT_VERSION; return the version it had before."""
    conn.execute("BEGIN IMMEDIATE")  # one writer decides; a second opener waits, then sees it
    try:
        found = _check_identity(conn, path)
        for version in range(found, CURRENT_VERSION):
            MIGRATIONS[version](conn)
        if found < CURRENT_VERSION:
            conn.execute(f"PRAGMA user_version = {CURRENT_VERSION}")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return found


def _check_identity(conn: sqlite3.Connection, path: str) -> int:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    tables = conn.execute("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").fetchone()[0]
    if version == 0 and app == 0 and tables == 0:
        return 0  # a new, empty file
    if app != APPLICATION_ID:
        raise CorruptOutboxError(
            f"{path} is an SQLite database but not a TPS outbox (application id {app:#x}); "
            "point the kit at its own outbox file, or move this file away"
        )
    if version > CURRENT_VERSION:
        raise SchemaVersionError(
            f"{path} has outbox schema version {version}, newer than this tps-kit knows "
            f"({CURRENT_VERSION}): install the tps-kit that wrote it (never downgrade a kit "
            "with results in its outbox)"
        )
    if version < 1:
        raise CorruptOutboxError(f"{path} is marked as an outbox but has no schema version")
    return version
