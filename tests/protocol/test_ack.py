"""The hub's signed acknowledgement, one test per way a kit could be fooled."""

import base64
import datetime as dt
import json

import pytest

from protocol import ack as acks
from protocol import keys, merkle, treehead
from protocol.certs import load_certificate
from protocol.errors import (
    BadSignatureError,
    CertificateProfileError,
    RevokedError,
    UntrustedIssuerError,
)
from protocol.result import sign_result
from protocol.utctime import format_utc
from provisioning import authority as ca
from provisioning.services import enrol_service
from tests.conftest import PASSPHRASE, kit_key, make_document

# Read at collection: an hour on, so it is past every CA a test makes (backdated five
# minutes) however long the suite runs before this module.
NOW = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)


@pytest.fixture
def hub(region):
    out = region.root / "hub"
    enrol_service(region.authority, role="hub", name="hub-3171", out=out, days=30)
    key = keys.load_private_key(out / "hub.key.pem")
    cert = load_certificate((out / "hub.cert.pem").read_bytes())
    return key, cert


def _published(region, tps="31.71.01.1001.001"):
    kit = region.kit(tps)
    doc = make_document(kit)
    return kit, doc, sign_result(doc, kit_key(kit), kit.certificate)


def _accepted(hub, kit, doc, published, others=()):
    key, cert = hub
    entries = [*others, published]
    leaves = [merkle.leaf_hash(e) for e in entries]
    index = len(entries) - 1
    head = treehead.make_tree_head("log-3171", len(entries), merkle.root(leaves), NOW)
    ack = acks.Ack(
        format="tps-ack/1",
        hub="hub-3171",
        kit=kit.kit_id,
        seq=doc.seq,
        document_sha256=doc.sha256(),
        verdict="accepted",
        at=format_utc(NOW),
        log_index=index,
        inclusion_proof=[h.hex() for h in merkle.inclusion_proof(index, len(entries), leaves)],
        tree_head=base64.b64encode(treehead.sign_tree_head(head, key)).decode(),
    )
    return acks.sign_ack(ack, key, cert)


def test_accepted_ack_proves_the_published_bytes_are_in_the_log(region, hub):
    kit, doc, published = _published(region)
    _, _, other = _published(region, "31.71.01.1001.002")
    data = _accepted(hub, kit, doc, published, others=[other, other + b" "])
    verified = acks.verify_ack(data, region.authority.cert, at=NOW, published=published)
    assert verified.ack.verdict == "accepted" and verified.tree_head.tree_size == 3
    assert verified.hub.name == "hub-3171"


def test_rejected_ack_names_its_reason(region, hub):
    kit, doc, published = _published(region)
    key, cert = hub
    ack = acks.Ack(
        format="tps-ack/1",
        hub="hub-3171",
        kit=kit.kit_id,
        seq=1,
        document_sha256=doc.sha256(),
        verdict="rejected",
        reason_code=acks.reason_code(RevokedError("x")),
        reason="kit revoked",
        at=format_utc(NOW),
    )
    verified = acks.verify_ack(
        acks.sign_ack(ack, key, cert), region.authority.cert, at=NOW, published=published
    )
    assert (verified.ack.verdict, verified.ack.reason_code) == ("rejected", "revoked")


def test_rejects_ack_for_another_document(region, hub):
    kit, doc, published = _published(region)
    _, _, other = _published(region, "31.71.01.1001.002")
    data = _accepted(hub, kit, doc, published)
    with pytest.raises(acks.AckError, match="another document"):
        acks.verify_ack(data, region.authority.cert, at=NOW, published=other)


def test_rejects_ack_whose_proof_does_not_hold(region, hub):
    kit, doc, published = _published(region)
    data = _accepted(hub, kit, doc, published)
    with pytest.raises(merkle.InclusionProofError):
        acks.verify_ack(data, region.authority.cert, at=NOW, published=published + b" ")


def test_rejects_ack_signed_by_a_kit_not_a_hub(region):
    kit, doc, _ = _published(region)
    ack = acks.Ack(
        format="tps-ack/1",
        hub=kit.kit_id,
        kit=kit.kit_id,
        seq=1,
        document_sha256=doc.sha256(),
        verdict="rejected",
        reason_code="binding",
        reason="forged",
        at=format_utc(NOW),
    )
    data = acks.sign_ack(ack, kit_key(kit), kit.certificate)
    with pytest.raises(CertificateProfileError, match="urn:x-tps:hub"):
        acks.verify_ack(data, region.authority.cert, at=NOW)


def test_rejects_ack_from_a_hub_of_another_ca(region, hub, tmp_path):
    other = ca.init_ca(
        tmp_path / "o", region="31.71", name="Forger", passphrase=PASSPHRASE, days=30
    )
    enrol_service(other, role="hub", name="hub-3171", out=tmp_path / "oh", days=30)
    key = keys.load_private_key(tmp_path / "oh" / "hub.key.pem")
    cert = load_certificate((tmp_path / "oh" / "hub.cert.pem").read_bytes())
    kit, doc, published = _published(region)
    data = _accepted((key, cert), kit, doc, published)
    with pytest.raises(UntrustedIssuerError):
        acks.verify_ack(data, region.authority.cert, at=NOW, published=published)


def test_rejects_tampered_verdict(region, hub):
    kit, doc, _ = _published(region)
    key, cert = hub
    ack = acks.Ack(
        format="tps-ack/1",
        hub="hub-3171",
        kit=kit.kit_id,
        seq=1,
        document_sha256=doc.sha256(),
        verdict="rejected",
        reason_code="binding",
        reason="x",
        at=format_utc(NOW),
    )
    bundle = json.loads(acks.sign_ack(ack, key, cert))
    payload = base64.b64decode(bundle["envelope"]["payload"]).replace(b"binding", b"bindinG")
    bundle["envelope"]["payload"] = base64.b64encode(payload).decode()
    with pytest.raises(BadSignatureError):
        acks.verify_ack(json.dumps(bundle).encode(), region.authority.cert, at=NOW)


def test_accepted_ack_must_carry_its_proof():
    with pytest.raises(ValueError, match="carries log_index"):
        acks.Ack(
            format="tps-ack/1",
            hub="hub-1",
            kit="kit-1",
            seq=1,
            document_sha256="0" * 64,
            verdict="accepted",
            at="2024-02-14T20:00:00Z",
        )
