"""The hub serves the signed election manifest's names: regions, candidates, each TPS's
register, and the TPS it expects, so the dashboard shows names where it showed codes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.api.context import utcnow
from hub.api.serve import app_from_config
from hub.config import load_hub_config
from hub.errors import ConfigError
from hub.store import ResultStore
from protocol.manifest_sign import verify_manifest
from provisioning import authority as ca
from tests.conftest import PASSPHRASE
from tests.hub.test_api_support import (
    ELECTION,
    LOG_ID,
    TPS_A,
    TPS_B,
    TPS_C,
    TPS_D,
    TPS_E,
    FilledHub,
    fill_hub,
    write_hub_toml,
)
from tests.manifests import ppwp_manifest, signed_manifest

V1 = "/api/v1"
NOT_ENROLLED = "31.71.01.1002.002"  # in the manifest, no kit yet: still expected
DPT = {TPS_A: (120, 131), TPS_B: (100, 101), TPS_C: (150, 140), TPS_D: (90, 95)}
DPT |= {TPS_E: (80, 81), NOT_ENROLLED: (60, 61)}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> FilledHub:
    hub = fill_hub(tmp_path_factory.mktemp("hub"))
    authority = ca.load_ca(hub.root / "ca", PASSPHRASE)
    (hub.root / "election.json").write_bytes(signed_manifest(authority, ppwp_manifest(DPT)))
    return hub


@pytest.fixture(scope="module")
def api(hub: FilledHub) -> Iterator[TestClient]:
    data = (hub.root / "election.json").read_bytes()
    cert = ca.load_ca(hub.root / "ca", PASSPHRASE).cert
    app = create_app(
        lambda: ResultStore.open(hub.url, now=utcnow()),
        log_id=LOG_ID,
        training_log_id=LOG_ID + "-latihan",
        registry=hub.registry,
        manifests={ELECTION: verify_manifest(data, cert, at=utcnow())},
    )
    with TestClient(app) as client:
        yield client


def test_election_names_and_candidates(api):
    (election,) = api.get(f"{V1}/elections").json()["elections"]
    assert election["name"] == "Pemilihan Umum Tahun 2024"
    assert election["region_name"] == "Kota Administrasi Jakarta Pusat"
    assert election["tps_expected"] == 6
    assert election["dpt"] == sum(l + p for l, p in DPT.values())  # noqa: E741
    (contest,) = election["contests"]
    assert contest["region_name"] == "Indonesia"
    assert contest["options"][2] == {
        "number": 3,
        "names": ["H. GANJAR PRANOWO, S.H., M.I.P.", "Prof. Dr. H. M. MAHFUD MD"],
        "kolom_kosong": False,
    }
    assert api.get(f"{V1}/elections/{ELECTION}").json() == election


def test_one_tps_names_and_register(api):
    answer = api.get(f"{V1}/elections/{ELECTION}/tps/{TPS_A}").json()
    assert answer["names"] == {
        "provinsi": "Daerah Khusus Ibukota Jakarta",
        "kabkota": "Kota Administrasi Jakarta Pusat",
        "kecamatan": "Gambir",
        "desa": "Gambir",
    }
    assert (answer["dpt_l"], answer["dpt_p"], answer["dpt"]) == (120, 131, 251)
    assert answer["forms"] == ["ppwp-plano"]
    names = api.get(f"{V1}/elections/{ELECTION}/names", params={"region": "31.71.02"}).json()
    assert names["names"] == {"31.71.02": "Sawah Besar", "31.71.02.2001": "Desa Contoh"}


def test_recap_regions_carry_names_and_the_manifest_expectation(api):
    view = api.get(f"{V1}/contests/{ELECTION}/ppwp-plano/regions", params={"region": "31.71.01"})
    view = view.json()
    assert view["region"]["name"] == "Gambir"
    assert [r["name"] for r in view["path"]] == [
        None,  # the whole election
        "Daerah Khusus Ibukota Jakarta",
        "Kota Administrasi Jakarta Pusat",
    ]
    children = {r["region"]: r for r in view["children"]}
    assert children["31.71.01.1002"]["name"] == "Cideng"
    # The TPS with no kit yet is expected by the manifest: 1 of 2 in Cideng reported.
    assert children["31.71.01.1002"]["tps_expected"] == 2


def test_unknown_election_is_404(api):
    answer = api.get(f"{V1}/elections/pemilu-2029")
    assert answer.status_code == 404
    assert "no manifest" in answer.json()["detail"]


def test_hub_toml_names_manifests_and_a_tampered_one_stops_the_api(hub, tmp_path):
    path = write_hub_toml(hub, 8080, paths={"manifests": [str(hub.root / "election.json")]})
    app = app_from_config(load_hub_config(path), hub.registry)
    with TestClient(app) as client:
        assert client.get(f"{V1}/elections").json()["elections"][0]["id"] == ELECTION
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(
        (hub.root / "election.json").read_bytes().replace(b'"payload":"ey', b'"payload":"ez')
    )
    path = write_hub_toml(hub, 8080, paths={"manifests": [str(tampered)]})
    with pytest.raises(ConfigError, match=r"paths\.manifests"):
        app_from_config(load_hub_config(path), hub.registry)
