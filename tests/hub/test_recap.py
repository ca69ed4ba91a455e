"""hub.recap's totals on both backends: built through the real ingest path, they always equal
a from-scratch sum over the counting versions, across rescans, replacement kits and
training elections kept apart; completeness against a registry."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from typing import Any

import numpy as np
import pytest

from hub.recap import RecapError, RecapReader, expected_from_registry, rebuild, recap_hook
from hub.recap.aggregate import apply_change
from hub.recap.levels import regions_of
from hub.store import CurrentChange, ResultStore, utc_text
from hub.trust import RegistryKit
from protocol.forms.loader import load_template
from provisioning import authority as ca
from provisioning.synth.values import consistent_values
from tests.hub import test_store_support as support
from tests.hub.test_store_support import document_sha, signed, utcnow

backend, store, hub_setup = support.backend, support.store, support.hub_setup

ELECTION, TRAINING, FORM = "pemilu-2024", "latihan-2024", "ppwp-plano"
TPS = (
    "31.71.01.1001.001",
    "31.71.01.1001.002",
    "31.71.01.1002.001",
    "31.71.02.2001.001",
)


def full_form(seed: int, **overrides: int) -> dict[str, Any]:
    """A complete, consistent PPWP form (every field, every rule holds) with its evidence."""
    values = consistent_values(load_template(FORM), np.random.default_rng(seed))
    values.update(overrides)
    evidence = {k: {"confidence": 9990, "decision": "read"} for k in values}
    return {"fields": values, "evidence": evidence}


@pytest.fixture
def ingestor(hub_setup, store):
    return hub_setup.ingestor(store, hooks=[recap_hook])


def reference(store: ResultStore, election: str, form: str) -> dict[str, tuple[int, dict]]:
    """From scratch: every region's (TPS count, field sums) over the counting versions."""
    regions: dict[str, tuple[int, dict[str, int]]] = {}
    for doc in support.current_documents(store, election, form):
        for _, region, _ in regions_of(doc.tps):
            count, sums = regions.get(region, (0, {}))
            for field, value in doc.fields.items():
                sums[field] = sums.get(field, 0) + value
            regions[region] = (count + 1, sums)
    return regions


def recap_rows(store: ResultStore, election: str, form: str) -> dict[str, tuple[int, dict]]:
    rows = store.db.all(
        "SELECT region FROM recap_totals WHERE election = ? AND form = ?", (election, form)
    )
    reader = RecapReader(store)
    out = {}
    for (region,) in rows:
        totals = reader.region(election, form, region)
        assert totals is not None
        out[region] = (totals.tps_reported, totals.totals)
    return out


def assert_matches_reference(store: ResultStore, election: str = ELECTION) -> None:
    assert recap_rows(store, election, FORM) == reference(store, election, FORM)


def test_first_reports_sum_at_every_level(hub_setup, ingestor, store):
    forms = {}
    for n, code in enumerate(TPS):
        kit = hub_setup.region.kit(code)
        forms[code] = full_form(n)
        outcome = ingestor.ingest_result(signed(kit, **forms[code]), kit.kit_id, utcnow())
        assert outcome.current
    assert_matches_reference(store)
    reader = RecapReader(store)
    whole = reader.region(ELECTION, FORM)
    assert whole is not None and whole.level == "nasional" and whole.tps_reported == 4
    assert whole.totals["V.C"] == sum(f["fields"]["V.C"] for f in forms.values())
    desa = reader.region(ELECTION, FORM, "31.71.01.1001")
    assert desa is not None and desa.tps_reported == 2
    assert desa.totals["IV.2"] == forms[TPS[0]]["fields"]["IV.2"] + forms[TPS[1]]["fields"]["IV.2"]
    assert [c.region for c in reader.children(ELECTION, FORM, "31.71.01")] == [
        "31.71.01.1001",
        "31.71.01.1002",
    ]
    assert [(t.region, t.level) for t in reader.children(ELECTION, FORM, "31.71.01.1001")] == [
        (TPS[0], "tps"),
        (TPS[1], "tps"),
    ]
    assert [r.region for r in reader.level(ELECTION, FORM, "kecamatan")] == [
        "31.71.01",
        "31.71.02",
    ]
    assert [r.region for r in reader.level(ELECTION, FORM, "tps", "31.71.01")] == list(TPS[:3])
    tps = reader.region(ELECTION, FORM, TPS[3])
    assert tps is not None and tps.totals == forms[TPS[3]]["fields"]


def test_rescan_replaces_its_old_contribution_at_every_level(hub_setup, ingestor, store):
    kits = [hub_setup.region.kit(code) for code in TPS[:2]]
    first = {}
    for n, kit in enumerate(kits):
        first[kit.kit_id] = signed(kit, **full_form(n))
        ingestor.ingest_result(first[kit.kit_id], kit.kit_id, utcnow())
    before = RecapReader(store).region(ELECTION, FORM)
    kit = kits[0]
    v2_form = full_form(99)
    v2 = signed(kit, seq=2, prev_sha256=document_sha(first[kit.kit_id]), **v2_form)
    assert ingestor.ingest_result(v2, kit.kit_id, utcnow()).current
    assert_matches_reference(store)
    after = RecapReader(store).region(ELECTION, FORM)
    assert before is not None and after is not None
    assert after.tps_reported == before.tps_reported == 2  # replaced, not added
    old = full_form(0)["fields"]
    for field in ("IV.1", "V.C", "I.A.JML"):
        assert after.totals[field] == before.totals[field] - old[field] + v2_form["fields"][field]
    # The same document again, and a late stale version, change nothing.
    ingestor.ingest_result(v2, kit.kit_id, utcnow())
    assert RecapReader(store).region(ELECTION, FORM) == after


def test_a_later_old_version_does_not_replace_a_newer_one(hub_setup, ingestor, store):
    kit = hub_setup.region.kit(TPS[0])
    v1 = signed(kit, **full_form(1))
    v2 = signed(kit, seq=2, prev_sha256=document_sha(v1), **full_form(2))
    ingestor.ingest_result(v2, kit.kit_id, utcnow())  # out of order
    ingestor.ingest_result(v1, kit.kit_id, utcnow())
    assert_matches_reference(store)
    whole = RecapReader(store).region(ELECTION, FORM)
    assert whole is not None and whole.totals == full_form(2)["fields"]


def test_a_replacement_kits_result_replaces_whatever_its_clock_says(hub_setup, ingestor, store):
    # Was "a newer capture replaces": the kit's clock no longer orders two kits' versions,
    # the hub's storing order does, so even a spare with its clock behind takes over.
    broken = hub_setup.region.kit(TPS[0])
    ingestor.ingest_result(signed(broken, **full_form(5)), broken.kit_id, utcnow())  # 19:03
    ca.revoke(hub_setup.region.authority, broken.kit_id)  # lost or broken: a spare is sent
    spare = hub_setup.region.kit(TPS[0])
    fresh = hub_setup.ingestor(store, hooks=[recap_hook])  # trust with the re-signed CRL
    early = signed(spare, captured_at="2024-02-14T18:00:00Z", **full_form(7))
    assert fresh.ingest_result(early, spare.kit_id, utcnow()).current
    whole = RecapReader(store).region(ELECTION, FORM)
    assert whole is not None and (whole.tps_reported, whole.totals) == (1, full_form(7)["fields"])
    # Its rescan replaces it in turn, by seq.
    later = signed(
        spare,
        seq=2,
        prev_sha256=document_sha(early),
        captured_at="2024-02-14T21:00:00Z",
        **full_form(6),
    )
    assert fresh.ingest_result(later, spare.kit_id, utcnow()).current
    whole = RecapReader(store).region(ELECTION, FORM)
    assert whole is not None and (whole.tps_reported, whole.totals) == (1, full_form(6)["fields"])
    assert_matches_reference(store)


def test_a_field_no_tps_gives_any_more_disappears(hub_setup, ingestor, store):
    kit = hub_setup.region.kit(TPS[0])
    v1 = signed(kit, **full_form(3))
    ingestor.ingest_result(v1, kit.kit_id, utcnow())
    votes = {k: v for k, v in full_form(3)["fields"].items() if k.startswith(("IV", "V."))}
    evidence = {k: {"confidence": 9990, "decision": "read"} for k in votes}
    v2 = signed(kit, seq=2, prev_sha256=document_sha(v1), fields=votes, evidence=evidence)
    ingestor.ingest_result(v2, kit.kit_id, utcnow())
    whole = RecapReader(store).region(ELECTION, FORM)
    assert whole is not None and whole.totals == votes  # I.A.L etc. gone, not left at 0
    assert_matches_reference(store)


def test_training_totals_are_kept_apart(hub_setup, ingestor, store):
    real = hub_setup.region.kit(TPS[0])
    trainee = hub_setup.region.kit(TPS[0], election=TRAINING)  # same TPS, bimtek
    ingestor.ingest_result(signed(real, **full_form(1)), real.kit_id, utcnow())
    ingestor.ingest_result(signed(trainee, **full_form(2)), trainee.kit_id, utcnow())
    reader = RecapReader(store)
    real_total, training_total = reader.region(ELECTION, FORM), reader.region(TRAINING, FORM)
    assert real_total is not None and real_total.totals == full_form(1)["fields"]
    assert training_total is not None and training_total.totals == full_form(2)["fields"]
    assert {(c.election, c.is_training) for c in reader.contests()} == {
        (ELECTION, False),
        (TRAINING, True),
    }
    assert reader.contests(training=False)[0].election == ELECTION
    assert_matches_reference(store, ELECTION)
    assert_matches_reference(store, TRAINING)


def test_guard_refuses_a_result_marked_across_training_and_real(hub_setup, ingestor, store):
    kit = hub_setup.region.kit(TPS[0])
    outcome = ingestor.ingest_result(signed(kit, **full_form(1)), kit.kit_id, utcnow())
    doc = store.find_document(outcome.document_sha256)
    assert doc is not None
    fields = store.document_fields(doc.id)
    before = recap_rows(store, ELECTION, FORM)
    # A change claiming a real election's result is training (or a training id marked
    # real) never reaches any total: the whole transaction is refused.
    for change in (
        CurrentChange(ELECTION, TPS[0], FORM, True, doc.id, None),
        CurrentChange(TRAINING, TPS[0], FORM, True, doc.id, None),
    ):
        with pytest.raises(RecapError), store.db.transaction():
            apply_change(store, change, fields, None)
    mislabelled = dataclasses.replace(fields, is_training=True)
    with pytest.raises(RecapError), store.db.transaction():
        apply_change(
            store, CurrentChange(ELECTION, TPS[0], FORM, False, doc.id, None), mislabelled, None
        )
    assert recap_rows(store, ELECTION, FORM) == before
    # Reads filter on the flag the election id implies: a mislabelled row is invisible.
    store.db.execute("UPDATE recap_totals SET is_training = 1 WHERE election = ?", (ELECTION,))
    assert RecapReader(store).region(ELECTION, FORM) is None


def test_completeness_against_the_registry(hub_setup, ingestor, store):
    kits = [hub_setup.region.kit(code) for code in TPS]
    registry = [
        RegistryKit(k.kit_id, k.tps, k.election, k.certificate.serial_number, False) for k in kits
    ]
    registry.append(RegistryKit("kit-revoked", TPS[0], ELECTION, 1, True))  # its TPS still owes
    registry.append(RegistryKit("kit-latihan", TPS[0], TRAINING, 2, False))
    for n, kit in enumerate(kits[:3]):
        ingestor.ingest_result(signed(kit, **full_form(n)), kit.kit_id, utcnow())
    reader = RecapReader(store, expected_from_registry(registry))
    whole = reader.region(ELECTION, FORM)
    assert whole is not None and (whole.tps_reported, whole.tps_expected) == (3, 4)
    assert whole.completeness == 0.75
    by_kec = {r.region: (r.tps_reported, r.tps_expected) for r in reader.children(ELECTION, FORM)}
    assert by_kec == {"31": (3, 4)}
    kec = {
        r.region: (r.tps_reported, r.tps_expected)
        for r in reader.level(ELECTION, FORM, "kecamatan")
    }
    assert kec == {"31.71.01": (3, 3)}
    silent = reader.region(ELECTION, FORM, "31.71.02")  # nothing reported: 0 of 1
    assert silent is not None and (silent.tps_reported, silent.tps_expected) == (0, 1)
    desa = reader.children(ELECTION, FORM, "31.71.01.1001")
    assert [(t.region, t.tps_reported, t.tps_expected) for t in desa] == [
        (TPS[0], 1, 1),
        (TPS[1], 1, 1),
    ]
    assert reader.region(TRAINING, FORM) is not None  # 0 reported, 1 expected, its own count
    assert reader.region(TRAINING, FORM).tps_expected == 1  # type: ignore[union-attr]


def test_region_codes_are_checked(store):
    reader = RecapReader(store)
    with pytest.raises(RecapError, match="not a region code"):
        reader.region(ELECTION, FORM, "31.7")
    with pytest.raises(RecapError, match="has no regions below"):
        reader.children(ELECTION, FORM, TPS[0])


def test_national_recap_read_is_a_key_lookup(hub_setup, ingestor, store):
    kit = hub_setup.region.kit(TPS[0])
    ingestor.ingest_result(signed(kit, **full_form(1)), kit.kit_id, utcnow())
    # Pad the table with 20,000 other regions' rows, as a big election would have.
    rows = [
        (ELECTION, FORM, f"{p:02d}.{k:02d}.{c:02d}.{d:04d}", "desa", "x", 0, 1, "{}", "t")
        for p in range(11, 16)
        for k in range(1, 5)
        for c in range(1, 11)
        for d in range(1001, 1101)
    ]
    with store.db.transaction():
        store.db.executemany(
            "INSERT INTO recap_totals (election, form, region, level, parent, is_training, "
            "tps_reported, totals, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    reader = RecapReader(store)
    reader.region(ELECTION, FORM)
    started = time.perf_counter()
    for _ in range(100):
        whole = reader.region(ELECTION, FORM)
    per_read = (time.perf_counter() - started) / 100
    assert whole is not None and whole.totals == full_form(1)["fields"]
    assert per_read < 0.01, f"{per_read * 1000:.2f} ms per national recap read"


def test_hook_timestamps_follow_ingest_time(hub_setup, ingestor, store):
    kit = hub_setup.region.kit(TPS[0])
    at = utcnow() + dt.timedelta(minutes=5)
    ingestor.ingest_result(signed(kit, **full_form(1)), kit.kit_id, at)
    whole = RecapReader(store).region(ELECTION, FORM)
    assert whole is not None and whole.updated_at == utc_text(at)


def test_rebuild_from_scratch_equals_the_incremental_totals(hub_setup, store):
    # Results stored without the hook (a hub from before the recapitulation), then rebuilt.
    plain = hub_setup.ingestor(store)
    kits = [hub_setup.region.kit(code) for code in TPS]
    for n, kit in enumerate(kits):
        v1 = signed(kit, **full_form(n))
        plain.ingest_result(v1, kit.kit_id, utcnow())
        if n % 2:
            v2 = signed(kit, seq=2, prev_sha256=document_sha(v1), **full_form(n + 10))
            plain.ingest_result(v2, kit.kit_id, utcnow())
    assert recap_rows(store, ELECTION, FORM) == {}
    assert rebuild(store) == 4
    assert_matches_reference(store)
    store.db.execute("UPDATE recap_totals SET totals = '{}' WHERE region = '31'")  # damage
    assert rebuild(store, ELECTION) == 4
    assert_matches_reference(store)
    tps = store.db.all("SELECT tps FROM recap_tps ORDER BY tps")
    assert [r[0] for r in tps] == list(TPS)
