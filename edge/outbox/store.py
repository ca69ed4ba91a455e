"""The kit's durable outbox: signed results and page images, kept until the hub answers.

Why it is built this way:

- SQLite in WAL mode with ``synchronous=FULL``: a commit returns only once it is on the
  storage, and a power cut at any moment leaves either the whole transaction or none of it.
- The chain head (last seq, last document hash) lives in the same database, and the outbox
  owns it: sealing a result reads the head, gives the document the next seq and the head's
  hash, signs it and advances the head in one transaction, so a document and the chain
  that names it can never disagree, and a seq can never hold two versions.
- Every write is ``BEGIN IMMEDIATE``: a second process (``tps-kit outbox list`` while the
  daemon runs) waits up to the busy timeout instead of failing half-way or deadlocking.
- States only move forward (queued → sent → acknowledged | rejected), and nothing is
  deleted before the hub's signed verdict; :meth:`Outbox.prune` removes only accepted
  documents, and only after a grace period.

No network code lives here: the uplink asks for :meth:`pending` work and reports back.
One :class:`Outbox` may be shared by the firmware's threads (the uplink's callbacks run on
paho's thread); a lock serialises them on the one connection.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge.outbox import schema
from edge.outbox.errors import (
    ChainError,
    CorruptOutboxError,
    InvalidDocumentError,
    OutboxBusyError,
    OutboxError,
    UnknownDocumentError,
)
from edge.outbox.export import export_outbox
from edge.outbox.records import (
    FINAL,
    AckOutcome,
    ChainHead,
    Entry,
    OutboxStats,
    PendingImage,
    State,
)
from protocol.document import DecidedResult, ResultDocument
from protocol.errors import ProtocolError
from protocol.result import sign_result

log = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT_S = 10.0
_WAL_LIMIT = 16 << 20  # truncate the WAL back to this after a checkpoint (SD card space)
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
_SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_NOTADB = 11, 13, 26
_ENTRY_COLUMNS = (
    "seq, sha256, prev_sha256, kit, form, signed, state, attempts, created_at, sent_at, "
    "verdict_at, last_error, reason"
)


def translate(error: sqlite3.Error, path: str, doing: str) -> OutboxError:
    """Turn an sqlite3 error into the outbox's own, with what to do about it."""
    code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return OutboxBusyError(
            f"{doing}: {path} stayed locked by another process past the busy timeout; "
            "retry, and if it persists find the process holding it (fuser)"
        )
    if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return CorruptOutboxError(
            f"{doing}: {path} is damaged ({error}); stop the kit and keep the file with its "
            "-wal and -shm files for the technician: it may hold undelivered results"
        )
    if code == _SQLITE_FULL:
        return OutboxError(f"{doing}: the storage holding {path} is full; free space, retry")
    return OutboxError(f"{doing}: {path}: {error}")


class Outbox:
    """A durable queue of one kit's signed results. Open it with :meth:`open`."""

    def __init__(self, conn: sqlite3.Connection, path: Path, clock: Callable[[], float]) -> None:
        self._conn = conn
        self.path = path
        self._clock = clock
        self._lock = threading.RLock()

    # -- opening ----------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT_S,
        check: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> Self:
        """Open (creating if need be) the outbox at ``path``, migrated and checked.

        ``check`` runs SQLite's full integrity check: seconds at most for a kit's outbox,
        and the only way to learn of a damaged file before trusting its chain head.
        """
        path = Path(path)
        created = not path.exists()
        conn = _connect(path, busy_timeout)
        try:
            schema.migrate(conn, str(path))
            if created:
                _fsync_dir(path.parent)  # the new file's name must survive a power cut too
            outbox = cls(conn, path, clock)
            if check:
                outbox._check_integrity()
            outbox._check_chain()
        except sqlite3.Error as e:
            conn.close()
            raise translate(e, str(path), "opening the outbox") from e
        except BaseException:
            conn.close()
            raise
        return outbox

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_integrity(self) -> None:
        problems = [row[0] for row in self._conn.execute("PRAGMA integrity_check(10)")]
        if problems != ["ok"]:
            raise CorruptOutboxError(
                f"{self.path} failed SQLite's integrity check ({'; '.join(problems)}); stop "
                "the kit and keep the file with its -wal and -shm files for the technician, "
                "who can export what is readable (tps-kit outbox export)"
            )

    def _check_chain(self) -> None:
        """The chain head must name the newest stored document, or one pruned after it."""
        # One snapshot: a kit sealing meanwhile advances the head and adds the document in
        # one transaction, and reads taken either side of it would disagree.
        with self._read("checking the chain head") as conn:
            last_seq, last_sha, _ = self._chain_row(conn)
            row = conn.execute("SELECT max(seq) FROM documents").fetchone()
            newest = row[0] or 0
            stored = conn.execute(
                "SELECT sha256 FROM documents WHERE seq = ?", (last_seq,)
            ).fetchone()
        if newest > last_seq or (stored is not None and stored[0] != last_sha):
            raise CorruptOutboxError(
                f"{self.path}: chain head (seq {last_seq}) disagrees with the stored "
                f"documents (newest seq {newest}); do not sign with this outbox, keep the "
                "file for the technician"
            )

    # -- transactions -----------------------------------------------------------------------

    @contextmanager
    def _write(self, doing: str) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken before any read so check-then-write is atomic."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as e:
                raise translate(e, str(self.path), doing) from e
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException as e:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                if isinstance(e, sqlite3.Error):
                    raise translate(e, str(self.path), doing) from e
                raise

    @contextmanager
    def _read(self, doing: str) -> Iterator[sqlite3.Connection]:
        """One read snapshot: every SELECT inside sees the same committed state.

        Nested use joins the outer snapshot (export reads many things as of one moment).
        """
        with self._lock:
            if self._conn.in_transaction:
                yield self._conn
                return
            try:
                self._conn.execute("BEGIN")
                yield self._conn
            except sqlite3.Error as e:
                raise translate(e, str(self.path), doing) from e
            finally:
                if self._conn.in_transaction:
                    self._conn.execute("COMMIT")

    @staticmethod
    def _chain_row(conn: sqlite3.Connection) -> tuple[int, str, str | None]:
        row = conn.execute("SELECT last_seq, last_sha256, kit FROM chain WHERE id = 1").fetchone()
        if row is None:
            raise CorruptOutboxError("the outbox has lost its chain head row")
        return int(row[0]), str(row[1]), row[2]

    # -- the chain and sealing --------------------------------------------------------------

    def next_chain(self) -> ChainHead:
        """The seq and prev_sha256 the next sealed document will carry (to inspect the
        chain: :meth:`seal` reads the head itself, inside its own transaction)."""
        with self._read("reading the chain head") as conn:
            last_seq, last_sha, _ = self._chain_row(conn)
        return ChainHead(last_seq + 1, last_sha)

    def seal(
        self,
        decided: DecidedResult,
        images: Mapping[int, bytes],
        key: Ed25519PrivateKey,
        certificate: x509.Certificate,
    ) -> Entry:
        """Give a decided result the next place in the chain, sign it and store it with its
        page images (by page number), atomically; the stored entry.

        The chain head is read, the document signed and the head advanced in one write
        transaction, so no other writer can take the seq in between and what is queued is
        exactly what was signed: nothing is parsed back or checked again.
        """
        now = self._clock()
        with self._write("sealing a result") as conn:
            last_seq, last_sha, kit = self._chain_row(conn)
            if kit is not None and decided.kit != kit:
                raise ChainError(
                    f"this outbox holds kit {kit}'s chain, not kit {decided.kit}'s: a kit "
                    "enrolled anew starts its own outbox file"
                )
            try:
                document = decided.document(seq=last_seq + 1, prev_sha256=last_sha, images=images)
            except ProtocolError as e:
                raise InvalidDocumentError(f"refusing to seal a result: {e}") from e
            signed = sign_result(document, key, certificate)
            _insert(conn, document, document.sha256(), signed, images, now)
        return self.get(document.seq)

    # -- reading ----------------------------------------------------------------------------

    def get(self, seq: int) -> Entry:
        with self._read(f"reading document seq {seq}") as conn:
            row = conn.execute(
                f"SELECT {_ENTRY_COLUMNS} FROM documents WHERE seq = ?", (seq,)
            ).fetchone()
            if row is None:
                raise UnknownDocumentError(f"the outbox holds no document with seq {seq}")
            return _entry(conn, row)

    def documents(self) -> list[Entry]:
        """Every stored document, in seq order (for `tps-kit outbox list`)."""
        with self._read("listing documents") as conn:
            rows = conn.execute(f"SELECT {_ENTRY_COLUMNS} FROM documents ORDER BY seq")
            return [_entry(conn, row) for row in rows.fetchall()]

    def pending(self, limit: int = 100) -> list[Entry]:
        """Documents not yet answered by the hub (queued or sent), oldest seq first.

        Sent ones are included because a PUBACK is not delivery: the uplink re-publishes
        them when the hub's ack does not come (the hub counts a document once).
        """
        with self._read("listing pending documents") as conn:
            rows = conn.execute(
                f"SELECT {_ENTRY_COLUMNS} FROM documents WHERE state IN ('queued', 'sent') "
                "ORDER BY seq LIMIT ?",
                (limit,),
            )
            return [_entry(conn, row) for row in rows.fetchall()]

    def pending_images(self, limit: int = 4) -> list[PendingImage]:
        """Unsent images of documents the hub has accepted (numbers first, always).

        Waiting for the hub's ack, not the broker's PUBACK, means the document naming an
        image's hash is stored before the image arrives, even when several hub workers share
        the load; images of rejected documents stay behind.
        """
        with self._read("listing pending images") as conn:
            rows = conn.execute(
                "SELECT i.sha256, i.data, min(d.seq), min(l.page) FROM images i "
                "JOIN document_images l ON l.sha256 = i.sha256 "
                "JOIN documents d ON d.seq = l.seq "
                "WHERE i.sent_at IS NULL AND d.state = 'acknowledged' "
                "GROUP BY i.sha256 ORDER BY min(d.seq), min(l.page) LIMIT ?",
                (limit,),
            )
            return [PendingImage(r[0], bytes(r[1]), r[2], r[3]) for r in rows.fetchall()]

    def image(self, sha256: str) -> bytes:
        with self._read("reading an image") as conn:
            row = conn.execute("SELECT data FROM images WHERE sha256 = ?", (sha256,)).fetchone()
        if row is None:
            raise UnknownDocumentError(f"the outbox holds no image {sha256}")
        return bytes(row[0])

    # -- delivery bookkeeping ---------------------------------------------------------------

    def mark_sent(self, seq: int) -> None:
        """The broker confirmed the publish (PUBACK, success reason code)."""
        with self._write(f"marking seq {seq} sent") as conn:
            cursor = conn.execute(
                "UPDATE documents SET attempts = attempts + 1, last_error = NULL, "
                "sent_at = coalesce(sent_at, ?), "
                "state = CASE state WHEN 'queued' THEN 'sent' ELSE state END WHERE seq = ?",
                (self._clock(), seq),
            )
            if cursor.rowcount == 0:
                raise UnknownDocumentError(f"the outbox holds no document with seq {seq}")

    def mark_failed(self, seq: int, error: str) -> None:
        """A publish failed (no PUBACK, or a failure reason code); the state stays."""
        with self._write(f"recording a failure for seq {seq}") as conn:
            cursor = conn.execute(
                "UPDATE documents SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
                (error, seq),
            )
            if cursor.rowcount == 0:
                raise UnknownDocumentError(f"the outbox holds no document with seq {seq}")

    def acknowledge(
        self,
        doc_sha256: str,
        accepted: bool,
        reason: str | None = None,
        ack: bytes | None = None,
    ) -> AckOutcome:
        """Record the hub's signed verdict (already verified by the caller) on a document.

        Idempotent: the hub may send the same verdict twice. A verdict for a hash this
        outbox does not hold is ignored, and a verdict contradicting one already recorded
        does not replace it (states only move forward); both are logged and reported.
        """
        verdict = State.ACKNOWLEDGED if accepted else State.REJECTED
        with self._write("recording the hub's verdict") as conn:
            row = conn.execute(
                "SELECT seq, state FROM documents WHERE sha256 = ?", (doc_sha256,)
            ).fetchone()
            if row is None:
                log.warning("ignoring the hub's verdict for unknown document %s", doc_sha256)
                return AckOutcome.UNKNOWN
            seq, state = row[0], State(row[1])
            if state in FINAL:
                return self._repeat_verdict(seq, state, verdict)
            conn.execute(
                "UPDATE documents SET state = ?, verdict_at = ?, reason = ?, ack = ? WHERE seq = ?",
                (verdict.value, self._clock(), reason, ack, seq),
            )
        return AckOutcome.APPLIED

    @staticmethod
    def _repeat_verdict(seq: int, state: State, verdict: State) -> AckOutcome:
        if state == verdict:
            return AckOutcome.DUPLICATE
        log.error("hub sent %s for seq %d, already %s: keeping the first", verdict, seq, state)
        return AckOutcome.CONFLICT

    def mark_image_sent(self, sha256: str) -> None:
        """The broker confirmed an image's publish."""
        with self._write("marking an image sent") as conn:
            cursor = conn.execute(
                "UPDATE images SET sent_at = coalesce(sent_at, ?) WHERE sha256 = ?",
                (self._clock(), sha256),
            )
            if cursor.rowcount == 0:
                raise UnknownDocumentError(f"the outbox holds no image {sha256}")

    # -- housekeeping -----------------------------------------------------------------------

    def stats(self) -> OutboxStats:
        with self._read("reading outbox figures") as conn:
            return _stats(conn, self._clock())

    def prune(self, keep_days: float) -> int:
        """Delete accepted documents whose verdict is older than ``keep_days``.

        Only accepted ones whose images have all travelled: a rejected document stays (the
        technician needs it), and so does anything still owed to the hub. The chain head
        is untouched. Returns how many documents were removed.
        """
        if keep_days < 0:
            raise ValueError("keep_days must be zero or more")
        cutoff = self._clock() - keep_days * 86_400
        with self._write("pruning delivered documents") as conn:
            removed = conn.execute(
                "DELETE FROM documents WHERE state = 'acknowledged' AND verdict_at < ? "
                "AND NOT EXISTS (SELECT 1 FROM document_images l JOIN images i "
                "ON i.sha256 = l.sha256 WHERE l.seq = documents.seq AND i.sent_at IS NULL)",
                (cutoff,),
            ).rowcount
            conn.execute(
                "DELETE FROM images WHERE NOT EXISTS "
                "(SELECT 1 FROM document_images l WHERE l.sha256 = images.sha256)"
            )
        return removed

    def export(self, directory: Path | str) -> Path:
        """Write every stored result and image to ``directory``; return the manifest's path."""
        return export_outbox(self, Path(directory))

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Hold one read snapshot: the reads made inside all see the same moment (export)."""
        with self._read("reading a snapshot"):
            yield

    def chain_kit(self) -> str | None:
        with self._read("reading the chain head") as conn:
            return self._chain_row(conn)[2]


# -- helpers ---------------------------------------------------------------------------------


def _connect(path: Path, busy_timeout: float) -> sqlite3.Connection:
    try:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so nothing is implicit.
        conn = sqlite3.connect(
            path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as e:
        raise translate(e, str(path), "opening the outbox") from e
    try:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            raise OutboxError(f"{path}: SQLite refused WAL mode (got {mode!r}); use a local disk")
        conn.execute("PRAGMA synchronous = FULL")  # in WAL: fsync the WAL at every commit
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA journal_size_limit = {_WAL_LIMIT}")
    except sqlite3.Error as e:
        conn.close()
        raise translate(e, str(path), "opening the outbox") from e
    except BaseException:
        conn.close()
        raise
    return conn


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _insert(
    conn: sqlite3.Connection,
    document: ResultDocument,
    sha: str,
    signed: bytes,
    images: Mapping[int, bytes],
    now: float,
) -> None:
    conn.execute(
        "INSERT INTO documents (seq, sha256, prev_sha256, signed, kit, form, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (document.seq, sha, document.prev_sha256, signed, document.kit, document.form, now),
    )
    # Content-addressed: an image already stored for an earlier version is the same bytes.
    by_page = {page.page: page.sha256 for page in document.pages}
    conn.executemany(
        "INSERT OR IGNORE INTO images (sha256, data) VALUES (?, ?)",
        [(by_page[n], bytes(data)) for n, data in images.items()],
    )
    conn.executemany(
        "INSERT INTO document_images (seq, page, sha256) VALUES (?, ?, ?)",
        [(document.seq, page.page, page.sha256) for page in document.pages],
    )
    conn.execute(
        "UPDATE chain SET last_seq = ?, last_sha256 = ?, kit = ? WHERE id = 1",
        (document.seq, sha, document.kit),
    )


def _entry(conn: sqlite3.Connection, row: Any) -> Entry:
    pages = conn.execute(
        "SELECT page, sha256 FROM document_images WHERE seq = ? ORDER BY page", (row[0],)
    ).fetchall()
    return Entry(
        seq=row[0],
        sha256=row[1],
        prev_sha256=row[2],
        kit=row[3],
        form=row[4],
        signed=bytes(row[5]),
        state=State(row[6]),
        attempts=row[7],
        created_at=row[8],
        sent_at=row[9],
        verdict_at=row[10],
        last_error=row[11],
        reason=row[12],
        pages=tuple((p, s) for p, s in pages),
    )


def _stats(conn: sqlite3.Connection, now: float) -> OutboxStats:
    by_state = dict(conn.execute("SELECT state, count(*) FROM documents GROUP BY state"))
    docs = conn.execute(
        "SELECT min(created_at), coalesce(sum(length(signed)), 0) FROM documents "
        "WHERE state IN ('queued', 'sent')"
    ).fetchone()
    # Images still owed: unsent, and backing numbers that were not rejected.
    images = conn.execute(
        "SELECT count(*), coalesce(sum(length(data)), 0) FROM images i WHERE sent_at IS NULL "
        "AND EXISTS (SELECT 1 FROM document_images l JOIN documents d ON d.seq = l.seq "
        "WHERE l.sha256 = i.sha256 AND d.state != 'rejected')"
    ).fetchone()
    stored = conn.execute(
        "SELECT (SELECT coalesce(sum(length(signed)), 0) FROM documents) + "
        "(SELECT coalesce(sum(length(data)), 0) FROM images)"
    ).fetchone()[0]
    last_seq = conn.execute("SELECT last_seq FROM chain WHERE id = 1").fetchone()[0]
    queued, sent = by_state.get("queued", 0), by_state.get("sent", 0)
    return OutboxStats(
        last_seq=last_seq,
        pending_documents=queued + sent,
        unsent_documents=queued,
        pending_images=images[0],
        oldest_pending_age_s=None if docs[0] is None else max(0.0, now - docs[0]),
        pending_bytes=docs[1] + images[1],
        stored_bytes=stored,
        by_state=by_state,
    )
