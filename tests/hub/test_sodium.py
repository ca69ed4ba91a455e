"""The hub's libsodium verifier agrees with cryptography's on every signature an honest
signer makes, and never accepts one cryptography refuses (what the hub accepts, anyone
re-checking with tps-verify must accept too)."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.sodium import SodiumKey, sodium_keys

_IDENTITY_POINT = bytes([1]) + bytes(31)  # the neutral element: a key of small order


def _accepts(key: Ed25519PublicKey | SodiumKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


@given(st.binary(min_size=32, max_size=32), st.binary(max_size=4096))
@settings(max_examples=200, deadline=None)
def test_accepts_every_honest_signature(seed: bytes, data: bytes) -> None:
    private = Ed25519PrivateKey.from_private_bytes(seed)
    signature = private.sign(data)
    assert _accepts(SodiumKey(private.public_key()), signature, data)


@given(
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=1, max_size=512),
    st.integers(min_value=0, max_value=64 * 8 - 1),
)
@settings(max_examples=300, deadline=None)
def test_rejects_a_signature_with_any_bit_flipped(seed: bytes, data: bytes, bit: int) -> None:
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    signature = bytearray(Ed25519PrivateKey.from_private_bytes(seed).sign(data))
    signature[bit // 8] ^= 1 << (bit % 8)
    forged = bytes(signature)
    assert not _accepts(SodiumKey(public), forged, data)
    assert not _accepts(public, forged, data)  # the two agree


@given(st.binary(min_size=32, max_size=32), st.binary(min_size=64, max_size=64))
@settings(max_examples=300, deadline=None)
def test_never_accepts_what_openssl_refuses(raw_key: bytes, signature: bytes) -> None:
    try:
        public = Ed25519PublicKey.from_public_bytes(raw_key)
    except ValueError:
        return  # not a point: neither side gets a key to check with
    if _accepts(SodiumKey(public), signature, b"document"):
        assert _accepts(public, signature, b"document")


def test_rejects_a_document_changed_after_signing() -> None:
    private = Ed25519PrivateKey.generate()
    signature = private.sign(b'{"seq":1}')
    assert not _accepts(SodiumKey(private.public_key()), signature, b'{"seq":2}')


@pytest.mark.parametrize("length", [0, 63, 65])
def test_rejects_a_signature_of_the_wrong_length(length: int) -> None:
    public = Ed25519PrivateKey.generate().public_key()
    assert not _accepts(SodiumKey(public), bytes(length), b"document")


def test_rejects_the_small_order_key_forgery_openssl_accepts() -> None:
    # With the neutral element as the key, R = neutral and S = 0 "sign" any message under
    # the cofactorless check OpenSSL runs. The region's CA never certifies such a key; the
    # hub refuses the forgery anyway.
    public = Ed25519PublicKey.from_public_bytes(_IDENTITY_POINT)
    forgery = _IDENTITY_POINT + bytes(32)
    assert _accepts(public, forgery, b"any document")  # what makes the test meaningful
    assert not _accepts(SodiumKey(public), forgery, b"any document")


def test_keeps_the_key_ids() -> None:
    public = Ed25519PrivateKey.generate().public_key()
    wrapped = sodium_keys({"id-1": public})
    assert list(wrapped) == ["id-1"]
    assert isinstance(wrapped["id-1"], SodiumKey)
