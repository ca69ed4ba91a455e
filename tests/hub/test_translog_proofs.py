"""hub.translog.proofs: proof documents built from a real store, filled through the real
ingest path, and checked by protocol.proofs with only the hub's and the CA's certificates."""

from __future__ import annotations

import base64
import json

import pytest

from hub.ingest import Inbound
from hub.translog.proofs import (
    ProofRequestError,
    consistency_document,
    inclusion_document,
    latest_tree_head,
)
from protocol import proofs
from protocol.merkle import InclusionProofError
from protocol.treehead import TreeHeadError
from tests.hub import test_store_support as support
from tests.hub.test_store_support import LOG_ID, document_sha, signed, utcnow

backend, store, hub_setup = support.backend, support.store, support.hub_setup

TRAINING_LOG = LOG_ID + "-latihan"
TPS_A, TPS_B = "31.71.01.1001.001", "31.71.01.1001.002"


def chain(kit, count: int, first_seq: int = 1, prev: str | None = None) -> list[bytes]:
    """``count`` linked results of one kit, as it would publish them."""
    results: list[bytes] = []
    for seq in range(first_seq, first_seq + count):
        extra = {} if prev is None else {"prev_sha256": prev}
        results.append(signed(kit, seq=seq, **extra))
        prev = document_sha(results[-1])
    return results


def ingest(ingestor, kit, results: list[bytes]) -> None:
    """One batch: one transaction and one signed tree head per log."""
    outcomes = ingestor.ingest_many([Inbound("result", kit.kit_id, r) for r in results], utcnow())
    assert [o.status for o in outcomes] == ["accepted"] * len(results)


@pytest.fixture
def two_batches(hub_setup, store):
    """A log of 5 results, signed at sizes 3 (first batch) and 5 (second batch)."""
    kit = hub_setup.region.kit(TPS_A)
    results = chain(kit, 5)
    ingestor = hub_setup.ingestor(store)
    ingest(ingestor, kit, results[:3])
    ingest(ingestor, kit, results[3:])
    return results


def verify_inclusion(hub_setup, value: dict, entry: bytes, **kw) -> proofs.VerifiedInclusion:
    # Through JSON, as the API sends it.
    doc = proofs.parse_inclusion(json.dumps(value).encode())
    authority = hub_setup.region.authority
    return proofs.verify_inclusion(
        doc, entry, hub_setup.signer.certificate, authority.cert, utcnow(), **kw
    )


def verify_consistency(hub_setup, value: dict, **kw) -> proofs.VerifiedConsistency:
    doc = proofs.parse_consistency(json.dumps(value).encode())
    authority = hub_setup.region.authority
    return proofs.verify_consistency(
        doc, hub_setup.signer.certificate, authority.cert, utcnow(), **kw
    )


# -- inclusion ---------------------------------------------------------------------------------


def test_every_stored_result_is_proved_against_the_latest_signed_head(
    hub_setup, store, two_batches
):
    for index, data in enumerate(two_batches):
        value = inclusion_document(store, document_sha(data))
        assert value is not None
        assert (value["log_id"], value["leaf_index"], value["tree_size"]) == (LOG_ID, index, 5)
        verified = verify_inclusion(hub_setup, value, data, log_id=LOG_ID)
        assert verified.head.tree_size == 5 and verified.hub.name == support.HUB_ID


def test_the_proof_uses_the_head_the_hub_stored(store, two_batches):
    value = inclusion_document(store, document_sha(two_batches[0]))
    latest = latest_tree_head(store, LOG_ID)
    assert value is not None and latest is not None
    assert value["tree_head"] == latest["tree_head"]  # no head is signed on request


def test_inclusion_at_an_older_signed_head(hub_setup, store, two_batches):
    value = inclusion_document(store, document_sha(two_batches[1]), tree_size=3)
    assert value is not None and value["tree_size"] == 3
    verify_inclusion(hub_setup, value, two_batches[1])


@pytest.mark.parametrize(
    ("leaf", "size", "message"),
    [(1, 4, "no tree head of size 4"), (3, 3, "is leaf 3"), (1, 0, "not a positive integer")],
)
def test_inclusion_refuses_sizes_the_hub_did_not_sign(store, two_batches, leaf, size, message):
    with pytest.raises(ProofRequestError, match=message):
        inclusion_document(store, document_sha(two_batches[leaf]), tree_size=size)


def test_unknown_document_has_no_proof(store, two_batches):
    assert inclusion_document(store, "0" * 64) is None


def test_malformed_document_hash_is_a_bad_request(store):
    with pytest.raises(ProofRequestError, match="document_sha256"):
        inclusion_document(store, "not-a-hash")


def test_proof_does_not_fit_another_stored_result(hub_setup, store, two_batches):
    value = inclusion_document(store, document_sha(two_batches[0]))
    assert value is not None
    with pytest.raises(InclusionProofError):
        verify_inclusion(hub_setup, value, two_batches[1])


# -- consistency -------------------------------------------------------------------------------


def test_consistency_between_two_batches(hub_setup, store, two_batches):
    value = consistency_document(store, LOG_ID, 3)
    assert (value["log_id"], value["old_size"], value["new_size"]) == (LOG_ID, 3, 5)
    verified = verify_consistency(hub_setup, value, log_id=LOG_ID)
    assert (verified.old.tree_size, verified.new.tree_size) == (3, 5)
    assert consistency_document(store, LOG_ID, 3, 5) == value
    same = consistency_document(store, LOG_ID, 5, 5)
    assert same["consistency_proof"] == []
    verify_consistency(hub_setup, same)


def test_a_monitor_extends_the_head_it_holds(hub_setup, store):
    # Someone keeps the latest head after each batch, then asks for the next step.
    kit = hub_setup.region.kit(TPS_A)
    results = chain(kit, 6)
    ingestor = hub_setup.ingestor(store)
    held = None
    for batch in (results[:1], results[1:4], results[4:]):
        ingest(ingestor, kit, batch)
        latest = latest_tree_head(store, LOG_ID)
        assert latest is not None
        if held is not None:
            value = consistency_document(store, LOG_ID, held["tree_size"])
            assert value["old_tree_head"] == held["tree_head"]
            assert value["new_tree_head"] == latest["tree_head"]
            verified = verify_consistency(hub_setup, value, log_id=LOG_ID)
            assert verified.new.root_hash.hex() == latest["root_hash"]
        held = latest


@pytest.mark.parametrize(
    ("log", "old", "new", "message"),
    [
        (LOG_ID, 2, None, "no tree head of size 2"),
        (LOG_ID, 3, 4, "no tree head of size 4"),
        (LOG_ID, 5, 3, "above new_size 3"),
        (LOG_ID, 0, None, "old_size 0 is not a positive integer"),
        (LOG_ID, True, None, "old_size True"),
        (LOG_ID, 3, -1, "new_size -1"),
        ("log-lain", 3, None, "log 'log-lain'"),
        ("Log/3171", 3, None, "log"),
    ],
)
def test_consistency_refuses_what_the_hub_did_not_sign(store, two_batches, log, old, new, message):
    with pytest.raises(ProofRequestError, match=message):
        consistency_document(store, log, old, new)


# -- the training log --------------------------------------------------------------------------


def test_training_results_are_proved_in_their_own_log(hub_setup, store):
    real_kit = hub_setup.region.kit(TPS_B)
    trainee = hub_setup.region.kit(TPS_A, election="latihan-2024")
    real, training = chain(real_kit, 3), chain(trainee, 2)
    ingestor = hub_setup.ingestor(store)
    ingest(ingestor, trainee, training[:1])
    ingest(ingestor, real_kit, real)
    ingest(ingestor, trainee, training[1:])

    value = inclusion_document(store, document_sha(training[1]))
    assert value is not None
    assert (value["log_id"], value["leaf_index"], value["tree_size"]) == (TRAINING_LOG, 1, 2)
    verify_inclusion(hub_setup, value, training[1], log_id=TRAINING_LOG)
    with pytest.raises(TreeHeadError):  # a reader following the real log refuses it
        verify_inclusion(hub_setup, value, training[1], log_id=LOG_ID)

    real_value = inclusion_document(store, document_sha(real[2]))
    assert real_value is not None and (real_value["log_id"], real_value["tree_size"]) == (
        LOG_ID,
        3,
    )
    verify_inclusion(hub_setup, real_value, real[2], log_id=LOG_ID)

    heads = {log: latest_tree_head(store, log) for log in (LOG_ID, TRAINING_LOG)}
    assert {log: h["tree_size"] for log, h in heads.items() if h} == {LOG_ID: 3, TRAINING_LOG: 2}
    verify_consistency(hub_setup, consistency_document(store, TRAINING_LOG, 1), log_id=TRAINING_LOG)
    with pytest.raises(ProofRequestError, match="above new_size 2"):
        consistency_document(store, TRAINING_LOG, 3)  # the real log's size, not this one's


# -- the latest head ---------------------------------------------------------------------------


def test_latest_tree_head_is_readable_and_signed(hub_setup, store, two_batches):
    latest = latest_tree_head(store, LOG_ID)
    assert latest is not None
    assert set(latest) == {"log_id", "tree_size", "root_hash", "timestamp", "tree_head"}
    verified = proofs.verify_head(
        base64.b64decode(latest["tree_head"]),
        hub_setup.signer.certificate,
        hub_setup.region.authority.cert,
        utcnow(),
    )
    head = verified.head
    assert (latest["log_id"], latest["tree_size"], latest["timestamp"]) == (
        head.log_id,
        head.tree_size,
        head.timestamp,
    )
    assert latest["root_hash"] == head.root_hash.hex() and head.tree_size == 5
    json.dumps(latest)  # JSON-ready as it is


def test_a_log_without_heads_has_no_latest_head(store):
    assert latest_tree_head(store, LOG_ID) is None
    assert latest_tree_head(store, "log-lain") is None
    with pytest.raises(ProofRequestError, match="log"):
        latest_tree_head(store, "Log/3171")
