"""The proof documents the hub serves (format: protocol/proofs.py), built from its store.

Every proof is against a tree head the hub has already signed and stored (one per ingest
batch and log), never against a head made up for the request: a reader can then compare
the heads it is shown with the heads anyone else was shown, which is what makes a log that
shows different readers different trees (a split view) detectable. Reads only: nothing here
signs or writes.

Training (bimtek) results are in a log of their own (``<log_id>-latihan``); each document
names its log, so a training result is never proved against the real election's log.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from hub.store import ResultStore
from hub.store.logstorage import DatabaseLogStorage
from hub.translog.log import TransparencyLog
from protocol import dsse, proofs, treehead
from protocol.errors import ProtocolError
from protocol.ids import check_hex64, check_id


class ProofRequestError(ValueError):
    """The request cannot be answered as asked (a bad size, an unknown log...): the message
    names what is wrong, for the API to return to the caller."""


def inclusion_document(
    store: ResultStore, document_sha256: str, *, tree_size: int | None = None
) -> dict[str, Any] | None:
    """The inclusion proof (tps-inclusion/1, a JSON-ready dict) of a stored result.

    Proved against the latest signed tree head of the result's log, or the one of
    ``tree_size`` (for a reader who follows the log's heads and holds that one). None when
    the hub holds no such document in a log, or no signed tree head covers it yet.
    """
    sha = _request(lambda: check_hex64(document_sha256, "document_sha256"))
    if tree_size is not None:
        _check_size(tree_size, "tree_size")
    stored = store.find_document(sha)
    if stored is None:
        return None
    storage = store.log_storage(stored.log_name)
    signed = _head_covering(storage, stored.log_index, tree_size)
    if signed is None:
        return None
    head = _read_head(signed)
    proof = TransparencyLog(storage).inclusion_proof(stored.log_index, head.tree_size)
    document = proofs.InclusionDocument(
        log_id=head.log_id,
        document_sha256=sha,
        leaf_index=stored.log_index,
        tree_size=head.tree_size,
        proof=tuple(proof),
        tree_head=signed,
    )
    return document.to_json_value()


def _head_covering(storage: DatabaseLogStorage, leaf: int, tree_size: int | None) -> bytes | None:
    """The signed head (latest, or of ``tree_size``) whose tree holds ``leaf``. None if the
    latest does not hold it yet; a ``tree_size`` the hub did not sign, or too small, is
    the caller's mistake."""
    signed = storage.tree_head(tree_size)
    if signed is None and tree_size is not None:
        raise _no_head(storage.log, tree_size)
    if signed is None or _read_head(signed).tree_size > leaf:
        return signed
    if tree_size is not None:
        raise ProofRequestError(
            f"tree_size {tree_size}: the document is leaf {leaf}, "
            f"so only trees of more than {leaf} leaves include it"
        )
    return None  # appended, but not yet under a signed head


def consistency_document(
    store: ResultStore, log: str, old_size: int, new_size: int | None = None
) -> dict[str, Any]:
    """The consistency proof (tps-consistency/1, a JSON-ready dict) between two signed heads.

    ``new_size`` None means the latest signed tree head. Both sizes must be sizes the hub
    signed a tree head for: a proof is only worth checking between two signed statements,
    and the reader holds the old head already (it is what they want to extend from).
    """
    storage = _log(store, log)
    _check_size(old_size, "old_size")
    if new_size is not None:
        _check_size(new_size, "new_size")
    new_signed = storage.tree_head(new_size)
    if new_signed is None:
        raise _no_head(log, new_size)
    new_head = _read_head(new_signed)
    if old_size > new_head.tree_size:
        raise ProofRequestError(
            f"old_size {old_size} is above new_size {new_head.tree_size}: a log only grows"
        )
    old_signed = storage.tree_head(old_size)
    if old_signed is None:
        raise _no_head(log, old_size)
    proof = TransparencyLog(storage).consistency_proof(old_size, new_head.tree_size)
    document = proofs.ConsistencyDocument(
        log_id=new_head.log_id,
        old_size=old_size,
        new_size=new_head.tree_size,
        old_tree_head=old_signed,
        new_tree_head=new_signed,
        proof=tuple(proof),
    )
    return document.to_json_value()


def latest_tree_head(store: ResultStore, log: str) -> dict[str, Any] | None:
    """The log's latest signed tree head, with its fields readable without decoding it:
    ``{"log_id", "tree_size", "root_hash", "timestamp", "tree_head": base64}``. None when the
    hub has signed no tree head for ``log`` (an unknown log, or one nothing was logged in)."""
    _request(lambda: check_id(log, "log"))
    signed = store.log_storage(log).tree_head()
    if signed is None:
        return None
    head = _read_head(signed)
    return {
        "log_id": head.log_id,
        "tree_size": head.tree_size,
        "root_hash": head.root_hash.hex(),
        "timestamp": head.timestamp,
        "tree_head": base64.b64encode(signed).decode("ascii"),
    }


def _log(store: ResultStore, log: str) -> DatabaseLogStorage:
    _request(lambda: check_id(log, "log"))
    storage = store.log_storage(log)
    if storage.tree_head() is None:
        raise ProofRequestError(f"log {log!r}: the hub has no signed tree head of this log")
    return storage


def _read_head(signed: bytes) -> treehead.TreeHead:
    # The hub's own stored head: its signature was made here, so only the payload is read.
    return treehead.parse_tree_head(dsse.parse_envelope_bytes(signed).payload)


def _check_size(value: object, name: str) -> None:
    # bool is an int: refuse it so a true never passes as a size of 1.
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ProofRequestError(f"{name} {value!r} is not a positive integer")


def _no_head(log: str, size: int | None) -> ProofRequestError:
    return ProofRequestError(
        f"log {log!r}: the hub signed no tree head of size {size}; "
        "ask for the latest tree head and use the sizes the hub signed"
    )


def _request(check: Callable[[], str]) -> str:
    try:
        return check()
    except ProtocolError as e:  # FieldError, from the id and hash checks
        raise ProofRequestError(str(e)) from e
