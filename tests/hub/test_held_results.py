"""A result breaking its form's hard limits is held out of the published totals as "perlu
verifikasi" until an operator decides: through the real ingest path, the recapitulation,
the CSV export and the operator's decision, on both backends."""

from __future__ import annotations

import csv
import io

import pytest

from hub.decide import decide_held
from hub.recap import RecapError, RecapReader, export_csv, recap_hook
from hub.store import ResultStore
from tests.hub import test_store_support as support
from tests.hub.test_recap import ELECTION, FORM, TPS, assert_matches_reference, full_form
from tests.hub.test_store_support import document_sha, signed, utcnow

backend, store, hub_setup = support.backend, support.store, support.hub_setup

DESA = TPS[0].rpartition(".")[0]  # TPS[0] and TPS[1] share it


def whole(store: ResultStore) -> tuple[int, dict[str, int]] | None:
    totals = RecapReader(store).region(ELECTION, FORM)
    return None if totals is None else (totals.tps_reported, totals.totals)


def held_anomalies(store: ResultStore) -> list[str]:
    return [a.kind for a in store.anomalies(open_only=True) if a.kind == "held-for-verification"]


def csv_text(store: ResultStore) -> str:
    out = io.StringIO()
    export_csv(store, out, election=ELECTION, form=FORM, region=DESA, now=utcnow())
    return out.getvalue()


def test_a_result_claiming_99999_votes_is_held_out_of_the_totals_until_released(hub_setup, store):
    ingestor = hub_setup.ingestor(store, hooks=[recap_hook])
    honest, rogue = hub_setup.region.kit(TPS[0]), hub_setup.region.kit(TPS[1])
    ingestor.ingest_result(signed(honest, **full_form(1)), honest.kit_id, utcnow())
    impossible = full_form(2, **{"IV.1": 99999})
    doc = signed(rogue, **impossible)
    outcome = ingestor.ingest_result(doc, rogue.kit_id, utcnow())
    # Stored, logged, acknowledged and counting, but not in any published total.
    assert outcome.status == "accepted" and outcome.current
    assert whole(store) == (1, full_form(1)["fields"])
    tps = RecapReader(store).region(ELECTION, FORM, TPS[1])
    assert tps is not None and tps.held and tps.totals == {} and tps.tps_reported == 0
    assert tps.to_json_value()["held"] is True
    assert held_anomalies(store) == ["held-for-verification"]
    text = csv_text(store)
    cells = {cell for row in csv.reader(io.StringIO(text)) for cell in row}
    assert "perlu verifikasi" in cells and "99999" not in cells  # (a time may hold 99999)
    assert f"TPS perlu verifikasi,1,{TPS[1]}" in text
    assert_matches_reference_without(store, TPS[1])

    # Kept out: recorded, nothing moves.
    sha = document_sha(doc)
    assert not decide_held(store, sha, False, "operator sari", "IV.1 unreadable on paper", "t1")
    assert whole(store) == (1, full_form(1)["fields"])
    # Released (say the paper really says so): it joins the totals, recorded.
    assert decide_held(store, sha, True, "operator sari", "checked against the plano", "t2")
    assert whole(store) is not None and whole(store)[0] == 2
    assert whole(store)[1]["IV.1"] == full_form(1)["fields"]["IV.1"] + 99999
    assert held_anomalies(store) == []
    assert_matches_reference(store)
    assert not decide_held(store, sha, True, "operator sari", "twice", "t3")  # no double count
    assert whole(store) is not None and whole(store)[0] == 2
    # Kept out again (a second look at the paper): out of the totals, shown held again.
    assert decide_held(store, sha, False, "operator ani", "the plano says 99", "t4")
    assert whole(store) == (1, full_form(1)["fields"])
    assert held_anomalies(store) == ["held-for-verification"]
    assert [(d.kind, d.decided_by) for d in store.decisions()] == [
        ("result-kept-out", "operator sari"),
        ("result-released", "operator sari"),
        ("result-released", "operator sari"),
        ("result-kept-out", "operator ani"),
    ]
    assert_matches_reference_without(store, TPS[1])


def test_a_corrected_rescan_replaces_a_held_result(hub_setup, store):
    ingestor = hub_setup.ingestor(store, hooks=[recap_hook])
    kit = hub_setup.region.kit(TPS[0])
    v1 = signed(kit, **full_form(2, **{"IV.1": 99999}))
    ingestor.ingest_result(v1, kit.kit_id, utcnow())
    assert whole(store) == (0, {})
    v2 = signed(kit, seq=2, prev_sha256=document_sha(v1), **full_form(2))
    assert ingestor.ingest_result(v2, kit.kit_id, utcnow()).current
    assert whole(store) == (1, full_form(2)["fields"])
    assert held_anomalies(store) == []
    assert_matches_reference(store)


def test_only_a_result_breaking_a_hard_limit_can_be_released(hub_setup, store):
    ingestor = hub_setup.ingestor(store, hooks=[recap_hook])
    kit = hub_setup.region.kit(TPS[0])
    doc = signed(kit, **full_form(1))
    ingestor.ingest_result(doc, kit.kit_id, utcnow())
    with pytest.raises(RecapError, match="breaks no hard limit"):
        decide_held(store, document_sha(doc), True, "operator", "why", "t")


def assert_matches_reference_without(store: ResultStore, held: str) -> None:
    """The totals equal a from-scratch sum over the counting versions but the held one."""
    from tests.hub.test_recap import recap_rows, reference

    got = recap_rows(store, ELECTION, FORM)
    expected = reference(store, ELECTION, FORM)
    # The held TPS is the only one in its desa's chain above TPS[0]'s: subtract it.
    doc = store.current_fields(ELECTION, FORM, [held])[held]
    for region, (count, sums) in expected.items():
        if held.startswith(region + ".") or region == "":
            for f, v in doc.fields.items():
                sums[f] -= v
            expected[region] = (count - 1, sums)
    assert got == expected
