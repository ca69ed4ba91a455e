"""Ed25519 verification by libsodium (PyNaCl) for judging many results: the hub's judging
processes and a monitor's recount of its log (``tps-verify recount``).

Checking each result's signature is the largest single cost of judging it, and libsodium
verifies a 2.4 KB result in about 60 % of the time OpenSSL takes (66 against 116 µs on the
benchmark machine). The next largest is checking the certificate of a kit the judging process
has not seen yet, whose CA signature libsodium checks too (hub/trust.py and the recount hand
:class:`SodiumKey` to protocol.certs.anchor), in under half of OpenSSL's instructions. Only
the hub's judging and the recount use it: kits, ``tps-verify`` of one result and everything
else verify with ``cryptography``. The recount judges with the hub's library on purpose: it
then accepts exactly the signatures the hub accepted.

libsodium is the stricter of the two: besides everything OpenSSL checks, it refuses
public keys and R values of small order and non-canonical encodings, and both compare the
encoding of [S]B - [k]A with R without the cofactor. So whatever the hub accepts, anyone
re-checking with ``tps-verify`` accepts too; the reverse can fail only for signatures no
honest signer makes, or under keys no honest key generation makes, such as a key of small
order (tests/hub/test_sodium.py checks both directions; tests/hub/test_trust_fast.py, that a
kit certificate is judged alike but for such a signature or key of its CA's).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import nacl.exceptions
import nacl.signing
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class SodiumKey:
    """An Ed25519 public key with cryptography's ``verify(signature, data)``, checked by
    libsodium: it raises :class:`cryptography.exceptions.InvalidSignature` alike, so
    protocol.dsse.verify takes it where it takes an ``Ed25519PublicKey``, and
    protocol.certs.anchor as the CA key it checks kit certificates with."""

    __slots__ = ("_key",)

    def __init__(self, key: Ed25519PublicKey) -> None:
        self._key = nacl.signing.VerifyKey(key.public_bytes_raw())

    def verify(self, signature: bytes, data: bytes) -> None:
        try:
            self._key.verify(data, signature)
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError) as e:
            # ValueError: a signature not 64 bytes long, which OpenSSL refuses as invalid too.
            raise InvalidSignature("the signature does not verify") from e


def sodium_keys(keys: Mapping[str, Ed25519PublicKey]) -> dict[str, SodiumKey]:
    """The same keys, by the same ids, verified by libsodium (protocol.bundle.signing_keys
    of a certificate, for protocol.bundle.check_signature)."""
    return {key_id: _sodium_key(key.public_bytes_raw()) for key_id, key in keys.items()}


# By raw key: a kit signs all its documents with one key, and a judging process sees the
# same kits again and again (a kit's five ballots, its rescans).
@lru_cache(maxsize=16_384)
def _sodium_key(raw: bytes) -> SodiumKey:
    return SodiumKey(Ed25519PublicKey.from_public_bytes(raw))
