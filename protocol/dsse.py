"""DSSE v1 envelopes (github.com/secure-systems-lab/dsse), signed with Ed25519.

The signature covers DSSE's pre-authentication encoding (PAE) of the payload type and the
payload bytes, never the JSON envelope itself, so the envelope's own formatting does not
matter and the payload type cannot be swapped. Verification is a pure function of bytes and
trusted keys and fails closed with one exception per cause.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from protocol.canonical import parse_json
from protocol.errors import (
    BadSignatureError,
    MalformedEnvelopeError,
    UnknownKeyError,
    WrongPayloadTypeError,
)

MAX_ENVELOPE_BYTES = 1 << 20  # a result is a few KB; anything near this is an attack


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSEv1 pre-authentication encoding: what is actually signed."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def key_id(public_key: Ed25519PublicKey) -> str:
    """Key id: SHA-256 (hex) of the key's SubjectPublicKeyInfo DER, as openssl would hash it."""
    spki = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


class PublicKey(Protocol):
    """What verifying needs of a key: cryptography's Ed25519PublicKey, or a key of the same
    behaviour (raising InvalidSignature) checked by another library."""

    def verify(self, signature: bytes, data: bytes) -> None: ...


@dataclass(frozen=True)
class Signature:
    keyid: str
    sig: bytes


@dataclass(frozen=True)
class Envelope:
    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]

    def to_json_value(self) -> dict[str, Any]:
        return {
            "payload": base64.b64encode(self.payload).decode("ascii"),
            "payloadType": self.payload_type,
            "signatures": [
                {"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode("ascii")}
                for s in self.signatures
            ],
        }

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_json_value(), separators=(",", ":"), sort_keys=True).encode()


def sign(payload_type: str, payload: bytes, key: Ed25519PrivateKey) -> Envelope:
    signature = Signature(key_id(key.public_key()), key.sign(pae(payload_type, payload)))
    return Envelope(payload_type, payload, (signature,))


def _b64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise MalformedEnvelopeError(f"{what} must be a base64 string")
    # DSSE allows both the standard and the URL-safe alphabet.
    alphabet = text.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(alphabet + "=" * (-len(alphabet) % 4), validate=True)
    except (binascii.Error, ValueError) as e:
        raise MalformedEnvelopeError(f"{what} is not valid base64") from e


def parse_envelope(value: Any) -> Envelope:
    """Read a decoded JSON value as a DSSE envelope; raise MalformedEnvelopeError if it is not."""
    if not isinstance(value, dict):
        raise MalformedEnvelopeError("an envelope is a JSON object")
    if not isinstance(value.get("payloadType"), str):
        raise MalformedEnvelopeError("payloadType is missing or not a string")
    raw_sigs = value.get("signatures")
    if not isinstance(raw_sigs, list) or not raw_sigs:
        raise MalformedEnvelopeError("signatures must be a non-empty list")
    signatures = []
    for index, item in enumerate(raw_sigs):
        if not isinstance(item, dict) or not isinstance(item.get("keyid", ""), str):
            raise MalformedEnvelopeError(f"signatures[{index}] is not a {{keyid, sig}} object")
        sig = _b64(item.get("sig"), f"signatures[{index}].sig")
        signatures.append(Signature(item.get("keyid", ""), sig))
    payload = _b64(value.get("payload"), "payload")
    return Envelope(value["payloadType"], payload, tuple(signatures))


def parse_envelope_bytes(data: bytes) -> Envelope:
    if len(data) > MAX_ENVELOPE_BYTES:
        raise MalformedEnvelopeError(f"envelope of {len(data)} bytes is over the limit")
    try:
        value = parse_json(data)
    except ValueError as e:  # json's errors, and nesting too deep to read (not a crash)
        raise MalformedEnvelopeError(f"envelope is not JSON: {e}") from e
    return parse_envelope(value)


def verify(
    envelope: Envelope, payload_type: str, trusted: Mapping[str, PublicKey]
) -> tuple[str, bytes]:
    """Check the envelope against trusted keys (by key id); return (key id, payload).

    One valid signature from a trusted key is enough; a signature whose key id is trusted
    but which does not verify is a bad signature, never silently skipped.
    """
    if envelope.payload_type != payload_type:
        raise WrongPayloadTypeError(
            f"payload type {envelope.payload_type!r} is not {payload_type!r}"
        )
    message = pae(envelope.payload_type, envelope.payload)
    known = [s for s in envelope.signatures if s.keyid in trusted]
    if not known:
        ids = ", ".join(s.keyid[:16] or "(none)" for s in envelope.signatures)
        raise UnknownKeyError(f"no trusted key among the signers (key ids {ids})")
    for signature in known:
        try:
            trusted[signature.keyid].verify(signature.sig, message)
        except InvalidSignature as e:
            raise BadSignatureError(
                f"signature by key {signature.keyid[:16]} does not match the payload"
            ) from e
    return known[0].keyid, envelope.payload
