"""A signed statement as it travels: a DSSE envelope and its signer's certificate together.

Kits' results and the hub's acknowledgements both travel this way (as a Sigstore bundle
carries its verification material), so a verifier needs only the region's CA certificate.
Trust never comes from the bundled certificate itself: it must chain to the CA the verifier
brings.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding

from protocol import certs, dsse
from protocol.canonical import parse_json
from protocol.errors import CertificateProfileError, MalformedEnvelopeError, UnknownKeyError

_KEYS = {"format", "envelope", "certificate"}


class BundleSigner:
    """Signs payloads of one type into bundles of one format with one key and certificate.

    The bundle is sorted compact JSON whose only variable parts are the payload's and the
    signature's base64 (nothing to escape), so it is made as the fixed frame around them,
    encoded once: the same bytes as ``json.dumps`` of the whole (tests/protocol/test_dsse.py
    compares them) at a fraction of the cost, which the hub needs at thousands of acks a
    second (the key id and PEM alone cost a hash and an encoding per bundle otherwise).
    """

    def __init__(
        self,
        bundle_format: str,
        payload_type: str,
        key: Ed25519PrivateKey,
        certificate: x509.Certificate,
    ) -> None:
        self.payload_type = payload_type
        self.key = key
        pem = certificate.public_bytes(Encoding.PEM).decode("ascii")
        keyid = dsse.key_id(key.public_key())
        head = '{"certificate":' + json.dumps(pem) + ',"envelope":{"payload":"'
        middle = '","payloadType":' + json.dumps(payload_type)
        middle += ',"signatures":[{"keyid":' + json.dumps(keyid) + ',"sig":"'
        tail = '"}]},"format":' + json.dumps(bundle_format) + "}"
        self._frame = (head.encode("ascii"), middle.encode("ascii"), tail.encode("ascii"))

    def sign(self, payload: bytes) -> bytes:
        sig = self.key.sign(dsse.pae(self.payload_type, payload))
        head, middle, tail = self._frame
        return b"".join((head, base64.b64encode(payload), middle, base64.b64encode(sig), tail))


def make_bundle(
    bundle_format: str,
    payload_type: str,
    payload: bytes,
    key: Ed25519PrivateKey,
    certificate: x509.Certificate,
) -> bytes:
    """One bundle (a signer that signs many keeps its :class:`BundleSigner`)."""
    return BundleSigner(bundle_format, payload_type, key, certificate).sign(payload)


def parse_bundle(
    data: bytes, bundle_format: str, *, max_bytes: int = dsse.MAX_ENVELOPE_BYTES
) -> tuple[dsse.Envelope, x509.Certificate]:
    """The envelope and certificate of a bundle; MalformedEnvelopeError if it is not one."""
    if len(data) > max_bytes:
        raise MalformedEnvelopeError(f"message of {len(data)} bytes is over the limit")
    try:
        value: Any = parse_json(data)
    except ValueError as e:  # json's errors, and nesting too deep to read (not a crash)
        raise MalformedEnvelopeError(f"message is not JSON: {e}") from e
    if not isinstance(value, dict) or set(value) != _KEYS:
        raise MalformedEnvelopeError(f"a {bundle_format} is an object with keys {sorted(_KEYS)}")
    if value["format"] != bundle_format:
        raise MalformedEnvelopeError(f"format {value['format']!r} is not {bundle_format}")
    envelope = dsse.parse_envelope(value["envelope"])
    if not isinstance(value["certificate"], str):
        raise MalformedEnvelopeError("certificate must be a PEM string")
    try:
        certificate = _load_certificate(value["certificate"])
    except (CertificateProfileError, UnicodeEncodeError) as e:
        raise MalformedEnvelopeError(f"bundled certificate is unreadable: {e}") from e
    return envelope, certificate


# A kit sends every document with the same certificate: the same PEM text always reads as
# the same certificate (x509 objects are immutable), so a verifier reading many bundles
# parses each certificate once, and gets the same object back (hub/trust.py relies on it
# to skip re-hashing it). Failures are not cached (lru_cache does not keep exceptions).
@lru_cache(maxsize=16_384)
def _load_certificate(pem: str) -> x509.Certificate:
    return certs.load_certificate(pem.encode("ascii"))


def check_signature(
    envelope: dsse.Envelope,
    certificate: x509.Certificate,
    payload_type: str,
    *,
    keys: Mapping[str, dsse.PublicKey] | None = None,
) -> bytes:
    """Verify the envelope with the certificate's key; return the signed payload.

    ``keys``: :func:`signing_keys` of the certificate as the caller checks signatures with
    them (the hub's judging uses libsodium, protocol/sodium.py); by default, as they are.
    """
    trusted = signing_keys(certificate) if keys is None else keys
    if not any(s.keyid in trusted for s in envelope.signatures):
        raise UnknownKeyError("the envelope is not signed by the key of its certificate")
    return dsse.verify(envelope, payload_type, trusted)[1]


# Key id and key by certificate object, the object held so its id is not reused while it
# is a key: _load_certificate hands out the same object for a kit's every document, and the
# key id (a DER encoding and a hash) costs as much as reading the certificate.
_SIGNING_KEYS: dict[int, tuple[x509.Certificate, dict[str, Ed25519PublicKey]]] = {}
_SIGNING_KEYS_LIMIT = 16_384


def signing_keys(certificate: x509.Certificate) -> dict[str, Ed25519PublicKey]:
    """{key id: key} of the certificate; CertificateProfileError if it is not Ed25519."""
    known = _SIGNING_KEYS.get(id(certificate))
    if known is not None and known[0] is certificate:
        return known[1]
    public_key = certificate.public_key()
    if not isinstance(public_key, Ed25519PublicKey):
        raise CertificateProfileError("certificate key is not Ed25519")
    trusted = {dsse.key_id(public_key): public_key}
    if len(_SIGNING_KEYS) >= _SIGNING_KEYS_LIMIT:
        _SIGNING_KEYS.clear()
    _SIGNING_KEYS[id(certificate)] = (certificate, trusted)
    return trusted
