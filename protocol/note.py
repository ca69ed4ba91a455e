"""C2SP signed notes (c2sp.org/signed-note): text signed by one or more Ed25519 keys.

A note is UTF-8 text ending in a newline, a blank line, then one line per signature::

    — <key name> base64(4-byte key ID || Ed25519 signature of the text)

The key ID is ``SHA-256(key name || 0x0A || 0x01 || public key)[:4]``, so a verifier picks
the signature its key made by (name, ID) and ignores the rest: the hub's checkpoints
(protocol/checkpoint.py) can later carry witnesses' cosignatures beside the hub's own.
A verifier key (``vkey``) is ``<name>+<hex key ID>+base64(0x01 || public key)``, the form
in which other transparency-log tools are given a key.

Verification follows the spec's rules: signatures from unknown keys are ignored, one from a
known key that fails makes the whole note fail, and a note no known key signed fails.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from protocol.errors import VerificationError

ED25519 = 0x01  # the signature type byte signed-note assigns to Ed25519
COSIGNATURE = 0x04  # timestamped Ed25519 checkpoint cosignatures (tlog-cosignature)
KEY_ID_SIZE = 4
MAX_SIGNATURES = 64  # the spec asks verifiers to accept at least 16
MAX_NOTE_SIZE = 1 << 20
_DASH = "\u2014 "


class NoteError(VerificationError):
    """A signed note is malformed, or no trusted key's signature on it holds."""


@dataclass(frozen=True)
class Signature:
    """One signature line: who (name, key ID) and the signature bytes after the ID."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        encoded = base64.b64encode(self.key_id + self.signature).decode()
        return f"{_DASH}{self.name} {encoded}\n"


@dataclass(frozen=True)
class Note:
    text: str  # ends in a newline; what every signature signs
    signatures: tuple[Signature, ...]

    def to_bytes(self) -> bytes:
        return (self.text + "\n" + "".join(s.line() for s in self.signatures)).encode()


@dataclass(frozen=True)
class Verifier:
    """A trusted Ed25519 key under its note key name, of signature type ``kind``: 0x01, a
    plain Ed25519 note signature (the log's), or 0x04, a timestamped checkpoint
    cosignature (a witness's: c2sp.org/tlog-cosignature)."""

    name: str
    public_key: Ed25519PublicKey
    kind: int = ED25519

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key, self.kind)

    def vkey(self) -> str:
        raw = _raw(self.public_key)
        encoded = base64.b64encode(bytes([self.kind]) + raw).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def check(self, signature: bytes, text: str) -> None:
        """Raise InvalidSignature unless ``signature`` (after the key ID) signs ``text``."""
        if self.kind == COSIGNATURE:
            if len(signature) != 8 + 64:
                raise InvalidSignature("a cosignature is 8 bytes of time and 64 of signature")
            timestamp = int.from_bytes(signature[:8], "big")
            self.public_key.verify(signature[8:], cosigned_message(timestamp, text))
        else:
            self.public_key.verify(signature, text.encode())


def cosigned_message(timestamp: int, text: str) -> bytes:
    """What an Ed25519 cosignature/v1 signs: its header, its time, the checkpoint's text."""
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def key_id(name: str, public_key: Ed25519PublicKey, kind: int = ED25519) -> bytes:
    """The 4-byte key ID the specs give an Ed25519 key of this name and signature type."""
    check_key_name(name)
    data = name.encode() + b"\n" + bytes([kind]) + _raw(public_key)
    return hashlib.sha256(data).digest()[:KEY_ID_SIZE]


def check_key_name(name: str) -> str:
    if not name or any(c.isspace() or c == "+" for c in name) or _has_control(name):
        raise NoteError(f"note key name {name!r} is empty or holds a space or '+'")
    return name


def parse_vkey(text: str) -> Verifier:
    """A verifier key ``name+hexid+base64(0x01 || key)``; its ID must match the key."""
    parts = text.strip().split("+", 2)  # the base64 key may itself hold a "+"
    if len(parts) != 3:
        raise NoteError(f"verifier key {text!r} is not <name>+<key id>+<key>")
    name, hex_id, encoded = parts
    try:
        raw = base64.b64decode(encoded, validate=True)
        wanted = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError) as e:
        raise NoteError(f"verifier key {text!r}: {e}") from e
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE):
        raise NoteError(
            f"verifier key {text!r} is not an Ed25519 key (type 0x01 or 0x04, 32 bytes)"
        )
    public_key = Ed25519PublicKey.from_public_bytes(raw[1:])
    verifier = Verifier(check_key_name(name), public_key, raw[0])
    if len(wanted) != KEY_ID_SIZE or verifier.key_id != wanted:
        raise NoteError(f"verifier key {text!r}: key ID {hex_id} does not match its key")
    return verifier


def sign(text: str, name: str, key: Ed25519PrivateKey) -> Signature:
    """The signature line of ``key`` (named ``name``) over the note text ``text``."""
    check_text(text)
    return Signature(name, key_id(name, key.public_key()), key.sign(text.encode()))


def cosign(text: str, name: str, key: Ed25519PrivateKey, timestamp: int) -> Signature:
    """A witness's cosignature/v1 line over a checkpoint's text, made at ``timestamp``."""
    check_text(text)
    if not 0 < timestamp < 2**63:
        raise NoteError(f"cosignature time {timestamp} is not a POSIX time above 0")
    signed = key.sign(cosigned_message(timestamp, text))
    return Signature(
        name, key_id(name, key.public_key(), COSIGNATURE), timestamp.to_bytes(8, "big") + signed
    )


def signed_note(text: str, signatures: Sequence[Signature]) -> bytes:
    if not signatures:
        raise NoteError("a signed note needs at least one signature")
    return Note(check_text(text), tuple(signatures)).to_bytes()


def check_text(text: str) -> str:
    if not text.endswith("\n"):
        raise NoteError("a note's text must end in a newline")
    if _has_control(text.replace("\n", "")):
        raise NoteError("a note's text must hold no control characters but newlines")
    return text


def parse(data: bytes) -> Note:
    """Split a signed note into its text and signature lines (nothing verified yet)."""
    if len(data) > MAX_NOTE_SIZE:
        raise NoteError(f"signed note of {len(data)} bytes is over {MAX_NOTE_SIZE}")
    try:
        whole = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise NoteError(f"signed note is not UTF-8: {e}") from e
    if _has_control(whole.replace("\n", "")):
        raise NoteError("signed note holds control characters other than newline")
    if not whole.endswith("\n"):
        raise NoteError("signed note does not end in a newline")
    split = whole.rfind("\n\n")
    if split < 0:
        raise NoteError("signed note has no blank line before its signatures")
    text, block = whole[: split + 1], whole[split + 2 :]
    lines = block.split("\n")[:-1]
    if not lines:
        raise NoteError("signed note has no signature lines")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"signed note has {len(lines)} signatures, over {MAX_SIGNATURES}")
    return Note(text, tuple(_signature(line) for line in lines))


def _signature(line: str) -> Signature:
    if not line.startswith(_DASH):
        raise NoteError(f"signature line {line[:40]!r} does not start with '— '")
    name, space, encoded = line[len(_DASH) :].partition(" ")
    if not space:
        raise NoteError(f"signature line {line[:40]!r} is not '— <name> <signature>'")
    check_key_name(name)
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error as e:
        raise NoteError(f"signature of {name!r} is not base64: {e}") from e
    if len(raw) <= KEY_ID_SIZE:
        raise NoteError(f"signature of {name!r} is too short to hold a key ID")
    return Signature(name, raw[:KEY_ID_SIZE], raw[KEY_ID_SIZE:])


def open_note(data: bytes, verifiers: Iterable[Verifier]) -> tuple[Note, list[Verifier]]:
    """Parse and verify: return the note and the known keys whose signatures held.

    Raises :class:`NoteError` if a known key's signature fails, or none is there."""
    note = parse(data)
    known = {(v.name, v.key_id): v for v in verifiers}
    verified: list[Verifier] = []
    for sig in note.signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue  # another party's signature (a witness, a retired key): not ours to judge
        try:
            verifier.check(sig.signature, note.text)
        except InvalidSignature as e:
            raise NoteError(f"the signature of {sig.name} on this note does not hold") from e
        if verifier not in verified:
            verified.append(verifier)
    if not verified:
        names = sorted({name for name, _ in known})
        raise NoteError(f"the note carries no signature by a trusted key ({', '.join(names)})")
    return note, verified


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _has_control(text: str) -> bool:
    return any(ord(c) < 0x20 for c in text)
