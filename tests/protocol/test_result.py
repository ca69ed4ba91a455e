"""Verification of a signed result, one test per attack it stops."""

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol import dsse
from protocol.errors import (
    BadSignatureError,
    BindingError,
    CertificateExpiredError,
    DocumentParseError,
    MalformedEnvelopeError,
    RevokedError,
    UnknownKeyError,
    UntrustedIssuerError,
    WrongPayloadTypeError,
)
from protocol.result import PAYLOAD_TYPE, sign_result, verify_result
from provisioning import authority as ca
from tests.conftest import PASSPHRASE, kit_key, make_document

# Read at collection: an hour on, so it is past every CA a test makes (backdated five
# minutes) however long the suite runs before this module.
NOW = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)


def _signed(region, tps="31.71.01.1001.001", **changes):
    kit = region.kit(tps)
    return kit, sign_result(make_document(kit, **changes), kit_key(kit), kit.certificate)


def test_accepts_a_result_signed_by_an_enrolled_kit(region):
    kit, data = _signed(region)
    verified = verify_result(data, region.authority.cert, at=NOW, crl=region.authority.crl())
    assert verified.signer.name == kit.kit_id
    assert verified.document.fields["V.C"] == 256
    assert verified.document_sha256 == verified.document.sha256()


def test_rejects_document_for_another_tps_than_the_certificate(region):
    kit = region.kit("31.71.01.1001.001")
    doc = make_document(kit, tps="31.71.01.1001.002")
    data = sign_result(doc, kit_key(kit), kit.certificate)
    with pytest.raises(BindingError, match="tps"):
        verify_result(data, region.authority.cert, at=NOW)


def test_rejects_document_for_another_election(region):
    kit = region.kit("31.71.01.1001.001")
    data = sign_result(make_document(kit, election="pemilu-2029"), kit_key(kit), kit.certificate)
    with pytest.raises(BindingError, match="election"):
        verify_result(data, region.authority.cert, at=NOW)


def test_rejects_training_kit_publishing_into_real_election(region):
    kit = region.kit("31.71.01.1001.001", election="latihan-2024-bimtek")
    data = sign_result(make_document(kit, election="pemilu-2024"), kit_key(kit), kit.certificate)
    with pytest.raises(BindingError):
        verify_result(data, region.authority.cert, at=NOW)


def test_rejects_result_from_revoked_kit(region):
    kit, data = _signed(region)
    ca.revoke(region.authority, kit.kit_id)
    with pytest.raises(RevokedError):
        verify_result(data, region.authority.cert, at=NOW, crl=region.authority.crl())


def test_rejects_tampered_payload(region):
    _, data = _signed(region)
    bundle = json.loads(data)
    envelope = dsse.parse_envelope(bundle["envelope"])
    forged = envelope.payload.replace(b'"IV.1":112', b'"IV.1":712')
    bundle["envelope"] = dsse.Envelope(PAYLOAD_TYPE, forged, envelope.signatures).to_json_value()
    with pytest.raises(BadSignatureError):
        verify_result(json.dumps(bundle).encode(), region.authority.cert, at=NOW)


def test_rejects_kit_certified_by_another_ca(region, tmp_path):
    other = ca.init_ca(
        tmp_path / "other-ca", region="31.71", name="Forger", passphrase=PASSPHRASE, days=30
    )
    _, data = _signed(region)
    with pytest.raises(UntrustedIssuerError):
        verify_result(data, other.cert, at=NOW)


def test_rejects_certificate_swapped_for_another_kits(region):
    _, data = _signed(region, "31.71.01.1001.001")
    _, other = _signed(region, "31.71.01.1001.002")
    bundle = json.loads(data)
    bundle["certificate"] = json.loads(other)["certificate"]
    with pytest.raises(UnknownKeyError):
        verify_result(json.dumps(bundle).encode(), region.authority.cert, at=NOW)


def test_rejects_signature_by_a_key_that_is_not_the_kits(region):
    kit = region.kit("31.71.01.1001.001")
    data = sign_result(make_document(kit), Ed25519PrivateKey.generate(), kit.certificate)
    with pytest.raises(UnknownKeyError):
        verify_result(data, region.authority.cert, at=NOW)


def test_rejects_expired_kit_certificate(region):
    _, data = _signed(region)
    with pytest.raises(CertificateExpiredError):
        verify_result(data, region.authority.cert, at=NOW + dt.timedelta(days=400))


def test_rejects_wrong_payload_type(region):
    kit, data = _signed(region)
    bundle = json.loads(data)
    payload = make_document(kit).canonical()
    bundle["envelope"] = dsse.sign("text/plain", payload, kit_key(kit)).to_json_value()
    with pytest.raises(WrongPayloadTypeError):
        verify_result(json.dumps(bundle).encode(), region.authority.cert, at=NOW)


def test_rejects_signed_payload_that_is_not_a_document(region):
    kit, data = _signed(region)
    bundle = json.loads(data)
    bundle["envelope"] = dsse.sign(PAYLOAD_TYPE, b'{"hello":1}', kit_key(kit)).to_json_value()
    with pytest.raises(DocumentParseError):
        verify_result(json.dumps(bundle).encode(), region.authority.cert, at=NOW)


@pytest.mark.parametrize(
    "data", [b"", b"{}", b"[1]", b'{"format":"tps-signed-result/1","envelope":{},"certificate":1}']
)
def test_rejects_malformed_message(region, data):
    with pytest.raises(MalformedEnvelopeError):
        verify_result(data, region.authority.cert, at=NOW)


def test_rejects_oversized_message(region):
    with pytest.raises(MalformedEnvelopeError, match="over the limit"):
        verify_result(b" " * (2 << 20), region.authority.cert, at=NOW)


def test_rejects_revocation_list_not_signed_by_the_ca(region, tmp_path):
    other = ca.init_ca(
        tmp_path / "other-ca", region="31.71", name="Forger", passphrase=PASSPHRASE, days=30
    )
    _, data = _signed(region)
    with pytest.raises(UntrustedIssuerError, match="revocation list"):
        verify_result(data, region.authority.cert, at=NOW, crl=other.crl())
