"""The whole path: kits' signed results into the hub's log, a signed tree head from a real
hub identity, and a verifier that holds nothing but bytes (PEM certificates, the tree head,
the entry, the proof) checking inclusion and consistency with protocol/ alone."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from hub.translog import TransparencyLog
from protocol import certs, keys, merkle, treehead
from protocol.errors import VerificationError
from protocol.result import sign_result, verify_result
from provisioning.services import enrol_service
from tests.conftest import Region, kit_key, make_document
from tests.hub.translog_support import sqlite_log

LOG_ID = "log-31-71-pemilu-2024"


def _publish_ack(log: TransparencyLog, head: bytes, index: int) -> bytes:
    """What the hub would put in an ack or serve: index, proof, tree head (all as text)."""
    size = treehead.parse_tree_head(_payload(head)).tree_size
    proof = log.inclusion_proof(index, size)
    return json.dumps(
        {"leaf_index": index, "proof": [h.hex() for h in proof], "tree_head": head.decode()}
    ).encode()


def _payload(head: bytes) -> bytes:
    # The hub reads back its own head; a third party goes through verify_tree_head.
    return base64.b64decode(json.loads(head)["payload"])


def _verify_ack(
    ack: bytes, entry: bytes, hub_pem: bytes, ca_pem: bytes, at: dt.datetime
) -> treehead.TreeHead:
    """A third party: PEM files and the published bytes, no access to the hub."""
    value = json.loads(ack)
    verified = treehead.verify_tree_head(
        value["tree_head"].encode(),
        certs.load_certificate(hub_pem),
        certs.load_certificate(ca_pem),
        at,
        log_id=LOG_ID,
    )
    proof = [bytes.fromhex(h) for h in value["proof"]]
    treehead.check_inclusion(verified.head, entry, value["leaf_index"], proof)
    return verified.head


@pytest.fixture
def hub_dir(region: Region) -> Path:
    out = region.root / "hub"
    enrol_service(region.authority, role="hub", name="hub-31-71", out=out, days=30)
    return out


def test_results_logged_proved_and_verified_from_bytes(region, hub_dir, tmp_path):
    now = dt.datetime.now(dt.UTC)
    hub_key = keys.load_private_key(hub_dir / "hub.key.pem")
    hub_pem = (hub_dir / "hub.cert.pem").read_bytes()
    ca_pem = (hub_dir / "ca.cert.pem").read_bytes()
    assert ca_pem == region.authority.cert.public_bytes(Encoding.PEM)

    # The hub: verify each kit's signed result, then log the bytes exactly as received.
    results = []
    for n in range(1, 8):
        kit = region.kit(f"31.71.01.1001.{n:03d}")
        results.append(sign_result(make_document(kit), kit_key(kit), kit.certificate))
    log = TransparencyLog(sqlite_log(tmp_path / "hub.db"))
    for data in results:
        verify_result(data, region.authority.cert, at=now)
    indexes = log.append_many(results)
    first_head = log.sign_tree_head(hub_key, LOG_ID, now)

    # Each kit gets its ack; anyone re-checks it with the PEM files alone.
    for index, data in zip(indexes, results, strict=True):
        ack = _publish_ack(log, first_head, index)
        head = _verify_ack(ack, data, hub_pem, ca_pem, now)
        assert (head.tree_size, head.root_hash) == (7, merkle.root_of_entries(results))

    # The log grows; the older head must be a prefix of the newer one.
    kit = region.kit("31.71.01.1001.008")
    later = sign_result(make_document(kit, seq=1), kit_key(kit), kit.certificate)
    log.append(later)
    second_head = log.sign_tree_head(hub_key, LOG_ID, now + dt.timedelta(minutes=1))
    old = treehead.parse_tree_head(_payload(first_head))
    new = treehead.parse_tree_head(_payload(second_head))
    served = json.dumps([h.hex() for h in log.consistency_proof(old.tree_size)])
    treehead.check_consistency(old, new, [bytes.fromhex(h) for h in json.loads(served)])
    _verify_ack(_publish_ack(log, second_head, 7), later, hub_pem, ca_pem, now)

    # The leaf is the bytes as published: the same result re-serialised is not in the log.
    respaced = json.dumps(json.loads(results[2]), indent=1).encode()
    with pytest.raises(merkle.InclusionProofError, match="leads to root"):
        _verify_ack(_publish_ack(log, first_head, 2), respaced, hub_pem, ca_pem, now)
    # A proof for one leaf does not vouch for its neighbour.
    with pytest.raises(VerificationError):
        _verify_ack(_publish_ack(log, first_head, 2), results[3], hub_pem, ca_pem, now)
