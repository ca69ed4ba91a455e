"""``tps-hub witness``: a C2SP tlog-witness (c2sp.org/tlog-witness) that a party, Bawaslu or
an observer runs with its own Ed25519 key, to vouch that the hub shows one log to everyone.

For each log it follows (an origin, and the hub key that signs its checkpoints, taken from
a hub certificate the region's CA issued), it keeps the latest checkpoint it cosigned, on
disk (SQLite, one transaction per request: the check of the old size and the new record
are atomic, so two racing requests cannot roll the record back). It cosigns a checkpoint
only when the hub's signature holds and a consistency proof from that kept checkpoint
verifies; a checkpoint of another tree (a rewritten log, or the other branch of a log shown
differently to different people) is refused, and kept aside as evidence.

Answers, as the spec sets them: 200 with the cosignature line; 400 a malformed request or
an old size above the new; 403 no valid signature of the hub; 404 a log it does not follow;
409 the old size is not the one it cosigned last (its body: that size); 422 the proof fails
or the tree differs at the same size. Versions of the spec before July 2026 answered the
same-size case with 409; the spec moved it to 422 because a second root at a cosigned size
is a failed consistency check, not a stale size to retry from, and so that every 409 has
the size as its body (the hub's cosigner retries from it: hub/translog/cosigning.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI, Request, Response

from protocol import checkpoint, merkle, note, witnessing
from protocol.errors import ProtocolError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cosigned (
    origin TEXT PRIMARY KEY, tree_size INTEGER NOT NULL, root_hash BLOB NOT NULL,
    checkpoint BLOB NOT NULL, cosigned_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS refused (
    id INTEGER PRIMARY KEY, origin TEXT NOT NULL, request BLOB NOT NULL, reason TEXT NOT NULL,
    at INTEGER NOT NULL
)
"""


@dataclass(frozen=True)
class Refusal:
    """A checkpoint the hub signed that did not extend what this witness had cosigned: the
    whole request as it came (old size, proof, signed checkpoint), evidence anyone can check
    with the hub's public key."""

    at: dt.datetime
    origin: str
    reason: str
    request: bytes


def _refusals(db: sqlite3.Connection) -> list[Refusal]:
    rows = db.execute("SELECT at, origin, reason, request FROM refused ORDER BY id").fetchall()
    return [
        Refusal(dt.datetime.fromtimestamp(int(at), dt.UTC), str(o), str(r), bytes(q))
        for at, o, r, q in rows
    ]


def read_refusals(state: Path) -> list[Refusal]:
    """The refusals kept in a witness's state file, read without changing it."""
    if not state.is_file():
        raise FileNotFoundError(f"{state}: no witness state file here")
    db = sqlite3.connect(f"{state.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return _refusals(db)
    except sqlite3.DatabaseError as e:
        raise ValueError(f"{state} is not a witness's state file: {e}") from e
    finally:
        db.close()


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


class Witness:
    """One witness key, the logs it follows, and its durable record of what it cosigned."""

    def __init__(
        self,
        name: str,
        key: Ed25519PrivateKey,
        logs: Mapping[str, Sequence[note.Verifier]],
        state: Path,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.name = note.check_key_name(name)
        self._key = key
        self._logs = {origin: list(keys) for origin, keys in logs.items()}
        self._clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(state, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a cosignature is sent only once on disk
        self._db.executescript(_SCHEMA)

    @property
    def verifier(self) -> note.Verifier:
        """This witness's cosignature key, as readers name it (``tps-verify --witness``)."""
        return note.Verifier(self.name, self._key.public_key(), note.COSIGNATURE)

    def close(self) -> None:
        self._db.close()

    def add_checkpoint(self, body: bytes) -> Answer:
        try:
            request = witnessing.parse_request(body)
            new = witnessing.check_checkpoint_text(request.signed_checkpoint)
        except ProtocolError as e:
            return Answer(400, f"{e}\n".encode())
        keys = self._logs.get(new.origin)
        if keys is None:
            return Answer(404, f"this witness follows no log {new.origin!r}\n".encode())
        try:
            checkpoint.verify(request.signed_checkpoint, keys, origin=new.origin)
        except ProtocolError as e:
            return Answer(403, f"{e}\n".encode())
        if request.old_size > new.tree_size:
            return Answer(400, f"old size {request.old_size} is above {new.tree_size}\n".encode())
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                answer = self._check_and_cosign(request, new, body)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return answer

    def _check_and_cosign(
        self, request: witnessing.AddCheckpoint, new: checkpoint.Checkpoint, body: bytes
    ) -> Answer:
        row = self._db.execute(
            "SELECT tree_size, root_hash FROM cosigned WHERE origin = ?", (new.origin,)
        ).fetchone()
        size, root = (0, merkle.EMPTY_ROOT) if row is None else (int(row[0]), bytes(row[1]))
        if request.old_size != size:
            return Answer(409, f"{size}\n".encode(), witnessing.SIZE_TYPE)
        refusal = _inconsistency(request, new, root)
        if refusal is not None:
            # Signed by the hub and not consistent: evidence of a log shown two ways.
            self._db.execute(
                "INSERT INTO refused (origin, request, reason, at) VALUES (?, ?, ?, ?)",
                (new.origin, body, refusal, self._now()),
            )
            return Answer(422, f"{refusal}\n".encode())
        now = self._now()
        line = note.cosign(new.text(), self.name, self._key, now).line().encode()
        cosigned = witnessing.with_cosignatures(request.signed_checkpoint, line)
        self._db.execute(
            "INSERT INTO cosigned (origin, tree_size, root_hash, checkpoint, cosigned_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET "
            "tree_size = excluded.tree_size, root_hash = excluded.root_hash, "
            "checkpoint = excluded.checkpoint, cosigned_at = excluded.cosigned_at",
            (new.origin, new.tree_size, new.root_hash, cosigned, now),
        )
        return Answer(200, line)

    def latest(self, origin_hash: str) -> Answer:
        """The monitoring API: the latest checkpoint cosigned for the log whose origin's
        SHA-256 is ``origin_hash``, with the hub's signature and this witness's."""
        for origin in self._logs:
            if hashlib.sha256(origin.encode()).hexdigest() == origin_hash:
                row = self._db.execute(
                    "SELECT checkpoint FROM cosigned WHERE origin = ?", (origin,)
                ).fetchone()
                if row is not None:
                    return Answer(200, bytes(row[0]), checkpoint.MEDIA_TYPE)
        return Answer(404, b"this witness has cosigned no checkpoint of that log\n")

    def refusals(self) -> list[Refusal]:
        """Every signed checkpoint it refused as inconsistent, oldest first."""
        return _refusals(self._db)

    def _now(self) -> int:
        return int(self._clock().timestamp())


def _inconsistency(
    request: witnessing.AddCheckpoint, new: checkpoint.Checkpoint, root: bytes
) -> str | None:
    if new.tree_size == 0 and new.root_hash != merkle.EMPTY_ROOT:
        return "a checkpoint of size 0 must have the empty tree's root"
    if request.old_size == 0:
        return "a proof from size 0 must be empty" if request.proof else None
    if request.old_size == new.tree_size:
        if new.root_hash != root:
            return (
                f"size {new.tree_size} was cosigned with another root: the log was shown two ways"
            )
        return None
    try:
        merkle.verify_consistency(
            request.old_size, new.tree_size, root, new.root_hash, list(request.proof)
        )
    except ProtocolError as e:
        return f"not consistent with the checkpoint of size {request.old_size} cosigned: {e}"
    return None


def create_app(witness: Witness) -> FastAPI:
    """The witness's HTTP interface: ``POST /add-checkpoint`` and the monitoring
    ``GET /<sha256 of origin>/checkpoint``."""
    app = FastAPI(title="TPS log witness", docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/add-checkpoint")
    async def add_checkpoint(request: Request) -> Response:
        answer = witness.add_checkpoint(await request.body())
        return Response(answer.body, status_code=answer.status, media_type=answer.content_type)

    @app.get("/{origin_hash}/checkpoint")
    def latest(origin_hash: str) -> Response:
        answer = witness.latest(origin_hash)
        return Response(answer.body, status_code=answer.status, media_type=answer.content_type)

    return app
