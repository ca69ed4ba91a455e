"""Signed tree heads: the hub's signed statement of its transparency log's size and root.

The payload is canonical JSON (protocol/canonical.py)::

    {"format": "tps-treehead/1", "log_id": "...", "root_hash": "<64 hex>",
     "timestamp": "YYYY-MM-DDTHH:MM:SSZ", "tree_size": N}

in a DSSE envelope of payload type ``application/vnd.tps-treehead+json``, signed with the
hub's Ed25519 key. The payload type keeps a tree head from passing for a result or an ack
(DSSE signs it with the payload), and ``log_id`` keeps one log's head from passing for
another's. Verification is a pure function of bytes, the hub's certificate and the region's
CA certificate, and fails closed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from protocol import certs, dsse, merkle
from protocol.canonical import MAX_SAFE_INT, canonical_bytes, parse_canonical
from protocol.errors import CanonicalError, CertificateProfileError, FieldError, VerificationError
from protocol.ids import check_hex64, check_id
from protocol.utctime import format_utc, is_utc

PAYLOAD_TYPE = "application/vnd.tps-treehead+json"
FORMAT = "tps-treehead/1"
_FIELDS = {"format", "log_id", "root_hash", "timestamp", "tree_size"}


class TreeHeadError(VerificationError):
    """The signature holds but the payload is not a valid tree head (or not the log wanted)."""


@dataclass(frozen=True)
class TreeHead:
    log_id: str
    tree_size: int
    root_hash: bytes
    timestamp: str  # UTC, YYYY-MM-DDTHH:MM:SSZ

    def to_json_value(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "log_id": self.log_id,
            "root_hash": self.root_hash.hex(),
            "timestamp": self.timestamp,
            "tree_size": self.tree_size,
        }

    def payload(self) -> bytes:
        return canonical_bytes(self.to_json_value())


@dataclass(frozen=True)
class VerifiedTreeHead:
    """A tree head whose signature and signer certificate held, with who signed it."""

    head: TreeHead
    signer: certs.Identity


def _timestamp(now: dt.datetime) -> str:
    if now.tzinfo is None:
        raise ValueError("a tree head's time must be timezone-aware (UTC)")
    return format_utc(now)


def make_tree_head(log_id: str, tree_size: int, root_hash: bytes, now: dt.datetime) -> TreeHead:
    """A checked :class:`TreeHead` (raises :class:`TreeHeadError` on a bad field)."""
    return _parse_value(
        {
            "format": FORMAT,
            "log_id": log_id,
            "root_hash": root_hash.hex(),
            "timestamp": _timestamp(now),
            "tree_size": tree_size,
        }
    )


def sign_tree_head(head: TreeHead, key: Ed25519PrivateKey) -> bytes:
    """The DSSE envelope bytes of ``head`` signed by the hub's key: what is published."""
    return dsse.sign(PAYLOAD_TYPE, head.payload(), key).to_bytes()


def parse_tree_head(payload: bytes) -> TreeHead:
    """Read a tree head payload; it must be canonical JSON with exactly the known fields."""
    try:
        value = parse_canonical(payload)
    except CanonicalError as e:
        raise TreeHeadError(f"tree head payload: {e}") from e
    return _parse_value(value)


def _parse_value(value: Any) -> TreeHead:
    if not isinstance(value, dict) or set(value) != _FIELDS:
        keys = sorted(value) if isinstance(value, dict) else type(value).__name__
        raise TreeHeadError(f"a tree head has exactly the fields {sorted(_FIELDS)}, not {keys}")
    if value["format"] != FORMAT:
        raise TreeHeadError(f"tree head format {value['format']!r} is not {FORMAT!r}")
    size = value["tree_size"]
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_SAFE_INT:
        raise TreeHeadError(f"tree_size {size!r} is not an integer from 0 to 2**53 - 1")
    if not isinstance(value["timestamp"], str) or not is_utc(value["timestamp"]):
        raise TreeHeadError(f"timestamp {value['timestamp']!r} is not YYYY-MM-DDTHH:MM:SSZ (UTC)")
    try:
        log_id = check_id(value["log_id"], "log_id")
        root_hex = check_hex64(value["root_hash"], "root_hash")
    except FieldError as e:
        raise TreeHeadError(f"tree head {e}") from e
    return TreeHead(log_id, size, bytes.fromhex(root_hex), value["timestamp"])


def verify_tree_head(
    data: bytes,
    hub_certificate: x509.Certificate,
    ca_certificate: x509.Certificate,
    at: dt.datetime,
    *,
    log_id: str | None = None,
    crl: x509.CertificateRevocationList | None = None,
) -> VerifiedTreeHead:
    """Verify signed tree head bytes: hub certificate from this region's CA, then signature.

    Pass ``log_id`` to pin the log the caller follows; a head of any other log is refused.
    Raises a :class:`VerificationError` subclass naming the cause.
    """
    signer = certs.verify_issued(hub_certificate, ca_certificate, role="hub", at=at, crl=crl)
    public_key = hub_certificate.public_key()
    if not isinstance(public_key, Ed25519PublicKey):  # verify_issued checks; keep mypy honest
        raise CertificateProfileError("hub certificate key is not Ed25519")
    envelope = dsse.parse_envelope_bytes(data)
    _, payload = dsse.verify(envelope, PAYLOAD_TYPE, {dsse.key_id(public_key): public_key})
    head = parse_tree_head(payload)
    if log_id is not None and head.log_id != log_id:
        raise TreeHeadError(f"tree head of log {head.log_id!r}, not of {log_id!r}")
    return VerifiedTreeHead(head, signer)


def check_inclusion(head: TreeHead, entry: bytes, leaf_index: int, proof: Sequence[bytes]) -> None:
    """Raise :class:`merkle.InclusionProofError` unless ``entry`` (the envelope bytes as
    published) sits at ``leaf_index`` in the tree that ``head`` signs."""
    merkle.verify_inclusion(
        merkle.leaf_hash(entry), leaf_index, head.tree_size, proof, head.root_hash
    )


def check_consistency(old: TreeHead, new: TreeHead, proof: Sequence[bytes]) -> None:
    """Raise unless ``new`` extends ``old`` in the same log (append-only, no fork)."""
    if old.log_id != new.log_id:
        raise TreeHeadError(f"tree heads of two logs ({old.log_id!r}, {new.log_id!r})")
    merkle.verify_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof)
