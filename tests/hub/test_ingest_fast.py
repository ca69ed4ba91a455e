"""The fast ingest path changes nothing a kit or an auditor can see: judging in a pool of
processes gives the same verdicts, acks and log as judging in process, a fresh CRL reaches
the pool, the quick ack encoding is protocol's byte for byte, and batched recap totals
equal a sum from scratch (on both backends)."""

from __future__ import annotations

import hashlib
import json
import os
import signal

import pytest

from hub.config import parse_hub_config
from hub.errors import ConfigError
from hub.ingest import Inbound
from hub.recap import RecapHook, RecapReader, rebuild
from hub.store import ResultStore
from hub.translog import TransparencyLog
from protocol import ack as acks
from provisioning import authority as ca
from tests.hub import test_store_support as support
from tests.hub.test_recap import ELECTION, FORM, full_form, recap_rows, reference
from tests.hub.test_store_support import LOG_ID, document_sha, signed, utcnow

backend, store, hub_setup = support.backend, support.store, support.hub_setup

TPS = ("31.71.01.1001.001", "31.71.01.1001.002", "31.71.01.1002.001", "31.71.02.2001.001")


def _batch(kits) -> list[Inbound]:
    """Every kind of message a batch can hold: chains, a rescan, a repeat within the batch,
    another kit's document on a topic, garbage, a tampered signature and an image."""
    a, b, c = kits
    a1 = signed(a, **full_form(1))
    a2 = signed(a, seq=2, prev_sha256=document_sha(a1), **full_form(2))
    b1 = signed(b, **full_form(3))
    c2 = signed(c, seq=2, **full_form(4))  # its seq 1 never came: a chain gap
    tampered = json.loads(b1)
    tampered["envelope"]["signatures"][0]["sig"] = "A" * 86 + "=="
    return [
        Inbound("result", a.kit_id, a1),
        Inbound("result", a.kit_id, a2),
        Inbound("result", b.kit_id, b1),
        Inbound("result", b.kit_id, b1),
        Inbound("result", c.kit_id, c2),
        Inbound("result", a.kit_id, b1),
        Inbound("result", c.kit_id, b"\xff not json"),
        Inbound("result", b.kit_id, json.dumps(tampered).encode()),
        Inbound("image", a.kit_id, b"p2", hashlib.sha256(b"p2").hexdigest()),
    ]


def test_the_pool_gives_the_same_verdicts_acks_and_log(hub_setup, store, tmp_path):
    kits = [hub_setup.region.kit(t) for t in TPS[:3]]
    messages = _batch(kits)
    now = utcnow()
    in_process = ResultStore.open(str(tmp_path / "reference.sqlite3"), now=now)
    reference_ingestor = hub_setup.ingestor(in_process, hooks=[RecapHook()])
    pooled = hub_setup.ingestor(store, hooks=[RecapHook()], workers=2)
    try:
        expected = reference_ingestor.ingest_many(messages, now)
        got = pooled.ingest_many(messages, now)
        assert pooled.judging_pids(), "the batch was judged in the pool"
    finally:
        pooled.close()
    assert got == expected  # statuses, reasons, log indexes and every signed ack byte
    assert [o.status for o in got] == [
        "accepted",
        "accepted",
        "accepted",
        "duplicate",
        "accepted",
        "rejected",
        "rejected",
        "rejected",
        "accepted",  # the image: page 2 of kit a's documents names it
    ]
    assert [o.reason_code for o in got][5:8] == ["topic-mismatch", "malformed", "bad-signature"]
    log, reference_log = (TransparencyLog(s.log_storage(LOG_ID)) for s in (store, in_process))
    assert log.size == 4 and log.root() == reference_log.root()
    for outcome, message in zip(got[:5], messages[:5], strict=True):
        checked = acks.verify_ack(
            outcome.ack, hub_setup.region.authority.cert, at=now, published=message.data
        )
        assert checked.ack.verdict == "accepted"
    in_process.close()


def test_tasks_the_pool_has_not_started_are_judged_by_the_caller(hub_setup, store):
    kits = [hub_setup.region.kit(t) for t in TPS[:3]]
    messages = [m for m in _batch(kits) if m.kind == "result"] * 25  # 200: four tasks
    now = utcnow()
    expected = hub_setup.ingestor(store).judge(messages, now).verdicts()
    pooled = hub_setup.ingestor(store, workers=1)
    try:
        pooled.warm_up()
        judging = pooled.judge(messages, now)
        got = judging.verdicts()  # at once: one process cannot have started every task
    finally:
        pooled.close()
    assert 0 < judging.judged_here < len(messages)
    assert got == expected


def test_a_fresh_crl_reaches_the_pool(hub_setup, store):
    kit, other = hub_setup.region.kit(TPS[0]), hub_setup.region.kit(TPS[1])
    ingestor = hub_setup.ingestor(store, workers=2)
    try:
        first = [Inbound("result", kit.kit_id, signed(kit, seq=s)) for s in (1, 2)]
        first += [Inbound("result", other.kit_id, signed(other, seq=s)) for s in (1, 2)]
        assert {o.status for o in ingestor.ingest_many(first, utcnow())} == {"accepted"}
        ca.revoke(hub_setup.region.authority, kit.kit_id)
        ingestor.trust = hub_setup.trust()  # what a hub restarted with the new CRL holds
        later = [Inbound("result", kit.kit_id, signed(kit, seq=s)) for s in (3, 4)]
        later += [Inbound("result", other.kit_id, signed(other, seq=s)) for s in (3, 4)]
        outcomes = ingestor.ingest_many(later, utcnow())
    finally:
        ingestor.close()
    assert [(o.status, o.reason_code) for o in outcomes] == [
        ("rejected", "revoked"),
        ("rejected", "revoked"),
        ("accepted", ""),
        ("accepted", ""),
    ]


def test_a_killed_judging_process_does_not_stop_ingest(hub_setup, store):
    kits = [hub_setup.region.kit(t) for t in TPS]
    ingestor = hub_setup.ingestor(store, workers=2)
    try:
        first = [Inbound("result", k.kit_id, signed(k)) for k in kits]
        assert {o.status for o in ingestor.ingest_many(first, utcnow())} == {"accepted"}
        os.kill(ingestor.judging_pids()[0], signal.SIGKILL)  # the OOM killer, say
        later = [Inbound("result", k.kit_id, signed(k, seq=2)) for k in kits]
        outcomes = ingestor.ingest_many(later, utcnow())
        assert [o.status for o in outcomes] == ["accepted"] * len(TPS)
        # The death is seen by the batch that next uses the pool (this one or the next, as
        # the pool notices it); the batch after that judges in a fresh pool.
        for seq in (3, 4):
            again = [Inbound("result", k.kit_id, signed(k, seq=seq)) for k in kits]
            assert {o.status for o in ingestor.ingest_many(again, utcnow())} == {"accepted"}
        assert ingestor.judging_pids(), "a fresh pool took over"
    finally:
        ingestor.close()
    assert store.counts()["documents"] == 4 * len(TPS)


def test_batched_recap_equals_the_sum_from_scratch(hub_setup, store):
    """Many TPS in one transaction, rescans inside the same batch and in a later one, and a
    rescan that drops a field: every region row equals a sum over the counting versions."""
    kits = [hub_setup.region.kit(t) for t in TPS]
    ingestor = hub_setup.ingestor(store, hooks=[RecapHook()])
    firsts = [signed(k, **full_form(10 + n)) for n, k in enumerate(kits)]
    batch = [Inbound("result", k.kit_id, d) for k, d in zip(kits, firsts, strict=True)]
    rescan = signed(kits[0], seq=2, prev_sha256=document_sha(firsts[0]), **full_form(20))
    batch.append(Inbound("result", kits[0].kit_id, rescan))
    assert {o.status for o in ingestor.ingest_many(batch, utcnow())} == {"accepted"}
    assert recap_rows(store, ELECTION, FORM) == reference(store, ELECTION, FORM)

    dropped = full_form(21)
    for part in ("fields", "evidence"):
        dropped[part].pop("IV.3")
    later = [
        signed(kits[0], seq=3, prev_sha256=document_sha(rescan), **dropped),
        signed(kits[1], seq=2, prev_sha256=document_sha(firsts[1]), **full_form(22)),
    ]
    outcomes = ingestor.ingest_many(
        [Inbound("result", kits[n].kit_id, d) for n, d in enumerate(later)], utcnow()
    )
    assert {o.status for o in outcomes} == {"accepted"}
    incremental = recap_rows(store, ELECTION, FORM)
    assert incremental == reference(store, ELECTION, FORM)
    assert RecapReader(store).region(ELECTION, FORM).tps_reported == len(TPS)
    rebuild(store)
    assert recap_rows(store, ELECTION, FORM) == incremental


def test_a_failed_batch_leaves_no_recap_behind(hub_setup, store):
    """The hook's collected totals go with a rolled-back batch, not into the next one."""
    kit = hub_setup.region.kit(TPS[0])
    hook = RecapHook()

    def refuse(_store, _change):
        raise RuntimeError("the database went away")

    failing = hub_setup.ingestor(store, hooks=[hook, refuse])
    with pytest.raises(RuntimeError):
        failing.ingest_many([Inbound("result", kit.kit_id, signed(kit, **full_form(1)))], utcnow())
    assert store.counts()["documents"] == 0
    working = hub_setup.ingestor(store, hooks=[hook])
    data = signed(kit, **full_form(2))
    assert working.ingest_many([Inbound("result", kit.kit_id, data)], utcnow())[0].current
    assert recap_rows(store, ELECTION, FORM) == reference(store, ELECTION, FORM)


def _config(**ingest: object) -> dict[str, object]:
    return {"hub": {"id": "hub-3171", "log_id": "log-3171"}, "ingest": ingest}


def test_ingest_workers_setting():
    assert parse_hub_config(_config(workers=3)).ingest.judging_processes == 3
    assert parse_hub_config(_config(workers=0)).ingest.judging_processes == 0
    usable = len(os.sched_getaffinity(0))
    assert parse_hub_config(_config()).ingest.judging_processes == max(1, usable - 1)
    with pytest.raises(ConfigError):
        parse_hub_config(_config(threads=2))
    with pytest.raises(ConfigError):
        parse_hub_config(_config(workers=-1))


def test_a_chain_read_once_per_batch_sees_the_batch_before_it(hub_setup, store, tmp_path):
    """The batch's chain neighbours are read once (ResultStore.batch_chains) and kept up to
    date as it places its documents: a batch holding a seq, its reuse, a fork and a gap
    ends as the same documents sent one by one (in the batch's chain order) do."""
    kit = hub_setup.region.kit(TPS[0])
    v1 = signed(kit, **full_form(1))
    reused = signed(kit, captured_at="2024-02-14T19:30:00Z", **full_form(2))
    fork = signed(kit, seq=2, prev_sha256=hashlib.sha256(b"not seq 1").hexdigest())
    after = signed(kit, seq=3, prev_sha256=document_sha(fork), **full_form(3))
    gap = signed(kit, seq=5, prev_sha256=hashlib.sha256(b"seq 4").hexdigest())
    in_order = [v1, reused, fork, after, gap]
    now = utcnow()
    one_by_one = ResultStore.open(str(tmp_path / "one-by-one.sqlite3"), now=now)
    reference = hub_setup.ingestor(one_by_one)
    expected = [reference.ingest_result(data, kit.kit_id, now) for data in in_order]
    arrival = [gap, after, fork, v1, reused]  # the batch stores them in chain order
    batched = hub_setup.ingestor(store).ingest_many(
        [Inbound("result", kit.kit_id, data) for data in arrival], now
    )
    got = {o.document_sha256: o.anomalies for o in batched}
    assert [got[o.document_sha256] for o in expected] == [o.anomalies for o in expected]

    def chain(s: ResultStore) -> list[tuple[int, str]]:
        return sorted((d.seq, d.chain_status) for d in s.versions(ELECTION, TPS[0], FORM))

    assert chain(store) == chain(one_by_one)
    assert [(a.kind, a.resolved) for a in store.anomalies()] == [
        (a.kind, a.resolved) for a in one_by_one.anomalies()
    ]
    one_by_one.close()
