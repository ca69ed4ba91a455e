"""Signed tree heads: made and verified with a real region CA and hub identity."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol import dsse, keys, merkle, treehead
from protocol.errors import (
    BadSignatureError,
    CertificateExpiredError,
    CertificateProfileError,
    MalformedEnvelopeError,
    RevokedError,
    UnknownKeyError,
    UntrustedIssuerError,
    VerificationError,
    WrongPayloadTypeError,
)
from protocol.treehead import TreeHeadError
from provisioning import authority as ca
from provisioning.services import enrol_service
from tests.conftest import PASSPHRASE, Region

# Read at collection: an hour on, so it is past every CA a test makes (backdated five
# minutes) however long the suite runs before this module.
NOW = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
ROOT = merkle.root_of_entries([b"a", b"b", b"c"])


@dataclass
class Hub:
    key: Ed25519PrivateKey
    cert: x509.Certificate
    ca_cert: x509.Certificate


def make_hub(region: Region, name: str = "hub-31-71") -> Hub:
    out = region.root / name
    cert = enrol_service(region.authority, role="hub", name=name, out=out, days=30)
    key = keys.load_private_key(out / "hub.key.pem")
    return Hub(key, cert, region.authority.cert)


@pytest.fixture
def hub(region: Region) -> Hub:
    return make_hub(region)


def signed(hub: Hub, size: int = 3, root: bytes = ROOT, log_id: str = "log-31-71") -> bytes:
    return treehead.sign_tree_head(treehead.make_tree_head(log_id, size, root, NOW), hub.key)


def resign(hub: Hub, value: object, payload_type: str = treehead.PAYLOAD_TYPE) -> bytes:
    payload = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
    return dsse.sign(payload_type, payload, hub.key).to_bytes()


def test_round_trip(hub):
    verified = treehead.verify_tree_head(signed(hub), hub.cert, hub.ca_cert, NOW)
    assert verified.head == treehead.TreeHead(
        "log-31-71", 3, ROOT, NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    assert verified.signer.role == "hub"
    assert verified.signer.name == "hub-31-71"


def test_payload_is_canonical_json_with_hex_root(hub):
    envelope = json.loads(signed(hub))
    assert envelope["payloadType"] == "application/vnd.tps-treehead+json"
    payload = base64.b64decode(envelope["payload"])
    assert payload == (
        b'{"format":"tps-treehead/1","log_id":"log-31-71","root_hash":"'
        + ROOT.hex().encode()
        + b'","timestamp":"'
        + NOW.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
        + b'","tree_size":3}'
    )


def test_timestamp_is_utc():
    wib = dt.timezone(dt.timedelta(hours=7))
    head = treehead.make_tree_head(
        "log-x1", 0, merkle.EMPTY_ROOT, dt.datetime(2024, 2, 15, 2, 0, 0, tzinfo=wib)
    )
    assert head.timestamp == "2024-02-14T19:00:00Z"
    with pytest.raises(ValueError, match="timezone"):
        treehead.make_tree_head("log-x1", 0, merkle.EMPTY_ROOT, dt.datetime(2024, 2, 14))


def test_pinned_log_id(hub):
    data = signed(hub)
    treehead.verify_tree_head(data, hub.cert, hub.ca_cert, NOW, log_id="log-31-71")
    with pytest.raises(TreeHeadError, match="not of 'log-31-72'"):
        treehead.verify_tree_head(data, hub.cert, hub.ca_cert, NOW, log_id="log-31-72")


def test_tampered_payload_fails_signature(hub):
    envelope = json.loads(signed(hub))
    payload = base64.b64decode(envelope["payload"]).replace(b'"tree_size":3', b'"tree_size":4')
    envelope["payload"] = base64.b64encode(payload).decode()
    with pytest.raises(BadSignatureError):
        treehead.verify_tree_head(json.dumps(envelope).encode(), hub.cert, hub.ca_cert, NOW)


def test_signed_by_another_key_is_unknown(hub, region):
    other = make_hub(region, "hub-other")
    with pytest.raises(UnknownKeyError):
        treehead.verify_tree_head(signed(other), hub.cert, hub.ca_cert, NOW)


def test_result_payload_type_is_refused(hub):
    head = treehead.make_tree_head("log-31-71", 3, ROOT, NOW)
    data = dsse.sign("application/vnd.tps-result+json", head.payload(), hub.key).to_bytes()
    with pytest.raises(WrongPayloadTypeError):
        treehead.verify_tree_head(data, hub.cert, hub.ca_cert, NOW)


def test_hub_certificate_from_another_region(hub, tmp_path):
    other = ca.init_ca(
        tmp_path / "other", region="32.73", name="KPU Lain", passphrase=PASSPHRASE, days=30
    )
    with pytest.raises(UntrustedIssuerError):
        treehead.verify_tree_head(signed(hub), hub.cert, other.cert, NOW)


def test_kit_certificate_cannot_sign_tree_heads(hub, region):
    kit = region.kit("31.71.01.1001.001")
    kit_key = keys.load_private_key(kit.directory / "kit.key.pem")
    data = signed(Hub(kit_key, kit.certificate, hub.ca_cert))
    with pytest.raises(CertificateProfileError):
        treehead.verify_tree_head(data, kit.certificate, hub.ca_cert, NOW)


def test_expired_hub_certificate(hub):
    with pytest.raises(CertificateExpiredError):
        treehead.verify_tree_head(signed(hub), hub.cert, hub.ca_cert, NOW + dt.timedelta(days=400))


def test_revoked_hub_certificate(hub, region):
    ca.revoke(region.authority, "hub-31-71")
    crl = region.authority.crl()
    with pytest.raises(RevokedError):
        treehead.verify_tree_head(signed(hub), hub.cert, hub.ca_cert, NOW, crl=crl)


def test_not_an_envelope(hub):
    with pytest.raises(MalformedEnvelopeError):
        treehead.verify_tree_head(b"not json", hub.cert, hub.ca_cert, NOW)


def _value(**changes: object) -> dict:
    value = treehead.make_tree_head("log-31-71", 3, ROOT, NOW).to_json_value()
    value.update(changes)
    return value


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (_value(tree_size=True), "tree_size"),
        (_value(tree_size=-1), "tree_size"),
        (_value(tree_size=2**53), "tree_size|outside"),
        (_value(root_hash=ROOT.hex().upper()), "root_hash"),
        (_value(root_hash=ROOT.hex()[:-2]), "root_hash"),
        (_value(timestamp="2024-02-14 19:00:00"), "timestamp"),
        (_value(format="tps-treehead/2"), "format"),
        (_value(log_id="Log/1"), "log_id"),
        (_value(extra="x"), "exactly the fields"),
        ({k: v for k, v in _value().items() if k != "timestamp"}, "exactly the fields"),
        ([1, 2], "exactly the fields"),
    ],
)
def test_malformed_payloads_are_refused(hub, value, match):
    with pytest.raises(TreeHeadError, match=match):
        treehead.verify_tree_head(resign(hub, value), hub.cert, hub.ca_cert, NOW)


def test_non_canonical_payload_is_refused(hub):
    payload = json.dumps(_value(), indent=1).encode()
    data = dsse.sign(treehead.PAYLOAD_TYPE, payload, hub.key).to_bytes()
    with pytest.raises(TreeHeadError, match="canonical"):
        treehead.verify_tree_head(data, hub.cert, hub.ca_cert, NOW)


def test_check_inclusion_and_consistency_against_heads():
    entries = [bytes([i]) * 10 for i in range(11)]
    hashes = [merkle.leaf_hash(e) for e in entries]
    old = treehead.make_tree_head("log-31-71", 6, merkle.root(hashes[:6]), NOW)
    new = treehead.make_tree_head("log-31-71", 11, merkle.root(hashes), NOW)
    treehead.check_inclusion(new, entries[7], 7, merkle.inclusion_proof(7, 11, hashes))
    with pytest.raises(merkle.InclusionProofError):
        treehead.check_inclusion(new, entries[8], 7, merkle.inclusion_proof(7, 11, hashes))
    proof = merkle.consistency_proof(6, 11, hashes)
    treehead.check_consistency(old, new, proof)
    with pytest.raises(merkle.ConsistencyProofError):
        treehead.check_consistency(new, old, proof)
    other_log = treehead.make_tree_head("log-32-73", 11, merkle.root(hashes), NOW)
    with pytest.raises(TreeHeadError, match="two logs"):
        treehead.check_consistency(old, other_log, proof)


def test_every_failure_is_a_verification_error():
    for error in (TreeHeadError, merkle.InclusionProofError, merkle.ConsistencyProofError):
        assert issubclass(error, VerificationError)


def test_hub_files_layout(hub, region):
    # The path a deployed hub loads its identity from (enrol_service's output).
    out: Path = region.root / "hub-31-71"
    assert sorted(p.name for p in out.iterdir()) == ["ca.cert.pem", "hub.cert.pem", "hub.key.pem"]
