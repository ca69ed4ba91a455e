"""hub.ingest on both backends: every verification failure, idempotency, versions, chain,
images, training results kept apart, and acks the kit can verify."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.config import parse_hub_config
from hub.errors import ConfigError
from hub.ingest import Inbound
from hub.store import CurrentChange
from hub.translog import TransparencyLog
from hub.translog.tiles import tile_bytes
from protocol import ack as acks
from protocol import tiles
from protocol.document import GENESIS
from protocol.result import sign_result, verify_result
from protocol.tiles import MAX_ENTRY
from provisioning import authority as ca
from tests.conftest import PASSPHRASE, kit_key, make_document
from tests.hub import test_store_support as support
from tests.hub.test_store_support import LIMITS, LOG_ID, document_sha, signed, utcnow

# Fixtures shared with the other hub test modules (both backends, the hub identity).
backend, store, hub_setup = support.backend, support.store, support.hub_setup

TPS_A, TPS_B = "31.71.01.1001.001", "31.71.01.1001.002"
P2 = hashlib.sha256(b"p2").hexdigest()


@pytest.fixture
def kits(hub_setup):
    return hub_setup.region.kit(TPS_A), hub_setup.region.kit(TPS_B)


@pytest.fixture
def ingestor(hub_setup, store):
    return hub_setup.ingestor(store)


def verify(hub_setup, ack: bytes, published: bytes | None = None) -> acks.VerifiedAck:
    return acks.verify_ack(ack, hub_setup.region.authority.cert, at=utcnow(), published=published)


def test_accepted_result_is_stored_logged_and_acked(hub_setup, kits, ingestor, store):
    kit, _ = kits
    data = signed(kit)
    outcome = ingestor.ingest_result(data, kit.kit_id, utcnow())
    assert (outcome.status, outcome.log_index, outcome.current) == ("accepted", 0, True)
    checked = verify(hub_setup, outcome.ack, published=data)  # proof to the signed head
    assert checked.ack.verdict == "accepted" and checked.ack.kit == kit.kit_id
    # Accepted acks are batched: proved to the batch's signed checkpoint, not signed alone.
    assert json.loads(outcome.ack)["format"] == acks.BATCH_FORMAT
    assert checked.checkpoint is not None and checked.checkpoint.origin == LOG_ID
    stored = store.current("pemilu-2024", TPS_A, "ppwp-plano")
    assert stored is not None and stored.signed == data and stored.ack == outcome.ack
    assert (stored.chain_status, stored.is_training, stored.source) == ("ok", False, "mqtt")
    assert TransparencyLog(store.log_storage(LOG_ID)).entry(0) == data  # leaf = bytes as sent


def _other_ca_kit(tmp_path):
    other = ca.init_ca(
        tmp_path / "other", region="31.71", name="Bukan KPU", passphrase=PASSPHRASE, days=30
    )
    from provisioning import enrol

    (tmp_path / "other-kits").mkdir()
    return enrol.enrol_kit(other, tps=TPS_A, election="pemilu-2024", out=tmp_path / "other-kits")


def _other_key(kit):
    # The kit's certificate, but a signature by some other key.
    return sign_result(make_document(kit), Ed25519PrivateKey.generate(), kit.certificate)


def _tampered(kit):
    # The kit's real signature over a document whose numbers were changed afterwards.
    bundle = json.loads(signed(kit))
    payload = json.loads(base64.b64decode(bundle["envelope"]["payload"]))
    payload["fields"]["IV.1"] += 100
    changed = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    bundle["envelope"]["payload"] = base64.b64encode(changed).decode()
    return json.dumps(bundle).encode()


def _unreadable_seq(kit):
    # A payload forged under a kit's real certificate whose seq json will not convert: the
    # signature fails, and naming the rejection must not trip over the payload.
    bundle = json.loads(signed(kit))
    forged = b'{"seq":' + b"9" * 5000 + b"}"
    bundle["envelope"]["payload"] = base64.b64encode(forged).decode()
    return json.dumps(bundle).encode()


CASES = {
    "forged signature": ("bad-signature", lambda s, a, b, t: (_tampered(a), a.kit_id)),
    "forged payload with an unreadable seq": (
        "bad-signature",
        lambda s, a, b, t: (_unreadable_seq(a), a.kit_id),
    ),
    "deeply nested JSON": ("malformed", lambda s, a, b, t: (b"[" * 60_000, a.kit_id)),
    "signed by another key": ("unknown-key", lambda s, a, b, t: (_other_key(a), a.kit_id)),
    "other CA": ("untrusted-issuer", lambda s, a, b, t: (signed(k := _other_ca_kit(t)), k.kit_id)),
    "cross-TPS document": (
        "binding",
        lambda s, a, b, t: (
            sign_result(make_document(a, tps=TPS_B), kit_key(a), a.certificate),
            a.kit_id,
        ),
    ),
    "topic kit is not the certificate's": (
        "topic-mismatch",
        lambda s, a, b, t: (signed(a), b.kit_id),
    ),
    "malformed JSON": (
        "malformed",
        lambda s, a, b, t: (b'{"format": "tps-signed-result/1", ', a.kit_id),
    ),
    "oversized": (
        "oversized",
        lambda s, a, b, t: (b"{" + b" " * LIMITS.max_result_bytes, a.kit_id),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_failure_is_stored_with_its_reason_and_acked(
    case, hub_setup, kits, ingestor, store, tmp_path
):
    code, make = CASES[case]
    kit_a, kit_b = kits
    data, topic_kit = make(hub_setup, kit_a, kit_b, tmp_path)
    outcome = ingestor.ingest_result(data, topic_kit, utcnow())
    assert (outcome.status, outcome.reason_code) == ("rejected", code), outcome.reason
    checked = verify(hub_setup, outcome.ack)
    assert checked.ack.verdict == "rejected" and checked.ack.reason_code == code
    assert checked.ack.kit == topic_kit
    assert checked.ack.document_sha256 == (
        outcome.document_sha256 or hashlib.sha256(data).hexdigest()
    )
    (rejection,) = store.rejections()
    assert (rejection.reason_code, rejection.topic_kit, rejection.raw_size) == (
        code,
        topic_kit,
        len(data),
    )
    assert rejection.reason == outcome.reason and rejection.ack == outcome.ack
    assert rejection.raw == data[: LIMITS.rejected_raw_bytes]  # evidence, size-capped
    assert store.counts()["documents"] == 0


def test_revoked_kit_is_rejected_by_crl_and_by_registry(hub_setup, kits, store):
    kit_a, kit_b = kits
    ca.revoke(hub_setup.region.authority, kit_a.kit_id)
    ingestor = hub_setup.ingestor(store)  # trust() reads the re-signed CRL
    outcome = ingestor.ingest_result(signed(kit_a), kit_a.kit_id, utcnow())
    assert (outcome.status, outcome.reason_code) == ("rejected", "revoked")
    # The registry may know of a revocation the hub's CRL file does not yet hold.
    by_registry = hub_setup.ingestor(
        store, hub_setup.trust(revoked_serials=frozenset({kit_b.certificate.serial_number}))
    )
    outcome = by_registry.ingest_result(signed(kit_b), kit_b.kit_id, utcnow())
    assert (outcome.status, outcome.reason_code) == ("rejected", "revoked")
    assert "registry" in outcome.reason
    verify(hub_setup, outcome.ack, published=signed(kit_b))


def test_same_document_twice_is_stored_once_with_the_same_ack(hub_setup, kits, ingestor, store):
    kit, _ = kits
    data = signed(kit)
    first = ingestor.ingest_result(data, kit.kit_id, utcnow())
    again = ingestor.ingest_result(data, kit.kit_id, utcnow() + dt.timedelta(seconds=5))
    assert again.status == "duplicate" and again.ack == first.ack
    assert len(store.versions("pemilu-2024", TPS_A, "ppwp-plano")) == 1
    assert support.version_count(store, "pemilu-2024", TPS_A, "ppwp-plano") == 1
    assert TransparencyLog(store.log_storage(LOG_ID)).size == 1
    # In one batch too (the broker redelivering while the first copy is in hand).
    other = signed(kit, seq=2, prev_sha256=document_sha(data))
    outcomes = ingestor.ingest_many([Inbound("result", kit.kit_id, other)] * 2, utcnow())
    assert [o.status for o in outcomes] == ["accepted", "duplicate"]
    assert outcomes[0].ack == outcomes[1].ack
    assert TransparencyLog(store.log_storage(LOG_ID)).size == 2


def test_accepted_document_keeps_its_ack_after_the_kit_is_revoked(hub_setup, kits, store):
    kit, _ = kits
    data = signed(kit)
    first = hub_setup.ingestor(store).ingest_result(data, kit.kit_id, utcnow())
    ca.revoke(hub_setup.region.authority, kit.kit_id)
    again = hub_setup.ingestor(store).ingest_result(data, kit.kit_id, utcnow())
    assert (again.status, again.ack) == ("duplicate", first.ack)


def test_repeated_rejection_is_counted_not_stored_again(kits, ingestor, store):
    kit, _ = kits
    first = ingestor.ingest_result(b"not json", kit.kit_id, utcnow())
    again = ingestor.ingest_result(b"not json", kit.kit_id, utcnow())
    assert again.ack == first.ack
    (rejection,) = store.rejections()
    assert rejection.times == 2


def test_newer_seq_becomes_current_and_every_version_is_kept(kits, ingestor, store):
    kit, _ = kits
    v1 = signed(kit, fields=_fields(112), evidence=_evidence())
    v2 = signed(kit, seq=2, prev_sha256=document_sha(v1), fields=_fields(113), evidence=_evidence())
    assert ingestor.ingest_result(v1, kit.kit_id, utcnow()).current
    second = ingestor.ingest_result(v2, kit.kit_id, utcnow())
    assert second.current and second.anomalies == ()
    current = store.current("pemilu-2024", TPS_A, "ppwp-plano")
    assert current is not None and current.seq == 2 and '"IV.1":113' in current.fields
    assert [d.seq for d in store.versions("pemilu-2024", TPS_A, "ppwp-plano")] == [1, 2]
    assert support.version_count(store, "pemilu-2024", TPS_A, "ppwp-plano") == 2


def test_late_old_version_does_not_replace_and_fills_the_gap(kits, ingestor, store):
    kit, _ = kits
    v1 = signed(kit)
    v2 = signed(kit, seq=2, prev_sha256=document_sha(v1), captured_at="2024-02-14T20:00:00Z")
    early = ingestor.ingest_result(v2, kit.kit_id, utcnow())  # out of order (two workers)
    assert early.anomalies == ("chain-gap",)
    late = ingestor.ingest_result(v1, kit.kit_id, utcnow())
    assert late.status == "accepted" and not late.current
    current = store.current("pemilu-2024", TPS_A, "ppwp-plano")
    assert current is not None and (current.seq, current.chain_status) == (2, "ok")
    assert [a.resolved for a in store.anomalies()] == [True]


def test_chain_gap_and_fork_are_stored_and_flagged_not_rejected(kits, ingestor, store):
    kit, _ = kits
    v1 = signed(kit)
    ingestor.ingest_result(v1, kit.kit_id, utcnow())
    gap = signed(kit, seq=3, prev_sha256=hashlib.sha256(b"seq 2, never seen").hexdigest())
    outcome = ingestor.ingest_result(gap, kit.kit_id, utcnow())
    assert (outcome.status, outcome.anomalies) == ("accepted", ("chain-gap",))
    fork = signed(kit, seq=2, prev_sha256=hashlib.sha256(b"not seq 1").hexdigest())
    outcome = ingestor.ingest_result(fork, kit.kit_id, utcnow())
    assert (outcome.status, outcome.anomalies) == ("accepted", ("chain-fork",))
    reused = signed(kit, seq=1, prev_sha256=GENESIS, captured_at="2024-02-14T19:30:00Z")
    outcome = ingestor.ingest_result(reused, kit.kit_id, utcnow())
    assert outcome.anomalies == ("seq-reused",)
    kinds = [(a.kind, a.resolved) for a in store.anomalies()]
    # seq 2 arrived but names another predecessor: seq 3's gap becomes a fork.
    assert kinds == [
        ("chain-gap", False),
        ("chain-fork", False),
        ("chain-fork", False),
        ("seq-reused", False),
    ]
    statuses = {d.seq: d.chain_status for d in store.versions("pemilu-2024", TPS_A, "ppwp-plano")}
    assert statuses == {1: "ok", 2: "fork", 3: "fork"}


def test_images_are_stored_only_when_a_document_of_that_kit_names_them(kits, ingestor, store):
    kit_a, kit_b = kits
    image = b"p2"  # make_document names sha256(b"p2") as page 2
    early = ingestor.ingest_image(image, kit_a.kit_id, P2, utcnow())
    assert (early.status, early.reason_code) == ("rejected", "unknown-image")
    assert early.ack is None  # images have no acknowledgement in the protocol
    ingestor.ingest_result(signed(kit_a), kit_a.kit_id, utcnow())
    assert ingestor.ingest_image(image, kit_a.kit_id, P2, utcnow()).status == "accepted"
    assert ingestor.ingest_image(image, kit_a.kit_id, P2, utcnow()).status == "duplicate"
    assert store.image(P2) == image
    wrong = ingestor.ingest_image(b"other bytes", kit_a.kit_id, P2, utcnow())
    assert wrong.reason_code == "image-mismatch"
    elsewhere = ingestor.ingest_image(image, kit_b.kit_id, P2, utcnow())
    assert elsewhere.reason_code == "unknown-image"  # named by kit a's document, not b's
    bad_topic = ingestor.ingest_image(image, kit_a.kit_id, "P2", utcnow())
    assert bad_topic.reason_code == "bad-topic"
    assert [r.reason_code for r in store.rejections()] == [
        "unknown-image",
        "image-mismatch",
        "unknown-image",
        "bad-topic",
    ]


def test_training_results_go_to_their_own_log_and_rows(hub_setup, store, ingestor):
    trainee = hub_setup.region.kit(TPS_A, election="latihan-2024")
    real = hub_setup.region.kit(TPS_B)
    training = ingestor.ingest_result(signed(trainee), trainee.kit_id, utcnow())
    verified = verify(hub_setup, training.ack, published=signed(trainee))
    assert verified.checkpoint is not None and verified.checkpoint.origin == LOG_ID + "-latihan"
    assert ingestor.ingest_result(signed(real), real.kit_id, utcnow()).log_index == 0
    stored = store.current("latihan-2024", TPS_A, "ppwp-plano")
    assert stored is not None and stored.is_training and stored.log_name == LOG_ID + "-latihan"
    rows = store.db.all("SELECT election, is_training FROM current_results ORDER BY election")
    assert rows == [("latihan-2024", 1), ("pemilu-2024", 0)]


def test_batch_signs_one_head_and_every_ack_proves(hub_setup, kits, ingestor, store):
    kit_a, kit_b = kits
    a1, b1 = signed(kit_a), signed(kit_b)
    messages = [
        Inbound("result", kit_a.kit_id, a1),
        Inbound("result", kit_b.kit_id, b"garbage"),
        Inbound("result", kit_b.kit_id, b1),
        Inbound("image", kit_a.kit_id, b"p2", P2),  # its document is earlier in the batch
    ]
    outcomes = ingestor.ingest_many(messages, utcnow())
    assert [o.status for o in outcomes] == ["accepted", "rejected", "accepted", "accepted"]
    heads = {
        verify(hub_setup, o.ack, published=d).checkpoint
        for o, d in ((outcomes[0], a1), (outcomes[2], b1))
    }
    assert len(heads) == 1 and next(iter(heads)).tree_size == 2
    # One hub signature for the batch: the same signed checkpoint in every accepted ack.
    notes = {json.loads(outcomes[i].ack)["ack"]["checkpoint"] for i in (0, 2)}
    assert len(notes) == 1


def test_current_hook_runs_in_the_transaction(hub_setup, kits, store):
    changes: list[CurrentChange] = []
    ingestor = hub_setup.ingestor(store, hooks=[lambda s, change: changes.append(change)])
    kit, _ = kits
    v1 = signed(kit)
    first = ingestor.ingest_result(v1, kit.kit_id, utcnow())
    ingestor.ingest_result(signed(kit, seq=2, prev_sha256=document_sha(v1)), kit.kit_id, utcnow())
    assert [c.previous_document_id for c in changes] == [
        None,
        store.find_document(first.document_sha256).id,
    ]

    def fail(_store, _change):
        raise RuntimeError("recap failed")

    failing = hub_setup.ingestor(store, hooks=[fail])
    with pytest.raises(RuntimeError):
        failing.ingest_result(signed(kits[1]), kits[1].kit_id, utcnow())
    assert store.counts()["documents"] == 2  # rolled back with the hook: nothing half-stored
    assert TransparencyLog(store.log_storage(LOG_ID)).size == 2
    assert failing.ingest_many([], utcnow()) == []


def test_stale_hub_trust_defers_without_an_ack(kits, ingestor, store):
    kit, _ = kits
    later = utcnow() + dt.timedelta(days=400)  # the CA and CRL have expired by then
    outcome = ingestor.ingest_result(signed(kit), kit.kit_id, later)
    assert (outcome.status, outcome.reason_code, outcome.ack) == ("deferred", "hub-trust", None)


def test_unanswerable_topic_is_stored_without_an_ack(ingestor, store):
    outcome = ingestor.ingest_result(b"{}", "Not+A/Kit", utcnow())
    assert (outcome.status, outcome.reason_code, outcome.ack) == ("rejected", "bad-topic", None)
    assert store.rejections()[0].topic_kit == "Not+A/Kit"


def _fields(iv1: int) -> dict[str, int]:
    return {"IV.1": iv1, "IV.2": 97, "IV.3": 41, "V.A": iv1 + 138, "V.B": 6, "V.C": iv1 + 144}


def _evidence() -> dict[str, dict[str, object]]:
    return {k: {"confidence": 9990, "decision": "read"} for k in _fields(0)}


def test_outcome_is_a_plain_value():
    assert dataclasses.is_dataclass(Inbound)


def test_two_workers_share_one_database_without_forking_the_log(backend, hub_setup, kits):
    import threading

    from hub.translog import MemoryStorage

    stores = [backend.open_store(), backend.open_store()]
    try:
        workers = [hub_setup.ingestor(s) for s in stores]
        chains: list[list[bytes]] = []
        for kit in kits:
            chain, prev = [], GENESIS
            for seq in range(1, 9):
                data = signed(kit, seq=seq, prev_sha256=prev)
                chain.append(data)
                prev = document_sha(data)
            chains.append(chain)
        outcomes: list[list] = [[], []]

        def run(n: int) -> None:
            kit = kits[n]
            for data in chains[n]:
                outcomes[n].append((data, workers[n].ingest_result(data, kit.kit_id, utcnow())))

        threads = [threading.Thread(target=run, args=(n,)) for n in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        done = [pair for per in outcomes for pair in per]
        assert len(done) == 16 and all(o.status == "accepted" for _, o in done)
        for data, outcome in done:
            verify(hub_setup, outcome.ack, published=data)
        log = TransparencyLog(stores[0].log_storage(LOG_ID))
        replay = TransparencyLog(MemoryStorage())
        replay.append_many(log.storage.entries(0, 16))
        assert log.root() == replay.root()
        assert sorted(o.log_index for _, o in done) == list(range(16))
        assert [a.kind for a in stores[0].anomalies()] == []
    finally:
        for s in stores:
            s.close()


def test_a_kit_sending_an_oversized_signed_result_cannot_break_the_logs_entry_bundles(
    hub_setup, kits, store
):
    kit_a, kit_b = kits
    defaults = parse_hub_config({"hub": {"id": "hub-uji", "log_id": LOG_ID}}).limits
    ingestor = hub_setup.ingestor(store, limits=defaults)
    honest = signed(kit_a)
    assert ingestor.ingest_result(honest, kit_a.kit_id, utcnow()).status == "accepted"
    # JSON whitespace after a genuine signed result: its signature still holds, and it is
    # larger than any entry an entry bundle can hold (a uint16 length).
    padded = signed(kit_b) + b" " * MAX_ENTRY
    verify_result(padded, hub_setup.region.authority.cert, at=utcnow())
    outcome = ingestor.ingest_result(padded, kit_b.kit_id, utcnow())
    assert (outcome.status, outcome.reason_code) == ("rejected", "oversized"), outcome.reason
    (stored,) = store.rejections()
    assert (stored.reason_code, stored.raw_size) == ("oversized", len(padded))
    storage = store.log_storage(LOG_ID)
    assert storage.size() == 1  # never logged
    bundle = tile_bytes(storage, tiles.TileId(None, 0, 1))
    assert tiles.decode_bundle(bundle, 1) == [honest]
    with pytest.raises(ConfigError, match=r"limits\.max_result_bytes 1048576 is above 65535"):
        parse_hub_config(
            {"hub": {"id": "hub-uji", "log_id": LOG_ID}, "limits": {"max_result_bytes": 1 << 20}}
        )
