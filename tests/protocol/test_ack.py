"""The hub's signed acknowledgement, one test per way a kit could be fooled."""

import base64
import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from protocol import ack as acks
from protocol import checkpoint, keys, merkle, treehead
from protocol.certs import load_certificate
from protocol.errors import (
    BadSignatureError,
    CertificateProfileError,
    RevokedError,
    UntrustedIssuerError,
)
from protocol.note import NoteError
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


# -- batched acks: one signed checkpoint for the batch, an inclusion proof per ack ----------


def _batched(hub, kit, doc, published, others=(), *, signer=None, index=None, verdict=None):
    key, cert = hub
    entries = [*others, published]
    leaves = [merkle.leaf_hash(e) for e in entries]
    leaf = len(entries) - 1
    note = checkpoint.sign(
        checkpoint.make("log-3171", len(entries), merkle.root(leaves)), signer or key
    )
    value = {
        "format": "tps-ack/1",
        "hub": "hub-3171",
        "kit": kit.kit_id,
        "seq": doc.seq,
        "document_sha256": doc.sha256(),
        "verdict": verdict or "accepted",
        "reason_code": "",
        "reason": "",
        "at": format_utc(NOW),
        "log_index": leaf if index is None else index,
        "inclusion_proof": [h.hex() for h in merkle.inclusion_proof(leaf, len(entries), leaves)],
        "checkpoint": note.decode(),
    }
    return acks.batched_ack(value, cert.public_bytes(Encoding.PEM).decode())


def test_kit_accepts_a_batched_ack_proved_to_the_signed_checkpoint(region, hub):
    kit, doc, published = _published(region)
    _, _, other = _published(region, "31.71.01.1001.002")
    data = _batched(hub, kit, doc, published, others=[other, other + b" "])
    assert json.loads(data)["format"] == "tps-batched-ack/1" and b"signatures" not in data
    verified = acks.verify_ack(data, region.authority.cert, at=NOW, published=published)
    assert verified.checkpoint is not None and verified.checkpoint.tree_size == 3
    assert verified.ack.verdict == "accepted" and verified.hub.name == "hub-3171"


def test_batched_ack_with_a_checkpoint_not_signed_by_its_hub_is_refused(region, hub):
    kit, doc, published = _published(region)
    forged = _batched(hub, kit, doc, published, signer=kit_key(kit))  # kit's key, hub's cert
    with pytest.raises(NoteError, match="no signature by a trusted key"):
        acks.verify_ack(forged, region.authority.cert, at=NOW, published=published)


def test_batched_ack_from_a_hub_certificate_of_another_region_is_refused(region, hub, tmp_path):
    kit, doc, published = _published(region)
    other = ca.init_ca(
        tmp_path / "other", region="32.73", name="KPU Lain", passphrase=PASSPHRASE, days=30
    )
    out = tmp_path / "other-hub"
    enrol_service(other, role="hub", name="hub-3171", out=out, days=30)
    impostor = (
        keys.load_private_key(out / "hub.key.pem"),
        load_certificate((out / "hub.cert.pem").read_bytes()),
    )
    with pytest.raises(UntrustedIssuerError):
        acks.verify_ack(
            _batched(impostor, kit, doc, published),
            region.authority.cert,
            at=NOW,
            published=published,
        )


def test_batched_ack_mismatched_to_the_document_or_leaf_is_refused(region, hub):
    kit, doc, published = _published(region)
    _, _, other = _published(region, "31.71.01.1001.002")
    data = _batched(hub, kit, doc, published, others=[other])
    with pytest.raises(acks.AckError, match="another document"):
        acks.verify_ack(data, region.authority.cert, at=NOW, published=other)
    with pytest.raises(merkle.InclusionProofError):  # the proof of leaf 1 claimed for leaf 0
        acks.verify_ack(
            _batched(hub, kit, doc, published, others=[other], index=0),
            region.authority.cert,
            at=NOW,
            published=published,
        )
    value = json.loads(data)
    value["ack"]["checkpoint"] = value["ack"]["checkpoint"].replace("\n2\n", "\n3\n")
    with pytest.raises(NoteError, match="does not hold"):  # its size changed after signing
        acks.verify_ack(json.dumps(value).encode(), region.authority.cert, at=NOW)


def test_an_unsigned_rejection_is_refused(region, hub):
    kit, doc, published = _published(region)
    value = json.loads(_batched(hub, kit, doc, published))
    value["ack"].update(verdict="rejected", reason_code="revoked", reason="x")
    for name in ("log_index", "inclusion_proof", "checkpoint"):
        del value["ack"][name]
    with pytest.raises(acks.AckError):
        acks.verify_ack(json.dumps(value).encode(), region.authority.cert, at=NOW)


def test_an_ack_proving_the_result_in_another_log_is_refused(region, hub):
    kit, doc, published = _published(region)
    for data in (_accepted(hub, kit, doc, published), _batched(hub, kit, doc, published)):
        acks.verify_ack(data, region.authority.cert, at=NOW, published=published, log_id="log-3171")
        with pytest.raises(acks.AckError, match="log 'log-3171', not 'log-3171-latihan'"):
            acks.verify_ack(
                data, region.authority.cert, at=NOW, published=published, log_id="log-3171-latihan"
            )
