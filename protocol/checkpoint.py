"""The hub's log heads as C2SP checkpoints (c2sp.org/tlog-checkpoint), so that transparency-log
tooling that knows nothing of this project can read and verify them.

A checkpoint is a signed note (protocol/note.py) whose text is exactly three lines::

    <origin>
    <tree size, decimal>
    <root hash, base64 of the 32-byte RFC 9162 Merkle tree root>

The hub signs it with its Ed25519 key under the key name ``<origin>``; the origin is the
log's id (``log-3171``, or ``log-3171-latihan`` for training results), which already names
one region's one log. No extension lines: the spec advises against them, and the DSSE tree
head (protocol/treehead.py) keeps the signing time for the JSON proofs.

Who may sign is the region's business: :func:`hub_verifier` turns the hub certificate, once
checked against the region's CA (and CRL), into the verifier key for a log, so ``tps-verify``
trusts a checkpoint exactly as it trusts a tree head.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from protocol import certs, merkle, note
from protocol.canonical import MAX_SAFE_INT
from protocol.errors import CertificateProfileError, VerificationError

MEDIA_TYPE = "text/plain; charset=utf-8"  # what tlog-tiles serves a checkpoint as


class CheckpointError(VerificationError):
    """A signed note that is not a well-formed checkpoint, or not of the log wanted."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes

    def text(self) -> str:
        root = base64.b64encode(self.root_hash).decode()
        return f"{self.origin}\n{self.tree_size}\n{root}\n"


@dataclass(frozen=True)
class VerifiedCheckpoint:
    checkpoint: Checkpoint
    note: note.Note
    signers: tuple[note.Verifier, ...]  # the trusted keys whose signatures held


def make(origin: str, tree_size: int, root_hash: bytes) -> Checkpoint:
    return parse_text(Checkpoint(origin, tree_size, root_hash).text())


def sign(checkpoint: Checkpoint, key: Ed25519PrivateKey) -> bytes:
    """The signed note of ``checkpoint``, by ``key`` under the key name of its origin."""
    text = checkpoint.text()
    return note.signed_note(text, [note.sign(text, checkpoint.origin, key)])


def parse_text(text: str) -> Checkpoint:
    """Read a checkpoint's note text (its three lines; extension lines are refused)."""
    lines = text.split("\n")
    if lines[-1] != "" or len(lines) != 4:
        raise CheckpointError(
            f"a checkpoint's text is origin, tree size and root hash, each ending in a newline "
            f"({len(lines) - 1} lines given)"
        )
    origin, size_text, root_text = lines[:3]
    if not origin or any(c.isspace() for c in origin):
        raise CheckpointError(f"checkpoint origin {origin!r} is empty or holds a space")
    if (
        not size_text.isascii()
        or not size_text.isdigit()
        or (size_text != "0" and size_text[0] == "0")
    ):
        raise CheckpointError(f"checkpoint tree size {size_text!r} is not a decimal number")
    size = int(size_text)
    if size > MAX_SAFE_INT:
        raise CheckpointError(f"checkpoint tree size {size} is over 2**53 - 1")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error as e:
        raise CheckpointError(f"checkpoint root hash {root_text!r} is not base64: {e}") from e
    if len(root) != merkle.HASH_SIZE or base64.b64encode(root).decode() != root_text:
        raise CheckpointError(f"checkpoint root hash {root_text!r} is not 32 bytes in base64")
    return Checkpoint(origin, size, root)


def verify(
    data: bytes, verifiers: Iterable[note.Verifier], *, origin: str | None = None
) -> VerifiedCheckpoint:
    """Verify a signed checkpoint against trusted keys; ``origin`` pins the log followed."""
    opened, signers = note.open_note(data, verifiers)
    checkpoint = parse_text(opened.text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint of log {checkpoint.origin!r}, not of {origin!r}")
    return VerifiedCheckpoint(checkpoint, opened, tuple(signers))


def verifier_for(origin: str, public_key: Ed25519PublicKey) -> note.Verifier:
    return note.Verifier(note.check_key_name(origin), public_key)


def hub_verifier(
    origin: str,
    hub_certificate: x509.Certificate,
    ca_certificate: x509.Certificate,
    at: dt.datetime,
    *,
    crl: x509.CertificateRevocationList | None = None,
) -> note.Verifier:
    """The verifier of ``origin``'s checkpoints: the hub certificate's key, once the
    certificate holds against the region's CA (and CRL) at ``at``."""
    certs.verify_issued(hub_certificate, ca_certificate, role="hub", at=at, crl=crl)
    public_key = hub_certificate.public_key()
    if not isinstance(public_key, Ed25519PublicKey):  # verify_issued checks; keep mypy honest
        raise CertificateProfileError("hub certificate key is not Ed25519")
    return verifier_for(origin, public_key)


def check_inclusion(checkpoint: Checkpoint, entry: bytes, index: int, proof: list[bytes]) -> None:
    merkle.verify_inclusion(
        merkle.leaf_hash(entry), index, checkpoint.tree_size, proof, checkpoint.root_hash
    )


def check_consistency(old: Checkpoint, new: Checkpoint, proof: list[bytes]) -> None:
    """Raise unless ``new`` extends ``old`` in the same log (append-only, no fork)."""
    if old.origin != new.origin:
        raise CheckpointError(f"checkpoints of two logs ({old.origin!r}, {new.origin!r})")
    merkle.verify_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof)
