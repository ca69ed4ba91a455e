"""Proof documents: that the hub logged a signed result, and that its log was not rewritten.

The hub serves two JSON documents; anyone checks them with the region's CA certificate, the
hub's certificate and (for inclusion) the signed result itself, with no network or database.

Inclusion proof, that a signed result is a leaf of the hub's transparency log::

    {"format": "tps-inclusion/1",
     "log_id": "log-3171",                   # the log (training: "log-3171-latihan")
     "document_sha256": "<64 hex>",          # SHA-256 of the result's signed payload
     "leaf_index": 41,                       # the result's leaf, counted from 0
     "tree_size": 57,                        # the size of the tree head proved against
     "inclusion_proof": ["<64 hex>", ...],   # RFC 9162 §2.1.3 audit path, leaf to root
     "tree_head": "<base64>"}                # the signed tree head (protocol/treehead.py)

The leaf is the signed-result file's bytes exactly as the kit published them (envelope and
certificate: the bytes ``tps-verify`` reads), hashed as ``SHA-256(0x00 || bytes)``.

Consistency proof, that the log at a newer signed tree head extends the log at an older
one (nothing removed or rewritten in between, RFC 9162 §2.1.4)::

    {"format": "tps-consistency/1",
     "log_id": "log-3171",
     "old_size": 57, "new_size": 80,         # the two heads' tree sizes
     "old_tree_head": "<base64>", "new_tree_head": "<base64>",
     "consistency_proof": ["<64 hex>", ...]}

Both are JSON objects with exactly these fields; the hub writes them in canonical JSON
(protocol/canonical.py), but any JSON encoding of the same object is read the same way, as
a web server may re-encode it. What is signed is only the tree heads inside: the other
fields are claims that verification checks against them, so a document that says one thing
while its head says another is refused. Parsing refuses unknown or missing fields and names
every wrong field at once (:class:`ProofDocumentError`); verification raises the
:class:`~protocol.errors.VerificationError` subclass of the first check that fails.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from protocol import certs, merkle, result, treehead
from protocol.canonical import MAX_SAFE_INT, canonical_bytes, sha256_hex
from protocol.errors import FieldError, VerificationError
from protocol.ids import check_hex64, check_id, is_training, is_training_log

INCLUSION_FORMAT = "tps-inclusion/1"
CONSISTENCY_FORMAT = "tps-consistency/1"
MAX_DOCUMENT_BYTES = 64 * 1024  # a head is ~0.5 KiB, a proof at most ~110 hashes
MAX_PROOF_HASHES = 128  # a tree of 2**53 leaves needs at most 2 * 53 (consistency)
_INCLUSION_FIELDS = frozenset(
    {"format", "log_id", "document_sha256", "leaf_index", "tree_size", "inclusion_proof"}
    | {"tree_head"}
)
_CONSISTENCY_FIELDS = frozenset(
    {"format", "log_id", "old_size", "new_size", "old_tree_head", "new_tree_head"}
    | {"consistency_proof"}
)


class ProofDocumentError(VerificationError):
    """A proof document is malformed; ``problems`` maps each wrong field to what is wrong."""

    def __init__(self, what: str, problems: dict[str, str]) -> None:
        listed = "; ".join(f"{name}: {problem}" for name, problem in problems.items())
        super().__init__(f"{what}: {listed}")
        self.problems = problems


@dataclass(frozen=True)
class InclusionDocument:
    log_id: str
    document_sha256: str
    leaf_index: int
    tree_size: int
    proof: tuple[bytes, ...]
    tree_head: bytes  # the signed tree head's DSSE envelope bytes

    def to_json_value(self) -> dict[str, Any]:
        return {
            "format": INCLUSION_FORMAT,
            "log_id": self.log_id,
            "document_sha256": self.document_sha256,
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "inclusion_proof": [h.hex() for h in self.proof],
            "tree_head": _b64(self.tree_head),
        }

    def to_bytes(self) -> bytes:
        return canonical_bytes(self.to_json_value())


@dataclass(frozen=True)
class ConsistencyDocument:
    log_id: str
    old_size: int
    new_size: int
    old_tree_head: bytes
    new_tree_head: bytes
    proof: tuple[bytes, ...]

    def to_json_value(self) -> dict[str, Any]:
        return {
            "format": CONSISTENCY_FORMAT,
            "log_id": self.log_id,
            "old_size": self.old_size,
            "new_size": self.new_size,
            "old_tree_head": _b64(self.old_tree_head),
            "new_tree_head": _b64(self.new_tree_head),
            "consistency_proof": [h.hex() for h in self.proof],
        }

    def to_bytes(self) -> bytes:
        return canonical_bytes(self.to_json_value())


@dataclass(frozen=True)
class VerifiedInclusion:
    head: treehead.TreeHead
    hub: certs.Identity
    leaf_index: int


@dataclass(frozen=True)
class VerifiedConsistency:
    old: treehead.TreeHead
    new: treehead.TreeHead
    hub: certs.Identity


# -- parsing -----------------------------------------------------------------------------------


def parse_inclusion(data: bytes) -> InclusionDocument:
    return inclusion_from_json_value(_load(data, "inclusion proof"))


def parse_consistency(data: bytes) -> ConsistencyDocument:
    return consistency_from_json_value(_load(data, "consistency proof"))


def inclusion_from_json_value(value: Any) -> InclusionDocument:
    f = _Fields(value, "inclusion proof", INCLUSION_FORMAT, _INCLUSION_FIELDS)
    document = InclusionDocument(
        log_id=f.log_id("log_id"),
        document_sha256=f.hex64("document_sha256"),
        leaf_index=f.size("leaf_index"),
        tree_size=f.size("tree_size"),
        proof=f.hashes("inclusion_proof"),
        tree_head=f.base64("tree_head"),
    )
    if f.valid("leaf_index", "tree_size") and document.leaf_index >= document.tree_size:
        f.problems["leaf_index"] = (
            f"{document.leaf_index} is not in a tree of {document.tree_size} leaves"
        )
    f.done()
    return document


def consistency_from_json_value(value: Any) -> ConsistencyDocument:
    f = _Fields(value, "consistency proof", CONSISTENCY_FORMAT, _CONSISTENCY_FIELDS)
    document = ConsistencyDocument(
        log_id=f.log_id("log_id"),
        old_size=f.size("old_size"),
        new_size=f.size("new_size"),
        old_tree_head=f.base64("old_tree_head"),
        new_tree_head=f.base64("new_tree_head"),
        proof=f.hashes("consistency_proof"),
    )
    if f.valid("old_size", "new_size") and document.old_size > document.new_size:
        f.problems["new_size"] = (
            f"{document.new_size} is below old_size {document.old_size}: a log never shrinks"
        )
    f.done()
    return document


def _load(data: bytes, what: str) -> Any:
    if len(data) > MAX_DOCUMENT_BYTES:
        raise ProofDocumentError(what, {"$": f"{len(data)} bytes is over {MAX_DOCUMENT_BYTES}"})
    try:
        return json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_float=_refuse_number,
            parse_constant=_refuse_number,
        )
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as e:
        raise ProofDocumentError(what, {"$": f"not JSON: {e}"}) from e


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two values for one key would let two readers see two different documents.
    value: dict[str, Any] = {}
    for key, item in pairs:
        if key in value:
            raise ValueError(f"field {key!r} appears twice")
        value[key] = item
    return value


def _refuse_number(text: str) -> Any:
    raise ValueError(f"{text} is not an integer")


class _Fields:
    """Reads a document's fields, collecting every problem so one error names them all."""

    def __init__(self, value: Any, what: str, fmt: str, names: frozenset[str]) -> None:
        self.what = what
        self.problems: dict[str, str] = {}
        if not isinstance(value, dict):
            raise ProofDocumentError(what, {"$": f"a JSON object, not {type(value).__name__}"})
        self.value = value
        for name in sorted(set(value) - names):
            self.problems[name] = "unknown field"
        for name in sorted(names - set(value)):
            self.problems[name] = "missing"
        if "format" in value and value["format"] != fmt:
            self.problems["format"] = f"{value['format']!r} is not {fmt!r}"

    def _read(self, name: str, parse: Callable[[Any], Any], default: Any) -> Any:
        if name not in self.value:
            return default
        try:
            return parse(self.value[name])
        except (FieldError, ValueError, TypeError) as e:
            self.problems[name] = e.reason if isinstance(e, FieldError) else str(e)
            return default

    def log_id(self, name: str) -> str:
        return str(self._read(name, lambda v: check_id(v, name), ""))

    def hex64(self, name: str) -> str:
        return str(self._read(name, lambda v: check_hex64(v, name), ""))

    def size(self, name: str) -> int:
        return int(self._read(name, _size, 0))

    def base64(self, name: str) -> bytes:
        return bytes(self._read(name, _base64, b""))

    def hashes(self, name: str) -> tuple[bytes, ...]:
        return tuple(self._read(name, _hashes, ()))

    def valid(self, *names: str) -> bool:
        """Whether these fields were read without a problem (so they can be compared)."""
        return not any(name in self.problems for name in names)

    def done(self) -> None:
        if self.problems:
            raise ProofDocumentError(self.what, self.problems)


def _size(value: Any) -> int:
    # bool is an int: refuse it so a true never passes as a size of 1.
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_SAFE_INT:
        raise ValueError(f"{value!r} is not an integer from 0 to 2**53 - 1")
    return value


def _base64(value: Any) -> bytes:
    if not isinstance(value, str) or not value:
        raise ValueError("not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError("not valid base64") from e


def _hashes(value: Any) -> tuple[bytes, ...]:
    if not isinstance(value, list):
        raise ValueError("not a list of hex hashes")
    if len(value) > MAX_PROOF_HASHES:
        raise ValueError(f"{len(value)} hashes, more than any tree needs ({MAX_PROOF_HASHES})")
    hashes = []
    for index, item in enumerate(value):
        try:
            hashes.append(bytes.fromhex(check_hex64(item, f"[{index}]")))
        except FieldError as e:
            raise ValueError(f"[{index}] is not a 64-character lower-case hex hash") from e
    return tuple(hashes)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- verification ------------------------------------------------------------------------------


def verify_inclusion(
    document: InclusionDocument,
    entry: bytes,
    hub_certificate: x509.Certificate,
    ca_certificate: x509.Certificate,
    at: dt.datetime,
    *,
    log_id: str | None = None,
    crl: x509.CertificateRevocationList | None = None,
) -> VerifiedInclusion:
    """Check that ``entry`` (the signed-result file's bytes) is the leaf at the document's
    index of the tree head the document carries, signed by the hub the CA certified.

    Pass ``log_id`` to require that log. Raises a :class:`VerificationError` subclass.
    This says the hub logged these bytes, not that the result is valid: check that with
    :func:`protocol.result.verify_result` (tps-verify runs both)."""
    check_subject(document, entry)
    verified = verify_head(document.tree_head, hub_certificate, ca_certificate, at, crl=crl)
    check_head_of_inclusion(document, verified.head, log_id)
    check_leaf(document, verified.head, entry)
    return VerifiedInclusion(verified.head, verified.signer, document.leaf_index)


def verify_consistency(
    document: ConsistencyDocument,
    hub_certificate: x509.Certificate,
    ca_certificate: x509.Certificate,
    at: dt.datetime,
    *,
    log_id: str | None = None,
    crl: x509.CertificateRevocationList | None = None,
) -> VerifiedConsistency:
    """Check that the document's new signed tree head extends its old one: same log, both
    signed by the hub the CA certified, the consistency proof holds.

    Pass ``log_id`` to require that log. Raises a :class:`VerificationError` subclass."""
    old = verify_head(document.old_tree_head, hub_certificate, ca_certificate, at, crl=crl)
    new = verify_head(document.new_tree_head, hub_certificate, ca_certificate, at, crl=crl)
    check_heads_of_consistency(document, old.head, new.head, log_id)
    check_time_order(old.head, new.head)
    check_extends(document, old.head, new.head)
    return VerifiedConsistency(old.head, new.head, new.signer)


# The steps below are what the two functions above run, one check each, so tps-verify can
# report every check on its own line without a second implementation.


def verify_head(
    data: bytes,
    hub_certificate: x509.Certificate,
    ca_certificate: x509.Certificate,
    at: dt.datetime,
    *,
    crl: x509.CertificateRevocationList | None = None,
) -> treehead.VerifiedTreeHead:
    """A signed tree head, signed by the hub certificate, which chains to the region's CA."""
    return treehead.verify_tree_head(data, hub_certificate, ca_certificate, at, crl=crl)


def entry_document_sha256(entry: bytes) -> str:
    """SHA-256 of the signed payload inside a signed-result file: the document's identity."""
    envelope, _ = result.parse_bundle(entry)
    return sha256_hex(envelope.payload)


def check_subject(document: InclusionDocument, entry: bytes) -> None:
    """The proof is about this signed result, not another one (by its document hash)."""
    actual = entry_document_sha256(entry)
    if actual != document.document_sha256:
        raise merkle.InclusionProofError(
            "other-document",
            f"the proof is for document {document.document_sha256[:16]}…, "
            f"not this signed result ({actual[:16]}…)",
        )


def check_head_of_inclusion(
    document: InclusionDocument, head: treehead.TreeHead, log_id: str | None = None
) -> None:
    """The signed head is of the log and size the document claims (and ``log_id``, if given)."""
    _check_log(head, document.log_id, log_id)
    if head.tree_size != document.tree_size:
        raise merkle.InclusionProofError(
            "size-mismatch",
            f"the document claims tree size {document.tree_size}, "
            f"the signed tree head says {head.tree_size}",
        )


def check_log_kind(document: InclusionDocument, election: str) -> None:
    """A real result is proved in a real log, a training one in a training log: a hub could
    otherwise satisfy a receipt holder while keeping the result out of the log auditors
    follow."""
    training = is_training(election)
    if training != is_training_log(document.log_id):
        kind = "training" if training else "real"
        raise merkle.InclusionProofError(
            "wrong-log-kind",
            f"a {kind} result ({election}) proved in log {document.log_id!r}, "
            f"which is a {'real' if training else 'training'} log",
        )


def check_kept_head(kept: treehead.TreeHead, old: treehead.TreeHead) -> None:
    """The proof starts from the tree head the reader kept, not one the hub picked."""
    same = (kept.log_id, kept.tree_size, kept.root_hash) == (
        old.log_id,
        old.tree_size,
        old.root_hash,
    )
    if not same:
        raise merkle.ConsistencyProofError(
            "not-the-kept-head",
            f"the proof starts from log {old.log_id!r} size {old.tree_size} root "
            f"{old.root_hash.hex()[:16]}…, not the head you kept (log {kept.log_id!r} size "
            f"{kept.tree_size} root {kept.root_hash.hex()[:16]}…)",
        )


def check_leaf(document: InclusionDocument, head: treehead.TreeHead, entry: bytes) -> None:
    """``entry`` is the leaf at ``leaf_index`` of the tree whose root ``head`` signs."""
    treehead.check_inclusion(head, entry, document.leaf_index, document.proof)


def check_heads_of_consistency(
    document: ConsistencyDocument,
    old: treehead.TreeHead,
    new: treehead.TreeHead,
    log_id: str | None = None,
) -> None:
    """Both signed heads are of the document's log (and ``log_id``) and of its sizes."""
    for head, size, which in ((old, document.old_size, "old"), (new, document.new_size, "new")):
        _check_log(head, document.log_id, log_id)
        if head.tree_size != size:
            raise merkle.ConsistencyProofError(
                "size-mismatch",
                f"the document claims {which} size {size}, "
                f"the {which} signed tree head says {head.tree_size}",
            )


def check_time_order(old: treehead.TreeHead, new: treehead.TreeHead) -> None:
    """The larger tree was not signed before the smaller one: a hub that hands out heads
    dated out of order is presenting two views of its log, not one growing log."""
    # Both are UTC "YYYY-MM-DDTHH:MM:SSZ" (the tree-head parser checked): text order is time.
    if new.timestamp < old.timestamp:
        raise merkle.ConsistencyProofError(
            "time-backwards",
            f"the head of size {new.tree_size} is dated {new.timestamp}, before the head of "
            f"size {old.tree_size} ({old.timestamp})",
        )


def check_extends(
    document: ConsistencyDocument, old: treehead.TreeHead, new: treehead.TreeHead
) -> None:
    """The new head's tree extends the old head's: append-only, no fork."""
    treehead.check_consistency(old, new, document.proof)


def _check_log(head: treehead.TreeHead, claimed: str, pinned: str | None) -> None:
    for wanted in (claimed, pinned):
        if wanted is not None and head.log_id != wanted:
            raise treehead.TreeHeadError(
                f"the signed tree head is of log {head.log_id!r}, not of {wanted!r}"
            )
