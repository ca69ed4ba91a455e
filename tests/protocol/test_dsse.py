import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import dsse
from protocol.errors import (
    BadSignatureError,
    MalformedEnvelopeError,
    UnknownKeyError,
    WrongPayloadTypeError,
)

TYPE = "application/vnd.tps-result+json"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
TRUSTED = {dsse.key_id(KEY.public_key()): KEY.public_key()}


def test_pae_matches_the_dsse_specification_example():
    assert dsse.pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_signed_envelope_verifies_and_returns_payload():
    envelope = dsse.sign(TYPE, b'{"a":1}', KEY)
    parsed = dsse.parse_envelope_bytes(envelope.to_bytes())
    assert dsse.verify(parsed, TYPE, TRUSTED)[1] == b'{"a":1}'


def test_rejects_wrong_payload_type():
    envelope = dsse.sign("text/plain", b"x", KEY)
    with pytest.raises(WrongPayloadTypeError):
        dsse.verify(envelope, TYPE, TRUSTED)


def test_rejects_payload_type_swapped_after_signing():
    # The signature covers the type (PAE), so relabelling a payload breaks it.
    envelope = dsse.sign("text/plain", b"x", KEY)
    swapped = dsse.Envelope(TYPE, envelope.payload, envelope.signatures)
    with pytest.raises(BadSignatureError):
        dsse.verify(swapped, TYPE, TRUSTED)


def test_rejects_signature_by_unknown_key():
    other = Ed25519PrivateKey.generate()
    with pytest.raises(UnknownKeyError):
        dsse.verify(dsse.sign(TYPE, b"x", other), TYPE, TRUSTED)


def test_rejects_key_id_claiming_a_trusted_key_with_another_signature():
    other = Ed25519PrivateKey.generate()
    forged = dsse.sign(TYPE, b"x", other)
    claimed = dsse.Signature(next(iter(TRUSTED)), forged.signatures[0].sig)
    with pytest.raises(BadSignatureError):
        dsse.verify(dsse.Envelope(TYPE, b"x", (claimed,)), TYPE, TRUSTED)


@pytest.mark.parametrize(
    "text",
    [
        b"not json",
        b"[]",
        b'{"payloadType": "x", "payload": "eA==", "signatures": []}',
        b'{"payloadType": "x", "payload": "***", "signatures": [{"keyid": "", "sig": "eA=="}]}',
        b'{"payloadType": 3, "payload": "eA==", "signatures": [{"keyid": "", "sig": "eA=="}]}',
    ],
)
def test_rejects_malformed_envelope(text):
    with pytest.raises(MalformedEnvelopeError):
        dsse.parse_envelope_bytes(text)


def test_accepts_url_safe_base64_as_dsse_allows():
    envelope = dsse.sign(TYPE, b"\xfb\xff" * 8, KEY)
    value = envelope.to_json_value()
    value["payload"] = base64.urlsafe_b64encode(envelope.payload).decode().rstrip("=")
    parsed = dsse.parse_envelope(json.loads(json.dumps(value)))
    assert dsse.verify(parsed, TYPE, TRUSTED)[1] == envelope.payload


PAYLOAD = b'{"fields":{"IV.1":112},"seq":1}'
ENVELOPE = dsse.sign(TYPE, PAYLOAD, KEY)


@settings(max_examples=300)
@given(st.integers(0, len(PAYLOAD) - 1), st.integers(1, 255))
def test_any_single_byte_change_to_the_payload_fails(position, delta):
    tampered = bytearray(PAYLOAD)
    tampered[position] = (tampered[position] + delta) % 256
    envelope = dsse.Envelope(TYPE, bytes(tampered), ENVELOPE.signatures)
    with pytest.raises(BadSignatureError):
        dsse.verify(envelope, TYPE, TRUSTED)


@settings(max_examples=300)
@given(st.integers(0, 63), st.integers(1, 255))
def test_any_single_byte_change_to_the_signature_fails(position, delta):
    sig = bytearray(ENVELOPE.signatures[0].sig)
    sig[position] = (sig[position] + delta) % 256
    signature = dsse.Signature(ENVELOPE.signatures[0].keyid, bytes(sig))
    with pytest.raises(BadSignatureError):
        dsse.verify(dsse.Envelope(TYPE, PAYLOAD, (signature,)), TYPE, TRUSTED)
