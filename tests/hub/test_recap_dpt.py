"""The hub compares each counting version's rows I.A with its TPS's official DPT in the
election's signed manifest, on both backends, through the real ingest path; and the worker's
service loads the manifests hub.toml names once, for its recapitulation hook."""

from __future__ import annotations

import numpy as np
import pytest
import tomli_w
from click.testing import CliRunner

from hub import service
from hub.cli import main
from hub.config import load_hub_config
from hub.errors import ConfigError
from hub.recap import RecapHook, RecapReader, list_anomalies
from hub.recap.anomalies import differs_from_official
from protocol.forms.loader import load_template
from protocol.manifest import OfficialDpt
from protocol.manifest_sign import verify_manifest
from provisioning import authority as ca
from provisioning.registry import registry_bytes
from provisioning.synth.values import consistent_values
from tests.hub import test_store_support as support
from tests.hub.test_recap import ELECTION, FORM, TPS
from tests.hub.test_store_support import document_sha, signed, utcnow
from tests.manifests import ppwp_manifest, signed_manifest

backend, store, hub_setup = support.backend, support.store, support.hub_setup

LISTED = OfficialDpt(120, 131)  # TPS[0]'s register in the manifest
# TPS[1] is not in the manifest: nothing to compare it with.
DPT = {TPS[0]: (LISTED.men, LISTED.women), TPS[2]: (50, 50)}


def _form(dpt: OfficialDpt, seed: int) -> dict[str, object]:
    """A consistent PPWP form whose rows I.A say ``dpt``."""
    values = consistent_values(load_template(FORM), np.random.default_rng(seed), dpt)
    return {
        "fields": values,
        "evidence": {k: {"confidence": 9990, "decision": "read"} for k in values},
    }


@pytest.fixture
def manifests(hub_setup):
    authority = hub_setup.region.authority
    data = signed_manifest(authority, ppwp_manifest(DPT))
    return {
        ELECTION: verify_manifest(data, authority.cert, at=utcnow(), load_template=load_template)
    }


@pytest.fixture
def ingestor(hub_setup, store, manifests):
    return hub_setup.ingestor(store, hooks=[RecapHook(manifests)])


def _open(store) -> list[tuple[str, str | None]]:
    return [(a.kind, a.tps) for a in list_anomalies(store.db)]


def test_rows_that_agree_with_the_manifest_raise_nothing(hub_setup, ingestor, store):
    kit = hub_setup.region.kit(TPS[0])
    outcome = ingestor.ingest_result(signed(kit, **_form(LISTED, 1)), kit.kit_id, utcnow())
    assert outcome.status == "accepted"
    assert _open(store) == []


def test_dpt_differing_from_the_manifest_is_found_and_resolved_by_an_agreeing_version(
    hub_setup, ingestor, store
):
    kit = hub_setup.region.kit(TPS[0])
    # The KPPS copied one man too many: I.A.L and the total are off; every rule still holds.
    v1 = signed(kit, **_form(OfficialDpt(121, 131), 2))
    ingestor.ingest_result(v1, kit.kit_id, utcnow())
    (found,) = list_anomalies(store.db)
    assert (found.kind, found.tps, found.kit) == ("dpt-differs-from-manifest", TPS[0], kit.kit_id)
    assert found.detail.endswith(
        f"official DPT in {ELECTION}'s manifest: "
        "I.A.L 121 (manifest 120), I.A.JML 252 (manifest 251)"
    )
    # Not a hard limit: it counts in the totals.
    assert RecapReader(store).region(ELECTION, FORM).tps_reported == 1
    v2 = signed(kit, seq=2, prev_sha256=document_sha(v1), **_form(LISTED, 2))
    ingestor.ingest_result(v2, kit.kit_id, utcnow())
    everything = list_anomalies(store.db, open_only=False)
    assert [(a.kind, a.resolved_at is not None) for a in everything] == [
        ("dpt-differs-from-manifest", True),
        ("changed-after-first-report", False),  # rows I.A changed, so did the rest
    ]


def test_a_dpt_written_larger_to_make_room_for_votes_is_named_against_the_manifest(
    hub_setup, ingestor, store
):
    kit = hub_setup.region.kit(TPS[2])
    # The register lists 100; the form claims 300 and as many votes as that allows.
    form = _form(OfficialDpt(150, 150), 3)
    votes = form["fields"]["V.C"]  # type: ignore[index]
    assert votes > 102  # above 100 registered plus 2 reserve ballots
    ingestor.ingest_result(signed(kit, **form), kit.kit_id, utcnow())
    (found,) = list_anomalies(store.db)
    assert found.kind == "dpt-differs-from-manifest"
    assert found.detail.endswith(
        "I.A.L 150 (manifest 50), I.A.P 150 (manifest 50), I.A.JML 300 (manifest 100), "
        f"V.C {votes} above the manifest's 100 registered voters plus 2 reserve ballots"
    )


def test_a_tps_or_election_the_manifests_do_not_list_is_not_compared(hub_setup, ingestor, store):
    unlisted = hub_setup.region.kit(TPS[1])
    ingestor.ingest_result(signed(unlisted, **_form(LISTED, 4)), unlisted.kit_id, utcnow())
    other = hub_setup.region.kit(TPS[0], election="pemilu-2029")
    ingestor.ingest_result(signed(other, **_form(OfficialDpt(1, 1), 5)), other.kit_id, utcnow())
    assert _open(store) == []


def test_votes_above_registered_stays_on_the_forms_own_dpt():
    # Rows that agree with the register leave the votes to votes-above-registered alone
    # (the same bound); missing rows are no difference, as a missing number breaks no rule,
    # but votes above the register plus reserve are named where the form gives no DPT.
    fields = {"I.A.L": 120, "I.A.P": 131, "I.A.JML": 251, "V.C": 300}
    assert differs_from_official(FORM, fields, LISTED) == []
    assert differs_from_official(FORM, {"V.C": 257}, LISTED) == []
    assert differs_from_official(FORM, {"V.C": 258}, LISTED) == [
        "V.C 258 above the manifest's 251 registered voters plus 6 reserve ballots"
    ]


# --- the worker's service: hub.toml's manifests, loaded once ------------------------------


def _hub_toml(hub_setup, tmp_path, manifest_files: list[str]):
    region = hub_setup.region
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
                    "manifests": manifest_files,
                },
                "database": {"url": "hub.sqlite3"},
                "broker": {"host": "127.0.0.1", "port": 8883},
            }
        )
    )
    return path


def test_the_worker_compares_with_the_manifests_hub_toml_names(hub_setup, tmp_path):
    authority = hub_setup.region.authority
    (tmp_path / "election.json").write_bytes(signed_manifest(authority, ppwp_manifest(DPT)))
    path = _hub_toml(hub_setup, tmp_path, ["election.json"])
    kit = hub_setup.region.kit(TPS[0])
    hub = service.open_hub(load_hub_config(path), utcnow())
    try:
        assert list(hub.manifests) == [ELECTION]
        form = _form(OfficialDpt(LISTED.men, LISTED.women + 1), 6)
        hub.ingestor.ingest_result(signed(kit, **form), kit.kit_id, utcnow())
        assert [(a.kind, a.tps) for a in list_anomalies(hub.store.db)] == [
            ("dpt-differs-from-manifest", TPS[0])
        ]
    finally:
        hub.close()
    run = CliRunner().invoke(main, ["run", "--config", str(path), "--validate-config"])
    assert run.exit_code == 0, run.output
    assert "1 election manifests" in run.output


def test_a_tampered_manifest_stops_the_worker_before_it_ingests(hub_setup, tmp_path):
    authority = hub_setup.region.authority
    good = signed_manifest(authority, ppwp_manifest(DPT))
    # A register with more voters, to hide stuffed ballots: the signature no longer holds.
    (tmp_path / "election.json").write_bytes(good.replace(b'"payload":"ey', b'"payload":"ez'))
    path = _hub_toml(hub_setup, tmp_path, ["election.json"])
    with pytest.raises(ConfigError, match=r"paths\.manifests"):
        service.open_hub(load_hub_config(path), utcnow())
    run = CliRunner().invoke(main, ["run", "--config", str(path), "--validate-config"])
    assert run.exit_code != 0 and "paths.manifests" in run.output
