"""Which version counts, against the attacks on it, through the real ingest path and the
recapitulation on both backends: a kit's clock orders nothing, a capture time ahead of the
hub is flagged, revocation keeps what came before it, a compromised kit counts nowhere."""

from __future__ import annotations

import datetime as dt

from hub.decide import declare_compromised
from hub.recap import RecapReader, recap_hook
from hub.store import ResultStore
from provisioning import authority as ca
from tests.hub import test_store_support as support
from tests.hub.test_recap import ELECTION, FORM, TPS, assert_matches_reference, full_form
from tests.hub.test_store_support import document_sha, signed, utcnow

backend, store, hub_setup = support.backend, support.store, support.hub_setup


def whole(store: ResultStore) -> tuple[int, dict[str, int]] | None:
    totals = RecapReader(store).region(ELECTION, FORM)
    return None if totals is None else (totals.tps_reported, totals.totals)


def kinds(store: ResultStore) -> list[str]:
    return [a.kind for a in store.anomalies()]


def test_a_kit_dating_its_result_2099_does_not_outrank_its_replacement(hub_setup, store):
    rogue = hub_setup.region.kit(TPS[0])
    dated_2099 = signed(rogue, captured_at="2099-12-31T23:59:59Z", **full_form(5))
    outcome = hub_setup.ingestor(store, hooks=[recap_hook]).ingest_result(
        dated_2099, rogue.kit_id, utcnow()
    )
    assert outcome.current and "clock-ahead" in outcome.anomalies  # stored, counted, flagged
    ca.revoke(hub_setup.region.authority, rogue.kit_id)
    replacement = hub_setup.region.kit(TPS[0])
    fresh = hub_setup.ingestor(store, hooks=[recap_hook])  # trust with the re-signed CRL
    first = signed(replacement, **full_form(6))
    assert fresh.ingest_result(first, replacement.kit_id, utcnow()).current
    assert whole(store) == (1, full_form(6)["fields"])
    rescan = signed(replacement, seq=2, prev_sha256=document_sha(first), **full_form(7))
    assert fresh.ingest_result(rescan, replacement.kit_id, utcnow()).current
    assert whole(store) == (1, full_form(7)["fields"])
    assert kinds(store).count("clock-ahead") == 1
    assert_matches_reference(store)


def test_a_capture_time_within_the_skew_is_not_flagged(hub_setup, store):
    kit = hub_setup.region.kit(TPS[0])
    now = utcnow()
    soon = (now + dt.timedelta(minutes=9)).strftime("%Y-%m-%dT%H:%M:%SZ")
    outcome = hub_setup.ingestor(store).ingest_result(
        signed(kit, captured_at=soon, **full_form(1)), kit.kit_id, now
    )
    assert outcome.status == "accepted" and outcome.anomalies == ()


def test_a_revoked_kits_earlier_result_keeps_counting_and_its_later_one_is_refused(
    hub_setup, store
):
    lost = hub_setup.region.kit(TPS[0])
    v1 = signed(lost, **full_form(2))
    hub_setup.ingestor(store, hooks=[recap_hook]).ingest_result(v1, lost.kit_id, utcnow())
    ca.revoke(hub_setup.region.authority, lost.kit_id)
    after = hub_setup.ingestor(store, hooks=[recap_hook])
    v2 = signed(lost, seq=2, prev_sha256=document_sha(v1), **full_form(3))
    assert after.ingest_result(v2, lost.kit_id, utcnow()).status == "rejected"
    assert whole(store) == (1, full_form(2)["fields"])


def test_a_stolen_kits_results_stop_counting_once_declared_compromised(hub_setup, store):
    # TPS[0]: its first kit broke after reporting and was replaced; the replacement was
    # stolen and the thief signed a "rescan". TPS[1]: its only kit was stolen.
    broken = hub_setup.region.kit(TPS[0])
    ingest = hub_setup.ingestor(store, hooks=[recap_hook]).ingest_result
    ingest(signed(broken, **full_form(2)), broken.kit_id, utcnow())
    ca.revoke(hub_setup.region.authority, broken.kit_id)
    replacement, stolen = hub_setup.region.kit(TPS[0]), hub_setup.region.kit(TPS[1])
    ingest = hub_setup.ingestor(store, hooks=[recap_hook]).ingest_result
    r1 = signed(replacement, **full_form(3))
    ingest(r1, replacement.kit_id, utcnow())
    forged = signed(replacement, seq=2, prev_sha256=document_sha(r1), **full_form(4))
    assert ingest(forged, replacement.kit_id, utcnow()).current
    s1 = signed(stolen, **full_form(5))
    assert ingest(s1, stolen.kit_id, utcnow()).current
    assert whole(store) is not None and whole(store)[0] == 2

    for kit in (replacement, stolen):
        declare_compromised(store, kit.kit_id, "operator budi", "kit stolen", "2024-02-14T21:00Z")
    # TPS[0] falls back to the broken kit's version, TPS[1] to no count at all.
    assert whole(store) == (1, full_form(2)["fields"])
    assert store.current(ELECTION, TPS[1], FORM) is None
    assert kinds(store).count("kit-compromised") == 2
    assert [(d.kind, d.kit, d.decided_by) for d in store.decisions()] == [
        ("kit-compromised", replacement.kit_id, "operator budi"),
        ("kit-compromised", stolen.kit_id, "operator budi"),
    ]
    # Not yet revoked, the stolen kit's next result is stored but never counts.
    again = signed(stolen, seq=2, prev_sha256=document_sha(s1), **full_form(6))
    outcome = ingest(again, stolen.kit_id, utcnow())
    assert outcome.status == "accepted" and not outcome.current
    assert whole(store) == (1, full_form(2)["fields"])
    assert_matches_reference(store)
