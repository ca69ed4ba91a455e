"""D.HASIL CSV exports (both backends) and the recap commands of `tps-hub` on a small
SQLite hub configured like a real one (hub.toml with a registry)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tomllib
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner

from hub import service
from hub.cli import main
from hub.config import load_hub_config
from hub.recap import RecapError, expected_from_registry, export_csv, recap_hook
from hub.store import ResultStore, utc_text
from hub.trust import RegistryKit
from provisioning import authority as ca
from provisioning.registry import registry_bytes
from tests.hub import test_store_support as support
from tests.hub.test_recap import ELECTION, FORM, TPS, TRAINING, full_form
from tests.hub.test_store_support import signed, utcnow

backend, store, hub_setup = support.backend, support.store, support.hub_setup


def _read(text: str) -> tuple[list[list[str]], list[list[str]]]:
    """The header rows and the table (from its Kode row) of an export."""
    rows = list(csv.reader(io.StringIO(text)))
    start = next(i for i, r in enumerate(rows) if r and r[0] == "Kode")
    return rows[:start], rows[start:]


@pytest.fixture
def filled(hub_setup, store):
    ingestor = hub_setup.ingestor(store, hooks=[recap_hook])
    kits = [hub_setup.region.kit(code) for code in TPS]
    for n, kit in enumerate(kits[:3]):
        ingestor.ingest_result(signed(kit, **full_form(n)), kit.kit_id, utcnow())
    return kits


def test_desa_export_lists_its_tps_as_columns(filled, store):
    out = io.StringIO()
    info = export_csv(
        store, out, election=ELECTION, form=FORM, region="31.71.01.1001", now=utcnow()
    )
    header, table = _read(out.getvalue())
    assert header[0] == ["MODEL D.HASIL KELURAHAN/DESA", "MODEL C.HASIL-PPWP"]
    fields = dict((r[0], r[1:]) for r in header if r)
    assert fields["Pemilihan"] == [ELECTION]
    assert fields["Formulir"][:2] == [FORM, "MODEL C.HASIL-PPWP"]
    assert fields["Wilayah"] == ["31.71.01.1001", "desa"]
    assert fields["Log transparansi"] == [support.LOG_ID, "ukuran pohon", "3"]
    assert fields["Dibuat"] == [info.generated_at]
    assert table[0] == ["Kode", "Uraian", TPS[0], TPS[1], "JUMLAH"]
    body = {r[0]: r for r in table[1:]}
    assert list(body)[:3] == ["I.A.L", "I.A.P", "I.A.JML"]  # the form's own order
    assert body["IV.1"][1] == "JUMLAH SUARA SAH PASANGAN CALON NOMOR URUT 1"
    for row in table[1:]:
        assert int(row[-1]) == int(row[2]) + int(row[3])  # JUMLAH is the row's sum
    assert body["IV.1"][2:4] == [
        str(full_form(0)["fields"]["IV.1"]),
        str(full_form(1)["fields"]["IV.1"]),
    ]
    assert body["TPS"][2:] == ["1", "1", "2"]
    assert info.columns == (TPS[0], TPS[1]) and info.tree_size == 3


def test_kecamatan_export_lists_desa_and_registry_gaps(filled, store):
    registry = [RegistryKit(k.kit_id, k.tps, k.election, 1, False) for k in filled]
    registry.append(RegistryKit("kit-x", "31.71.01.1003.001", ELECTION, 2, False))
    out = io.StringIO()
    export_csv(
        store,
        out,
        election=ELECTION,
        form=FORM,
        region="31.71.01",
        now=utcnow(),
        expected=expected_from_registry(registry),
    )
    header, table = _read(out.getvalue())
    assert ["TPS dilaporkan", "3", "dari", "4"] in header
    assert table[0] == [
        "Kode",
        "Uraian",
        "31.71.01.1001",
        "31.71.01.1002",
        "31.71.01.1003",
        "JUMLAH",
    ]
    for row in table[1:]:
        assert row[4] == ""  # expected, nothing reported yet: an empty column, not zeros
        assert int(row[-1]) == int(row[2]) + int(row[3])
    whole = io.StringIO()
    export_csv(store, whole, election=ELECTION, form=FORM, region="", now=utcnow())
    assert _read(whole.getvalue())[1][0] == ["Kode", "Uraian", "31", "JUMLAH"]


def test_export_refuses_totals_that_do_not_add_up_and_tps_codes(filled, store):
    store.db.execute(
        "UPDATE recap_totals SET totals = ? WHERE region = ?", ('{"IV.1": [1, 1]}', "31.71.01.1001")
    )
    with pytest.raises(RecapError, match="not the sum of its parts"):
        export_csv(
            store, io.StringIO(), election=ELECTION, form=FORM, region="31.71.01.1001", now=utcnow()
        )
    with pytest.raises(RecapError, match="is a TPS"):
        export_csv(store, io.StringIO(), election=ELECTION, form=FORM, region=TPS[0], now=utcnow())
    with pytest.raises(RecapError, match="no results"):
        export_csv(store, io.StringIO(), election=TRAINING, form=FORM, region="", now=utcnow())


# --- the commands --------------------------------------------------------------------------


@pytest.fixture
def hub_toml(hub_setup, tmp_path) -> Path:
    """A hub configured with the region's registry, holding a few results made through
    open_hub (so through the hook the service registers)."""
    region = hub_setup.region
    kits = [region.kit(code) for code in TPS]
    trainee = region.kit(TPS[0], election=TRAINING)
    (tmp_path / "registry.json").write_bytes(registry_bytes(region.authority))
    path = tmp_path / "hub.toml"
    path.write_text(
        tomli_w.dumps(
            {
                "hub": {"id": support.HUB_ID, "log_id": support.LOG_ID},
                "paths": {
                    "key": str(hub_setup.hub_dir / "hub.key.pem"),
                    "certificate": str(hub_setup.hub_dir / "hub.cert.pem"),
                    "ca_certificate": str(region.authority.directory / ca.CERT_FILE),
                    "registry": "registry.json",
                },
                "database": {"url": "hub.sqlite3"},
            }
        )
    )
    hub = service.open_hub(load_hub_config(path), utcnow())
    try:
        for n, kit in enumerate(kits[:3]):
            hub.ingestor.ingest_result(signed(kit, **full_form(n)), kit.kit_id, utcnow())
        bad = dict(full_form(7)["fields"], **{"V.B": 0})  # V.C no longer V.A + V.B
        evidence = {k: {"confidence": 9990, "decision": "read"} for k in bad}
        evidence["V.B"] = {"confidence": 5000, "decision": "entered", "read_as": 3}
        hub.ingestor.ingest_result(
            signed(trainee, fields=bad, evidence=evidence), trainee.kit_id, utcnow()
        )
    finally:
        hub.close()
    return path


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_recap_command_prints_totals_and_completeness(hub_toml):
    run = _run("recap", "--config", str(hub_toml), "--json")
    assert run.exit_code == 0, run.output
    contests = {c["election"]: c for c in json.loads(run.output)["contests"]}
    real = contests[ELECTION]
    assert not real["training"]
    assert (real["region"]["tps_reported"], real["region"]["tps_expected"]) == (3, 4)
    assert real["region"]["totals"]["V.C"] == sum(full_form(n)["fields"]["V.C"] for n in range(3))
    assert [r["region"] for r in real["regions"]] == ["31"]
    # The training result breaks V.C = V.A + V.B: held out of the totals (perlu verifikasi).
    assert contests[TRAINING]["training"] and contests[TRAINING]["region"]["tps_reported"] == 0
    desa = _run(
        "recap",
        "--config",
        str(hub_toml),
        "--election",
        ELECTION,
        "--form",
        FORM,
        "--region",
        "31.71.01",
        "--level",
        "tps",
    )
    assert desa.exit_code == 0, desa.output
    assert desa.output.startswith(f"{ELECTION} {FORM} 31.71.01 (kecamatan): 3/3 TPS (100.0%)")
    assert f"tps {TPS[2]}: 1/1 TPS (100.0%)  IV.1=" in desa.output
    assert "LATIHAN" not in desa.output
    text = _run("recap", "--config", str(hub_toml), "--election", TRAINING)
    assert "[LATIHAN: training, never in a real total]" in text.output
    bad = _run("recap", "--config", str(hub_toml), "--region", "3171")
    assert bad.exit_code != 0 and "not a region code" in bad.output


def test_export_csv_command(hub_toml, tmp_path):
    out = tmp_path / "d-hasil.csv"
    run = _run(
        "export-csv",
        "--config",
        str(hub_toml),
        "--election",
        ELECTION,
        "--form",
        FORM,
        "--region",
        "31.71.01.1001",
        "--out",
        str(out),
    )
    assert run.exit_code == 0, run.output
    assert "2 columns" in run.output and "size 3" in run.output
    header, table = _read(out.read_text())
    assert table[0] == ["Kode", "Uraian", TPS[0], TPS[1], "JUMLAH"]
    assert ["TPS dilaporkan", "2", "dari", "2"] in header
    missing = _run(
        "export-csv",
        "--config",
        str(hub_toml),
        "--election",
        "pemilu-2029",
        "--form",
        FORM,
        "--region",
        "31",
        "--out",
        str(tmp_path / "none.csv"),
    )
    assert missing.exit_code != 0 and not (tmp_path / "none.csv").exists()


def test_recap_rebuild_command(hub_toml):
    before = _run("recap", "--config", str(hub_toml), "--json").output
    run = _run("recap-rebuild", "--config", str(hub_toml))
    assert run.exit_code == 0 and "rebuilt from 4 counting versions" in run.output
    assert _run("recap", "--config", str(hub_toml), "--json").output == before


def test_anomalies_command(hub_toml):
    run = _run("anomalies", "--config", str(hub_toml), "--silent-after", "1")
    assert run.exit_code == 0, run.output
    assert f"rule-broken {TRAINING} {TPS[0]}: V.C.sum" in run.output
    # The registry's fourth kit never reported; the others were heard from just now.
    assert f"silent-kit kit-3171022001001-1 {ELECTION} {TPS[3]}: never heard from" in run.output
    assert f"held-for-verification {TRAINING} {TPS[0]}: perlu verifikasi" in run.output
    assert run.output.rstrip().endswith("2 anomalies, 1 kits silent over 1 min")
    as_json = json.loads(_run("anomalies", "--config", str(hub_toml), "--json").output)
    kinds = [a["kind"] for a in as_json["anomalies"]]
    assert kinds == ["rule-broken", "held-for-verification"]


def _held_sha(hub_toml: Path) -> str:
    store = ResultStore.open(load_hub_config(hub_toml).database.url, now=utcnow())
    try:
        doc = store.current(TRAINING, TPS[0], FORM)
        assert doc is not None
        return doc.document_sha256
    finally:
        store.close()


def _reported(hub_toml: Path, election: str) -> int:
    run = _run("recap", "--config", str(hub_toml), "--json")
    contests = {c["election"]: c for c in json.loads(run.output)["contests"]}
    return int(contests[election]["region"]["tps_reported"])


def test_hold_command_releases_a_held_result_and_records_who(hub_toml):
    sha = _held_sha(hub_toml)
    keep = _run(
        "hold", "--config", str(hub_toml), "--document", sha, "--keep-out",
        "--by", "operator sari", "--reason", "V.B unreadable",
    )  # fmt: skip
    assert keep.exit_code == 0, keep.output
    assert _reported(hub_toml, TRAINING) == 0
    release = _run(
        "hold", "--config", str(hub_toml), "--document", sha, "--release",
        "--by", "operator sari", "--reason", "the plano says so",
    )  # fmt: skip
    assert release.exit_code == 0, release.output
    assert "released into the totals" in release.output
    assert _reported(hub_toml, TRAINING) == 1
    run = _run("anomalies", "--config", str(hub_toml))
    assert "result-released" in run.output and "operator sari" in run.output
    unknown = _run(
        "hold", "--config", str(hub_toml), "--document", "0" * 64, "--release",
        "--by", "x", "--reason", "y",
    )  # fmt: skip
    assert unknown.exit_code != 0 and "no document" in unknown.output


def test_declare_compromised_command_takes_a_kits_results_out(hub_toml):
    before = _reported(hub_toml, ELECTION)
    store = ResultStore.open(load_hub_config(hub_toml).database.url, now=utcnow())
    try:
        doc = store.current(ELECTION, TPS[0], FORM)
        assert doc is not None
        kit = doc.kit
    finally:
        store.close()
    run = _run(
        "declare-compromised", "--config", str(hub_toml), "--kit", kit,
        "--by", "operator budi", "--reason", "stolen from the PPS office",
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    assert (
        f"{ELECTION} {TPS[0]} {FORM}: was document" in run.output and "now no count" in run.output
    )
    assert _reported(hub_toml, ELECTION) == before - 1
    anomalies = _run("anomalies", "--config", str(hub_toml)).output
    assert "kit-compromised" in anomalies and "stolen from the PPS office" in anomalies


def test_debrief_command(hub_toml):
    run = _run("debrief", "--config", str(hub_toml), "--election", TRAINING, "--json")
    assert run.exit_code == 0, run.output
    (line,) = json.loads(run.output)["kits"]
    assert (line["scans"], line["rescans"], line["doubts"], line["entered"]) == (1, 0, 1, 1)
    assert line["paper_mistakes"] is None
    text = _run("debrief", "--config", str(hub_toml), "--election", TRAINING)
    assert "n/a" in text.output and "status heartbeat" in text.output
    real = _run("debrief", "--config", str(hub_toml), "--election", ELECTION)
    assert real.exit_code != 0 and "real election" in real.output


def test_anomalies_command_lists_missing_images_and_kits_not_in_the_registry(hub_setup, hub_toml):
    code = "31.71.03.3001.001"
    late = hub_setup.region.kit(code)  # enrolled after the registry export
    config = load_hub_config(hub_toml)
    hub = service.open_hub(config, utcnow())
    try:  # its page image never follows
        outcome = hub.ingestor.ingest_result(signed(late, **full_form(9)), late.kit_id, utcnow())
        assert outcome.status == "accepted"
    finally:
        hub.close()
    # Two hours pass (the hub's trust refuses to judge at a time before its CRL, so the
    # receipt time is moved back instead).
    store = ResultStore.open(config.database.url, now=utcnow())
    try:
        with store.db.transaction():
            store.db.execute(
                "UPDATE documents SET received_at = ? WHERE kit = ?",
                (utc_text(utcnow() - dt.timedelta(hours=2)), late.kit_id),
            )
            store.db.execute(
                "UPDATE awaited_images SET named_at = ? "
                "WHERE document_id IN (SELECT id FROM documents WHERE kit = ?)",
                (utc_text(utcnow() - dt.timedelta(hours=2)), late.kit_id),
            )
    finally:
        store.close()
    run = _run("anomalies", "--config", str(hub_toml), "--json")
    assert run.exit_code == 0, run.output
    found = json.loads(run.output)
    # The fixture's own results arrived just now: their images are not yet overdue.
    assert [(p["tps"], p["page"]) for p in found["missing_images"]] == [(code, 2)]
    assert [(u["kit"], u["reason"]) for u in found["not_in_registry"]] == [(late.kit_id, "kit")]
    text = _run("anomalies", "--config", str(hub_toml)).output
    assert f"images-missing {ELECTION} {code}: {FORM} seq 1" in text
    assert f"not-in-registry {late.kit_id} {ELECTION} {code}: kit not in the registry" in text
    assert (
        "1 page images missing over 60 min, "
        "1 kits not in the registry or reporting for a TPS nothing expects"
    ) in text
    recap = json.loads(_run("recap", "--config", str(hub_toml), "--json").output)
    real = {c["election"]: c for c in recap["contests"]}[ELECTION]["region"]
    # Four TPS reported, one of them nothing expects: three of the four expected are in.
    assert (real["tps_reported"], real["tps_expected"], real["tps_unexpected"]) == (4, 4, 1)
    assert real["completeness"] == 0.75


def test_anomalies_command_calls_silent_what_the_dashboard_does(hub_toml):
    # Without --silent-after it takes hub.toml's [api] silent_after, as the kits page and the
    # anomaly list do: the three never disagree on which kit is silent.
    config = tomllib.loads(hub_toml.read_text())
    config["api"] = {"silent_after": 7 * 24 * 60}
    hub_toml.write_text(tomli_w.dumps(config))
    run = _run("anomalies", "--config", str(hub_toml))
    assert run.exit_code == 0, run.output
    assert f"kits silent over {7 * 24 * 60} min" in run.output
    assert "kits silent over 60 min" not in run.output
