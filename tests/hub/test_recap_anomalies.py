"""The recapitulation's anomalies, kits silent too long, and the training debrief, on both
backends, from documents stored through the real ingest path."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from hub.recap import (
    RecapError,
    RegistryIndex,
    SilentKit,
    debrief,
    election_filter,
    list_anomalies,
    recap_hook,
    record_status,
    silent_kits,
)
from hub.store import utc_text
from hub.trust import RegistryKit
from protocol.forms.loader import load_template
from protocol.forms.rules import evaluate
from protocol.limits import broken_rules, check_numbers
from protocol.status import KitStatus
from tests.hub import test_store_support as support
from tests.hub.test_recap import ELECTION, FORM, TPS, TRAINING, full_form
from tests.hub.test_store_support import document_sha, signed, utcnow

backend, store, hub_setup = support.backend, support.store, support.hub_setup


@pytest.fixture
def ingestor(hub_setup, store):
    return hub_setup.ingestor(store, hooks=[recap_hook])


def _evidence(fields: dict[str, int]) -> dict[str, dict[str, object]]:
    return {k: {"confidence": 9990, "decision": "read"} for k in fields}


def _silent(
    store,
    now: dt.datetime,
    after: dt.timedelta,
    registry: list[RegistryKit] | None = None,
    election: str | None = None,
) -> list[SilentKit]:
    index = RegistryIndex.of(registry or [])
    return silent_kits(store.db, index, now, after, election_filter(election)).kits


def _open(store) -> list[tuple[str, str | None]]:
    return [(a.kind, a.tps) for a in list_anomalies(store.db)]


def test_a_consistent_form_raises_nothing(hub_setup, ingestor, store):
    kit = hub_setup.region.kit(TPS[0])
    outcome = ingestor.ingest_result(signed(kit, **full_form(1)), kit.kit_id, utcnow())
    assert outcome.status == "accepted"
    assert _open(store) == []


def test_broken_rule_is_found_and_resolved_by_a_corrected_version(hub_setup, ingestor, store):
    kit = hub_setup.region.kit(TPS[0])
    good = full_form(1)["fields"]
    bad = dict(good, **{"IV.1": good["IV.1"] + 1})  # V.A no longer the sum of IV
    v1 = signed(kit, fields=bad, evidence=_evidence(bad))
    ingestor.ingest_result(v1, kit.kit_id, utcnow())
    # Also held out of the totals as "perlu verifikasi" (tests/hub/test_held_results.py).
    found, held = list_anomalies(store.db)
    assert (found.kind, found.tps, found.kit) == ("rule-broken", TPS[0], kit.kit_id)
    assert held.kind == "held-for-verification"
    assert found.detail.startswith("V.A.sum: V.A = IV.1 + IV.2 + IV.3 fails")
    v2 = signed(kit, seq=2, prev_sha256=document_sha(v1), **full_form(1))
    ingestor.ingest_result(v2, kit.kit_id, utcnow())
    # The broken version no longer counts: resolved. The correction is itself flagged:
    # the numbers changed after the first report (IV.1 only).
    everything = list_anomalies(store.db, open_only=False)
    assert [(a.kind, a.resolved_at is not None) for a in everything] == [
        ("rule-broken", True),
        ("held-for-verification", True),
        ("changed-after-first-report", False),
    ]
    assert everything[2].detail.endswith(f"IV.1 {bad['IV.1']}->{good['IV.1']}")


def test_votes_above_registered_voters(hub_setup, ingestor, store):
    kit = hub_setup.region.kit(TPS[0])
    fields = full_form(2)["fields"]
    total = fields["V.C"]
    # DPT well below the votes cast (reserve 2 %): more votes than ballots could exist.
    fields.update({"I.A.L": 50, "I.A.P": 50, "I.A.JML": 100})
    assert total > 102
    ingestor.ingest_result(
        signed(kit, fields=fields, evidence=_evidence(fields)), kit.kit_id, utcnow()
    )
    kinds = {kind for kind, _ in _open(store)}
    assert "votes-above-registered" in kinds and "rule-broken" in kinds
    # Up to DPT + reserve is lawful: DPTb and DPK voters vote on the reserve ballots.
    lawful = {"I.A.JML": 200, "V.C": 204}
    assert all(k != "votes-above-registered" for k, _ in check_numbers(FORM, lawful))
    assert [k for k, _ in check_numbers(FORM, {"I.A.JML": 200, "V.C": 205})] == [
        "votes-above-registered"
    ]


def test_votes_above_the_cap_when_the_dpt_is_not_given(hub_setup, ingestor, store):
    kit = hub_setup.region.kit(TPS[0])
    votes = {"IV.1": 200, "IV.2": 150, "IV.3": 50, "V.A": 400, "V.B": 0, "V.C": 400}
    ingestor.ingest_result(
        signed(kit, fields=votes, evidence=_evidence(votes)), kit.kit_id, utcnow()
    )
    kinds = sorted(kind for kind, _ in _open(store))
    assert "votes-above-cap" in kinds
    assert "rule-broken" in kinds  # the template's own cap rule (306) says so too


def test_unknown_template_and_foreign_fields(hub_setup, ingestor, store):
    kit = hub_setup.region.kit(TPS[0])
    ingestor.ingest_result(signed(kit, form="ppwp-2029"), kit.kit_id, utcnow())
    other = hub_setup.region.kit(TPS[1])
    fields = dict(full_form(3)["fields"], **{"VI.9": 1})
    ingestor.ingest_result(
        signed(other, fields=fields, evidence=_evidence(fields)), other.kit_id, utcnow()
    )
    assert _open(store) == [("no-template", TPS[0]), ("template-mismatch", TPS[1])]


def test_numbers_changed_after_first_report(hub_setup, ingestor, store):
    kit = hub_setup.region.kit(TPS[0])
    v1 = signed(kit, **full_form(4))
    ingestor.ingest_result(v1, kit.kit_id, utcnow())
    same = signed(
        kit, seq=2, prev_sha256=document_sha(v1), captured_at="2024-02-14T19:10:00Z", **full_form(4)
    )
    ingestor.ingest_result(same, kit.kit_id, utcnow())
    assert _open(store) == []  # a rescan with the same numbers is no change
    v3 = signed(kit, seq=3, prev_sha256=document_sha(same), **full_form(5))
    ingestor.ingest_result(v3, kit.kit_id, utcnow())
    (changed,) = list_anomalies(store.db)
    assert changed.kind == "changed-after-first-report"
    assert "seq 3" in changed.detail and "differs from the first report (seq 1" in changed.detail
    assert list_anomalies(store.db, election=TRAINING) == []


def test_silent_kits(hub_setup, ingestor, store):
    start = utcnow()
    quiet, busy, never = (hub_setup.region.kit(code) for code in TPS[:3])
    ingestor.ingest_result(signed(quiet, **full_form(1)), quiet.kit_id, start)
    ingestor.ingest_result(
        signed(busy, **full_form(2)), busy.kit_id, start + dt.timedelta(minutes=90)
    )
    registry = [
        RegistryKit(k.kit_id, k.tps, k.election, k.certificate.serial_number, False)
        for k in (quiet, busy, never)
    ]
    registry.append(RegistryKit("kit-revoked-0", TPS[3], ELECTION, 9, True))
    now = start + dt.timedelta(hours=2)
    silent = _silent(store, now, dt.timedelta(hours=1), registry=registry)
    assert [(s.kit, s.last_seen is None) for s in silent] == sorted(
        [(quiet.kit_id, False), (never.kit_id, True)]
    )
    assert _silent(store, now, dt.timedelta(hours=3), registry=registry)[0].kit == never.kit_id
    # A status heartbeat (the worker, later) is a sign of life too.
    record_status(store.db, quiet.kit_id, utc_text(now), _status(quiet.kit_id, "online"))
    silent = _silent(store, now, dt.timedelta(hours=1), registry=registry)
    assert [s.kit for s in silent] == [never.kit_id]
    assert _silent(store, now, dt.timedelta(hours=1), election="latihan-x") == []


def test_silent_kits_see_documents_the_hook_did_not(hub_setup, ingestor, store):
    # A late old version does not move the counting version, so the hook is not called:
    # the documents themselves still show the kit was heard from.
    kit = hub_setup.region.kit(TPS[0])
    start = utcnow()
    v1 = signed(kit)
    v2 = signed(kit, seq=2, prev_sha256=document_sha(v1), captured_at="2024-02-14T20:00:00Z")
    ingestor.ingest_result(v2, kit.kit_id, start)
    ingestor.ingest_result(v1, kit.kit_id, start + dt.timedelta(hours=2))
    now = start + dt.timedelta(hours=2, minutes=30)
    assert _silent(store, now, dt.timedelta(hours=1)) == []


def test_training_debrief(hub_setup, ingestor, store):
    trainee = hub_setup.region.kit(TPS[0], election=TRAINING)
    idle = hub_setup.region.kit(TPS[1], election=TRAINING)
    real = hub_setup.region.kit(TPS[2])
    form = full_form(1)
    evidence = dict(form["evidence"])
    evidence["IV.1"] = {"confidence": 6100, "decision": "confirmed"}
    evidence["IV.2"] = {"confidence": 4000, "decision": "entered", "read_as": 17}
    evidence["IV.3"] = {"confidence": 5000, "decision": "chosen", "read_as": 40}
    evidence["V.B"] = {"confidence": 9000, "decision": "corrected", "read_as": 8}
    v1 = signed(trainee, fields=form["fields"], evidence=evidence)
    ingestor.ingest_result(v1, trainee.kit_id, utcnow())
    rescan = signed(trainee, seq=2, prev_sha256=document_sha(v1), **full_form(1))
    ingestor.ingest_result(rescan, trainee.kit_id, utcnow())
    ingestor.ingest_result(signed(real, **full_form(2)), real.kit_id, utcnow())
    registry = [
        RegistryKit(k.kit_id, k.tps, k.election, k.certificate.serial_number, False)
        for k in (trainee, idle, real)
    ]
    lines = {x.kit: x for x in debrief(store.db, TRAINING, registry=registry)}
    assert set(lines) == {trainee.kit_id, idle.kit_id}  # never the real kit
    got = lines[trainee.kit_id]
    assert (got.scans, got.rescans, got.doubts, got.entered, got.corrections) == (2, 1, 3, 2, 1)
    assert got.paper_mistakes is None  # not in signed results; the kit has not reported it
    assert (lines[idle.kit_id].scans, lines[idle.kit_id].tps) == (0, TPS[1])
    record_status(
        store.db, trainee.kit_id, utc_text(utcnow()), _status(trainee.kit_id, paper_mistakes=3)
    )
    assert debrief(store.db, TRAINING)[0].paper_mistakes == 3
    with pytest.raises(RecapError, match="real election"):
        debrief(store.db, ELECTION)


def test_cached_rule_check_agrees_with_evaluate():
    template = load_template(FORM)
    rng = np.random.default_rng(7)
    for seed in range(30):
        values = full_form(seed)["fields"]
        if seed % 3:  # break something: one field off by a few
            field = sorted(values)[int(rng.integers(len(values)))]
            values[field] += int(rng.integers(1, 400))
        assert broken_rules(FORM, values) == evaluate(template, values).violations


def _status(kit: str, state: str = "online", **counters: int) -> KitStatus:
    return KitStatus(kit=kit, state=state, software="0.1.0", model="m", **counters)
