"""Proof documents (protocol/proofs.py): built over a reference log of real signed results,
with tree heads signed by a real hub certificate from a real region CA, and verified with
nothing else. Each negative test is named after the attack it stops."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol import keys, merkle, proofs, treehead
from protocol.errors import (
    BadSignatureError,
    CertificateExpiredError,
    CertificateProfileError,
    ProtocolError,
    RevokedError,
    UnknownKeyError,
    UntrustedIssuerError,
    VerificationError,
)
from protocol.merkle import ConsistencyProofError, InclusionProofError
from protocol.proofs import ProofDocumentError
from protocol.result import sign_result
from protocol.treehead import TreeHeadError
from provisioning import authority as ca
from provisioning import enrol
from provisioning.services import enrol_service
from tests.conftest import PASSPHRASE, kit_key, make_document

# Read at collection: an hour on, so it is past every CA a test makes (backdated five
# minutes) however long the suite runs before this module.
NOW = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
LOG = "log-3171"
TRAINING_LOG = "log-3171-latihan"
TPS = "31.71.01.1001.001"


@dataclass
class Hub:
    name: str
    key: Ed25519PrivateKey
    cert: x509.Certificate


@dataclass
class World:
    """One region: its CA, its hub, a second hub, a kit and the results it signed."""

    authority: ca.Authority
    hub: Hub
    other_hub: Hub
    kit: enrol.EnrolledKit
    results: list[bytes]  # seq 1..8, each a signed-result file's bytes

    @property
    def ca_cert(self) -> x509.Certificate:
        return self.authority.cert


def make_hub(authority: ca.Authority, out: Path, name: str) -> Hub:
    cert = enrol_service(authority, role="hub", name=name, out=out / name, days=30)
    return Hub(name, keys.load_private_key(out / name / "hub.key.pem"), cert)


def make_world(root: Path) -> World:
    authority = ca.init_ca(
        root / "ca", region="31.71", name="KPU Kota Uji", passphrase=PASSPHRASE, days=30
    )
    (root / "kits").mkdir()
    kit = enrol.enrol_kit(authority, tps=TPS, election="pemilu-2024", out=root / "kits")
    results = [
        sign_result(make_document(kit, seq=seq), kit_key(kit), kit.certificate)
        for seq in range(1, 9)
    ]
    hub, other = make_hub(authority, root, "hub-3171"), make_hub(authority, root, "hub-3171-b")
    return World(authority, hub, other, kit, results)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(tmp_path_factory.mktemp("region"))


def sign_head(hub: Hub, entries: list[bytes], log_id: str = LOG, at: dt.datetime = NOW) -> bytes:
    root = merkle.root_of_entries(entries)
    return treehead.sign_tree_head(treehead.make_tree_head(log_id, len(entries), root, at), hub.key)


def inclusion(
    hub: Hub, entries: list[bytes], index: int, log_id: str = LOG
) -> proofs.InclusionDocument:
    """What the hub serves for the result at ``index`` of a log holding ``entries``."""
    leaves = [merkle.leaf_hash(e) for e in entries]
    return proofs.InclusionDocument(
        log_id=log_id,
        document_sha256=proofs.entry_document_sha256(entries[index]),
        leaf_index=index,
        tree_size=len(entries),
        proof=tuple(merkle.inclusion_proof(index, len(entries), leaves)),
        tree_head=sign_head(hub, entries, log_id),
    )


def consistency(
    hub: Hub, old: list[bytes], new: list[bytes], log_id: str = LOG
) -> proofs.ConsistencyDocument:
    """What the hub serves from a head over ``old`` to one over ``new``, proved over ``new``."""
    leaves = [merkle.leaf_hash(e) for e in new]
    return proofs.ConsistencyDocument(
        log_id=log_id,
        old_size=len(old),
        new_size=len(new),
        old_tree_head=sign_head(hub, old, log_id),
        new_tree_head=sign_head(hub, new, log_id),
        proof=tuple(merkle.consistency_proof(len(old), len(new), leaves)),
    )


def check_inclusion(world: World, doc: proofs.InclusionDocument, entry: bytes, **kw: object):
    hub_cert = kw.pop("hub_cert", world.hub.cert)
    return proofs.verify_inclusion(doc, entry, hub_cert, world.ca_cert, NOW, **kw)  # type: ignore[arg-type]


def check_consistency(world: World, doc: proofs.ConsistencyDocument, **kw: object):
    hub_cert = kw.pop("hub_cert", world.hub.cert)
    return proofs.verify_consistency(doc, hub_cert, world.ca_cert, NOW, **kw)  # type: ignore[arg-type]


def round_trip_inclusion(doc: proofs.InclusionDocument) -> proofs.InclusionDocument:
    return proofs.parse_inclusion(doc.to_bytes())


# -- inclusion: what holds ---------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
def test_every_result_is_proved_included_at_its_index(world, size):
    entries = world.results[:size]
    for index, entry in enumerate(entries):
        doc = round_trip_inclusion(inclusion(world.hub, entries, index))
        verified = check_inclusion(world, doc, entry, log_id=LOG)
        assert verified.leaf_index == index and verified.head.tree_size == size
        assert verified.head.root_hash == merkle.root_of_entries(entries)
        assert verified.hub.name == "hub-3171" and verified.hub.role == "hub"


def test_document_is_canonical_json_with_exactly_the_documented_fields(world):
    doc = inclusion(world.hub, world.results[:5], 2)
    value = json.loads(doc.to_bytes())
    assert doc.to_bytes() == json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
    assert set(value) == {
        "format",
        "log_id",
        "document_sha256",
        "leaf_index",
        "tree_size",
        "inclusion_proof",
        "tree_head",
    }
    assert value["format"] == "tps-inclusion/1" and value["log_id"] == LOG
    assert (value["leaf_index"], value["tree_size"]) == (2, 5)
    assert all(len(h) == 64 for h in value["inclusion_proof"])
    assert base64.b64decode(value["tree_head"]) == doc.tree_head


def test_any_json_encoding_of_the_document_reads_the_same(world):
    doc = inclusion(world.hub, world.results[:5], 4)
    pretty = json.dumps(doc.to_json_value(), indent=2).encode()  # as a web server may send it
    assert proofs.parse_inclusion(pretty) == doc


def test_the_leaf_is_the_published_file_as_a_whole(world):
    # The log hashes the file's bytes (envelope and kit certificate), not only the payload.
    entries = world.results[:3]
    doc = inclusion(world.hub, entries, 1)
    assert doc.proof and merkle.leaf_hash(entries[1]) != merkle.leaf_hash(b"")
    check_inclusion(world, doc, entries[1])


# -- inclusion: attacks ------------------------------------------------------------------------


def test_rejects_proof_for_other_document(world):
    entries = world.results[:6]
    doc = inclusion(world.hub, entries, 2)
    with pytest.raises(InclusionProofError) as caught:
        check_inclusion(world, doc, entries[3])
    assert caught.value.reason == "other-document"


def test_rejects_proof_relabelled_for_other_document(world):
    # The document hash is only a label: changing it to the other result's does not make
    # the proof for leaf 2 prove leaf 3's bytes.
    entries = world.results[:6]
    doc = dataclasses.replace(
        inclusion(world.hub, entries, 2),
        document_sha256=proofs.entry_document_sha256(entries[3]),
    )
    with pytest.raises(InclusionProofError) as caught:
        check_inclusion(world, doc, entries[3])
    assert caught.value.reason == "root-mismatch"


def test_rejects_result_not_in_the_log(world):
    # A proof built for a log that never held this result: it names this document, but the
    # path leads from its leaf to another root than the signed one.
    logged = world.results[:4]
    doc = dataclasses.replace(
        inclusion(world.hub, logged, 1),
        document_sha256=proofs.entry_document_sha256(world.results[7]),
    )
    with pytest.raises(InclusionProofError):
        check_inclusion(world, doc, world.results[7])


def test_rejects_re_encoded_result_file(world):
    # Same signed payload, other bytes: the log proves the bytes as published, nothing else.
    entries = world.results[:4]
    doc = inclusion(world.hub, entries, 1)
    re_encoded = json.dumps(json.loads(entries[1]), indent=1).encode()
    with pytest.raises(InclusionProofError) as caught:
        check_inclusion(world, doc, re_encoded)
    assert caught.value.reason == "root-mismatch"


def test_rejects_leaf_index_moved(world):
    entries = world.results[:7]
    doc = dataclasses.replace(inclusion(world.hub, entries, 2), leaf_index=3)
    with pytest.raises(InclusionProofError) as caught:
        check_inclusion(world, doc, entries[2])
    assert caught.value.reason == "root-mismatch"


def test_rejects_truncated_proof(world):
    entries = world.results[:7]
    full = inclusion(world.hub, entries, 2)
    doc = dataclasses.replace(full, proof=full.proof[:-1])
    with pytest.raises(InclusionProofError) as caught:
        check_inclusion(world, doc, entries[2])
    assert caught.value.reason == "proof-too-short"


def test_rejects_padded_proof(world):
    entries = world.results[:7]
    full = inclusion(world.hub, entries, 2)
    doc = dataclasses.replace(full, proof=(*full.proof, full.proof[0]))
    with pytest.raises(InclusionProofError) as caught:
        check_inclusion(world, doc, entries[2])
    assert caught.value.reason == "proof-too-long"


def test_rejects_claimed_size_other_than_the_signed_one(world):
    # A smaller claimed size would make a shorter proof look right to a careless reader.
    entries = world.results[:7]
    doc = dataclasses.replace(inclusion(world.hub, entries, 2), tree_size=4)
    with pytest.raises(InclusionProofError) as caught:
        check_inclusion(world, doc, entries[2])
    assert caught.value.reason == "size-mismatch"


def test_rejects_tree_head_signed_by_other_hub(world):
    # A hub of the same region, but not the one the reader trusts for this log.
    entries = world.results[:5]
    doc = inclusion(world.other_hub, entries, 1)
    with pytest.raises(UnknownKeyError):
        check_inclusion(world, doc, entries[1])
    check_inclusion(world, doc, entries[1], hub_cert=world.other_hub.cert)


def test_rejects_hub_certificate_from_other_ca(world, tmp_path):
    # Someone's own CA, with the same region and names: its hub is not this region's hub.
    stranger = make_world(tmp_path)
    entries = stranger.results[:3]
    doc = inclusion(stranger.hub, entries, 0)
    with pytest.raises(UntrustedIssuerError):
        check_inclusion(world, doc, entries[0], hub_cert=stranger.hub.cert)


def test_rejects_tree_head_signed_by_a_kit(world):
    # A kit's certificate chains to the CA too, but it is not a hub's.
    entries = world.results[:3]
    kit = Hub("kit", kit_key(world.kit), world.kit.certificate)
    doc = inclusion(kit, entries, 0)
    with pytest.raises(CertificateProfileError):
        check_inclusion(world, doc, entries[0], hub_cert=world.kit.certificate)


def test_rejects_tampered_tree_head(world):
    entries = world.results[:4]
    doc = inclusion(world.hub, entries, 0)
    envelope = json.loads(doc.tree_head)
    payload = json.loads(base64.b64decode(envelope["payload"]))
    payload["tree_size"] = 3  # the hub signed 4
    envelope["payload"] = base64.b64encode(
        json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    ).decode()
    forged = dataclasses.replace(doc, tree_head=json.dumps(envelope).encode(), tree_size=3)
    with pytest.raises(BadSignatureError):
        check_inclusion(world, forged, entries[0])


def test_rejects_tree_head_of_other_log(world):
    # A real result proved against the training log's head, relabelled as the real log.
    entries = world.results[:4]
    training = inclusion(world.hub, entries, 1, log_id=TRAINING_LOG)
    with pytest.raises(TreeHeadError, match="log-3171-latihan"):
        check_inclusion(world, dataclasses.replace(training, log_id=LOG), entries[1])
    # Honestly labelled, it holds, unless the reader asks for the real log.
    check_inclusion(world, training, entries[1])
    with pytest.raises(TreeHeadError):
        check_inclusion(world, training, entries[1], log_id=LOG)


def test_rejects_revoked_hub(tmp_path):
    world = make_world(tmp_path)
    entries = world.results[:2]
    doc = inclusion(world.hub, entries, 0)
    ca.revoke(world.authority, world.hub.name)
    with pytest.raises(RevokedError):
        check_inclusion(world, doc, entries[0], crl=world.authority.crl())


def test_rejects_expired_hub_certificate(world):
    entries = world.results[:2]
    doc = inclusion(world.hub, entries, 0)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    with pytest.raises(CertificateExpiredError):
        proofs.verify_inclusion(doc, entries[0], world.hub.cert, world.ca_cert, later)


# -- consistency -------------------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new"), [(1, 1), (1, 8), (3, 7), (4, 8), (5, 6), (7, 8)])
def test_a_grown_log_is_proved_consistent(world, old, new):
    doc = consistency(world.hub, world.results[:old], world.results[:new])
    parsed = proofs.parse_consistency(doc.to_bytes())
    assert parsed == doc
    verified = check_consistency(world, parsed, log_id=LOG)
    assert (verified.old.tree_size, verified.new.tree_size) == (old, new)
    assert verified.hub.name == "hub-3171"


def test_consistency_document_has_exactly_the_documented_fields(world):
    value = consistency(world.hub, world.results[:3], world.results[:6]).to_json_value()
    assert set(value) == {
        "format",
        "log_id",
        "old_size",
        "new_size",
        "old_tree_head",
        "new_tree_head",
        "consistency_proof",
    }
    assert (value["format"], value["old_size"], value["new_size"]) == ("tps-consistency/1", 3, 6)


def test_rejects_inconsistent_rewritten_log(world):
    # The hub signed a head over 3 results, then rewrote result 1 and kept appending: its
    # new head is honestly signed, but no proof can link it to the old one.
    old = world.results[:3]
    rewritten = [old[0], world.results[7], old[2], *world.results[3:7]]
    doc = dataclasses.replace(
        consistency(world.hub, rewritten[:3], rewritten),
        old_tree_head=sign_head(world.hub, old),
    )
    with pytest.raises(ConsistencyProofError) as caught:
        check_consistency(world, doc)
    assert caught.value.reason == "old-root-mismatch"
    # Nor does the honest log's proof fit the rewritten head.
    honest = consistency(world.hub, old, world.results[:7])
    forged = dataclasses.replace(honest, new_tree_head=sign_head(world.hub, rewritten))
    with pytest.raises(ConsistencyProofError) as caught:
        check_consistency(world, forged)
    assert caught.value.reason == "new-root-mismatch"


def test_rejects_grown_log_head_dated_before_the_smaller_one(world):
    # Both heads honestly signed and provably consistent, but the larger tree is dated an
    # hour before the smaller: the hub is showing two views of its log, not one that grows.
    doc = consistency(world.hub, world.results[:3], world.results[:6])
    earlier = NOW - dt.timedelta(hours=1)
    backdated = dataclasses.replace(
        doc, new_tree_head=sign_head(world.hub, world.results[:6], at=earlier)
    )
    with pytest.raises(ConsistencyProofError) as caught:
        check_consistency(world, backdated)
    assert caught.value.reason == "time-backwards"
    # The same heads in time order pass.
    in_order = dataclasses.replace(
        doc, old_tree_head=sign_head(world.hub, world.results[:3], at=earlier)
    )
    assert check_consistency(world, in_order).new.tree_size == 6


def test_rejects_forked_log_of_the_same_size(world):
    one = world.results[:3]
    other = [*world.results[:2], world.results[5]]
    doc = dataclasses.replace(
        consistency(world.hub, one, one), new_tree_head=sign_head(world.hub, other)
    )
    with pytest.raises(ConsistencyProofError) as caught:
        check_consistency(world, doc)
    assert caught.value.reason == "root-fork"


def test_rejects_truncated_consistency_proof(world):
    full = consistency(world.hub, world.results[:3], world.results[:7])
    doc = dataclasses.replace(full, proof=full.proof[:-1])
    with pytest.raises(ConsistencyProofError) as caught:
        check_consistency(world, doc)
    assert caught.value.reason == "proof-too-short"


def test_rejects_consistency_across_two_logs(world):
    # The training log's head cannot stand in for the real log's past.
    doc = dataclasses.replace(
        consistency(world.hub, world.results[:3], world.results[:6]),
        old_tree_head=sign_head(world.hub, world.results[:3], TRAINING_LOG),
    )
    with pytest.raises(TreeHeadError, match="log-3171-latihan"):
        check_consistency(world, doc)


def test_rejects_tree_head_of_other_log_for_consistency(world):
    doc = consistency(world.hub, world.results[:3], world.results[:6], log_id=TRAINING_LOG)
    check_consistency(world, doc)
    with pytest.raises(TreeHeadError):
        check_consistency(world, doc, log_id=LOG)


def test_rejects_swapped_tree_heads(world):
    doc = consistency(world.hub, world.results[:3], world.results[:6])
    swapped = dataclasses.replace(
        doc, old_tree_head=doc.new_tree_head, new_tree_head=doc.old_tree_head
    )
    with pytest.raises(ConsistencyProofError) as caught:
        check_consistency(world, swapped)
    assert caught.value.reason == "size-mismatch"


def test_rejects_consistency_head_signed_by_other_hub(world):
    doc = dataclasses.replace(
        consistency(world.hub, world.results[:3], world.results[:6]),
        new_tree_head=sign_head(world.other_hub, world.results[:6]),
    )
    with pytest.raises(UnknownKeyError):
        check_consistency(world, doc)


# -- strict parsing ----------------------------------------------------------------------------


def _inclusion_value(world: World) -> dict:
    return inclusion(world.hub, world.results[:5], 2).to_json_value()


def _parse(value: object) -> proofs.InclusionDocument:
    return proofs.parse_inclusion(json.dumps(value).encode())


def test_rejects_unknown_field(world):
    value = {**_inclusion_value(world), "verified": "yes"}
    with pytest.raises(ProofDocumentError) as caught:
        _parse(value)
    assert caught.value.problems == {"verified": "unknown field"}


def test_rejects_unknown_field_in_consistency_proof(world):
    value = consistency(world.hub, world.results[:3], world.results[:6]).to_json_value()
    with pytest.raises(ProofDocumentError, match="root_hash: unknown field"):
        proofs.parse_consistency(json.dumps({**value, "root_hash": "00"}).encode())


def test_names_every_wrong_field_at_once(world):
    value = _inclusion_value(world)
    del value["tree_head"]
    value.update(
        format="tps-inclusion/2",
        log_id="Log/3171",
        document_sha256="ABC",
        leaf_index=True,
        inclusion_proof=["00" * 31],
    )
    with pytest.raises(ProofDocumentError) as caught:
        _parse(value)
    assert set(caught.value.problems) == {
        "format",
        "log_id",
        "document_sha256",
        "leaf_index",
        "inclusion_proof",
        "tree_head",
    }
    assert caught.value.problems["tree_head"] == "missing"
    assert "tps-inclusion/2" in str(caught.value) and "[0]" in str(caught.value)


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("leaf_index", -1),
        ("leaf_index", 5),  # not in a tree of 5
        ("tree_size", 2**53),
        ("tree_size", "5"),
        ("inclusion_proof", "00" * 32),
        ("inclusion_proof", ["00" * 32] * 129),
        ("tree_head", "not base64!"),
        ("tree_head", ""),
    ],
)
def test_rejects_malformed_field(world, field, bad):
    with pytest.raises(ProofDocumentError) as caught:
        _parse({**_inclusion_value(world), field: bad})
    assert list(caught.value.problems) == [field]


@pytest.mark.parametrize(
    "data",
    [
        b"[]",
        b"not json",
        b'{"format": "tps-inclusion/1", "format": "tps-inclusion/1"}',
        b'{"leaf_index": 1.0}',
        b'{"leaf_index": NaN}',
        b"\xff",
        b" " * (proofs.MAX_DOCUMENT_BYTES + 1),
    ],
)
def test_rejects_what_is_not_a_proof_document(data):
    with pytest.raises(ProofDocumentError):
        proofs.parse_inclusion(data)


def test_rejects_consistency_document_whose_sizes_shrink(world):
    value = consistency(world.hub, world.results[:3], world.results[:6]).to_json_value()
    with pytest.raises(ProofDocumentError) as caught:
        proofs.parse_consistency(json.dumps({**value, "old_size": 7}).encode())
    assert list(caught.value.problems) == ["new_size"]


def test_every_error_is_in_the_protocol_tree(world):
    for error in (ProofDocumentError, InclusionProofError, ConsistencyProofError, TreeHeadError):
        assert issubclass(error, VerificationError) and issubclass(error, ProtocolError)
