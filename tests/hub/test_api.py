"""The hub's HTTP JSON API over a SQLite hub filled through the real ingest path: every
endpoint, its errors, the OpenAPI document, and receipt look-ups of every kind."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.api.context import Store
from hub.api.serve import app_from_config, check_schema
from hub.cli import main as hub_cli
from hub.config import load_hub_config, parse_hub_config
from hub.errors import ConfigError, HubError, StoreError
from hub.recap import RegistryIndex, election_filter, record_status, silent_kits
from hub.recap.levels import regions_of
from hub.store import Database, ResultStore, utc_text
from hub.translog.cosigning import WitnessEndpoint, WitnessPolicy
from protocol import certs, checkpoint, proofs, result, witnessing
from protocol.status import KitStatus
from tests.hub import test_store_support as store_support
from tests.hub.test_api_support import (
    ELECTION,
    FORM,
    TPS_A,
    TPS_B,
    TPS_C,
    TPS_D,
    TPS_E,
    TRAINING,
    WITNESS,
    FilledHub,
    fill_hub,
    form,
    write_hub_toml,
)
from tests.hub.test_store_support import LOG_ID, utcnow

backend = store_support.backend  # SQLite, and PostgreSQL where one is reachable
V1 = "/api/v1"
REAL_COUNTING = ("a2", "b1", "c1", "d1")  # a1 was replaced by a rescan; t1 is training
# d1's votes exceed its registered voters: it counts for its TPS but is held out of the
# published totals ("perlu verifikasi") until an operator decides, so 3 of 5 TPS are in.
REAL_PUBLISHED = ("a2", "b1", "c1")
TPS_ALL = (TPS_A, TPS_B, TPS_C, TPS_D, TPS_E)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> FilledHub:
    return fill_hub(tmp_path_factory.mktemp("hub"))


def client_for(hub: FilledHub, **options) -> TestClient:
    app = create_app(
        lambda: ResultStore.open(hub.url, now=utcnow()),
        log_id=LOG_ID,
        training_log_id=LOG_ID + "-latihan",
        registry=hub.registry,
        hub_certificate=(hub.root / "hub-identity" / "hub.cert.pem").read_bytes(),
        **options,
    )
    return TestClient(app)


@pytest.fixture(scope="module")
def api(hub: FilledHub) -> Iterator[TestClient]:
    with client_for(hub) as client:
        yield client


def get(api: TestClient, path: str, status: int = 200, **params) -> dict:
    response = api.get(V1 + path, params=params)
    assert response.status_code == status, response.text
    return response.json()


def error(api: TestClient, path: str, status: int, **params) -> dict:
    body = get(api, path, status, **params)
    assert set(body) <= {"detail", "parameter"} and body["detail"]
    return body


def hub_cert(hub: FilledHub):
    return certs.load_certificate((hub.root / "hub-identity" / "hub.cert.pem").read_bytes())


def ca_cert(hub: FilledHub):
    return certs.load_certificate((hub.root / "ca" / "ca.cert.pem").read_bytes())


# -- the OpenAPI document ---------------------------------------------------------------------


def test_openapi_describes_every_endpoint_and_field(api):
    spec = get(api, "/openapi.json")
    assert set(spec["paths"]) == {
        f"{V1}/contests",
        f"{V1}/contests/{{election}}/{{form}}/regions",
        f"{V1}/contests/{{election}}/{{form}}/tps/{{tps}}",
        f"{V1}/contests/{{election}}/{{form}}/chart.svg",
        f"{V1}/documents/{{sha256}}",
        f"{V1}/documents/{{sha256}}/signed",
        f"{V1}/documents/{{sha256}}/inclusion",
        f"{V1}/images/{{sha256}}",
        f"{V1}/images/{{sha256}}/rectified",
        f"{V1}/kits",
        f"{V1}/anomalies",
        f"{V1}/receipts",
        f"{V1}/logs",
        f"{V1}/logs/{{log}}/tree-head",
        f"{V1}/logs/{{log}}/consistency",
        f"{V1}/logs/{{log}}/checkpoint",
        f"{V1}/logs/{{log}}/checkpoint.witnessed",
        f"{V1}/logs/{{log}}/tile/{{path}}",
        f"{V1}/hub-certificate",
        f"{V1}/elections",
        f"{V1}/elections/{{election}}",
        f"{V1}/elections/{{election}}/names",
        f"{V1}/elections/{{election}}/tps/{{tps}}",
        f"{V1}/time-zones",
        f"{V1}/trust",
        f"{V1}/trust/ca.cert.pem",
        f"{V1}/trust/crl.pem",
        f"{V1}/trust/registry.json",
        f"{V1}/trust/manifests/{{election}}.json",
        f"{V1}/trust/witnesses",
        f"{V1}/contests/{{election}}/{{form}}/tps/{{tps}}/reports",
        f"{V1}/reports",
        f"{V1}/decisions",
    }
    schemas = spec["components"]["schemas"]
    for name in ("RegionView", "TpsView", "KitList", "AnomalyList", "ReceiptCheck", "LogList"):
        assert name in schemas
    assert "tps_expected" in schemas["Region"]["properties"]["completeness"]["description"]
    for path in spec["paths"].values():
        answers = path["get"]["responses"]
        assert {"200", "400", "404"} <= set(answers)
        assert answers["404"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorBody")
    # Held but not yet under a signed tree head: a 409, told apart from an unknown hash.
    inclusion = spec["paths"][f"{V1}/documents/{{sha256}}/inclusion"]["get"]["responses"]
    assert "signed tree head" in inclusion["409"]["description"]
    kits = {p["name"] for p in spec["paths"][f"{V1}/kits"]["get"]["parameters"]}
    assert {"limit", "after"} <= kits
    assert api.get("/docs").status_code == 404  # no Swagger UI: it would load from a CDN


def test_the_dashboard_page_and_its_files_are_served(api):
    page = api.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<script src="/static/app.js"' in page.text
    for name, kind in (("app.js", "javascript"), ("sha256.js", "javascript"), ("style.css", "css")):
        served = api.get(f"/static/{name}")
        assert served.status_code == 200 and kind in served.headers["content-type"]


# -- contests and the region tree -------------------------------------------------------------


def sums(hub: FilledHub, names: tuple[str, ...], field: str) -> int:
    return sum(hub.fields[n][field] for n in names)


def test_contests_keep_training_apart_and_marked(api):
    contests = get(api, "/contests")["contests"]
    assert [(c["election"], c["training"]) for c in contests] == [
        (TRAINING, True),
        (ELECTION, False),
    ]
    real = contests[1]
    assert (real["tps_reported"], real["tps_expected"], real["completeness"]) == (3, 5, 0.6)
    assert real["title"] == "MODEL C.HASIL-PPWP"
    assert [c["election"] for c in get(api, "/contests", training="false")["contests"]] == [
        ELECTION
    ]


def test_region_tree_totals_completeness_and_children(api, hub):
    whole = get(api, f"/contests/{ELECTION}/{FORM}/regions")
    assert whole["training"] is False and whole["region"]["level"] == "nasional"
    for field in ("IV.1", "V.C", "I.A.JML"):  # the rescan counts, the first report and the
        expected = sums(hub, REAL_PUBLISHED, field)  # training result do not
        assert whole["region"]["totals"][field] == expected
    assert (whole["region"]["tps_reported"], whole["region"]["tps_expected"]) == (3, 5)
    assert [c["region"] for c in whole["children"]] == ["31"]
    assert whole["form_info"]["headline"] == ["IV.1", "IV.2", "IV.3", "V.C"]

    kecamatan = get(api, f"/contests/{ELECTION}/{FORM}/regions", region="31.71.02")
    assert [r["region"] for r in kecamatan["path"]] == ["", "31", "31.71"]
    assert kecamatan["children_level"] == "desa"
    (desa,) = kecamatan["children"]
    # TPS_D's result is held ("perlu verifikasi"): it reported, but is not in the totals.
    assert (desa["region"], desa["tps_reported"], desa["tps_expected"]) == ("31.71.02.2001", 0, 2)
    assert desa["completeness"] == 0.0 and desa["level_name"] == "KELURAHAN/DESA"
    assert kecamatan["held_tps"] == [TPS_D] and whole["held_tps"] == [TPS_D]

    village = get(api, f"/contests/{ELECTION}/{FORM}/regions", region="31.71.02.2001")
    assert village["children_level"] == "tps"
    assert [(t["region"], t["tps_reported"], t["held"]) for t in village["children"]] == [
        (TPS_D, 0, True),
        (TPS_E, 0, False),  # expected by the registry, not reported: shown as 0 of 1
    ]
    assert village["children"][0]["totals"] == {}  # its numbers stay out until decided


def test_training_region_tree_holds_only_training(api, hub):
    whole = get(api, f"/contests/{TRAINING}/{FORM}/regions")
    assert whole["training"] is True
    assert whole["region"]["totals"]["V.C"] == hub.fields["t1"]["V.C"]
    assert (whole["region"]["tps_reported"], whole["region"]["tps_expected"]) == (1, 1)


def test_region_errors_name_what_is_wrong(api):
    missing = error(api, f"/contests/pemilu-2029/{FORM}/regions", 404)
    assert "pemilu-2029" in missing["detail"]
    bad = error(api, f"/contests/{ELECTION}/{FORM}/regions", 400, region="31.7")
    assert bad["parameter"] == "region" and "31.7" in bad["detail"]
    tps = error(api, f"/contests/{ELECTION}/{FORM}/regions", 400, region=TPS_A)
    assert tps["parameter"] == "region" and "/tps/" in tps["detail"]
    elsewhere = error(api, f"/contests/{ELECTION}/{FORM}/regions", 404, region="32.01")
    assert "32.01" in elsewhere["detail"]
    assert "Not Found" in error(api, "/nothing-here", 404)["detail"]


def test_a_huge_region_parameter_is_refused_without_echoing_it(api):
    huge = "3" * 60_000  # the test client refuses URLs over 64 KiB
    bad = error(api, f"/contests/{ELECTION}/{FORM}/regions", 400, region=huge)
    assert bad["parameter"] == "region" and len(bad["detail"]) < 400
    long_election = error(api, f"/contests/{'e' * 5000}/{FORM}/regions", 404)
    assert len(long_election["detail"]) <= 300


def test_sizes_beyond_a_database_integer_are_bad_requests_not_crashes(api, hub):
    for size in (2**63, 2**64, 10**30):
        old = error(api, f"/logs/{LOG_ID}/consistency", 400, old_size=size)
        assert old["parameter"] == "old_size"
        new = error(api, f"/logs/{LOG_ID}/consistency", 400, old_size=1, new_size=size)
        assert new["parameter"] == "new_size"
        proof = error(api, f"/documents/{hub.sha('b1')}/inclusion", 400, tree_size=size)
        assert proof["parameter"] == "tree_size"
    # The largest size the store holds is asked of it, and answered: no such head.
    largest = error(api, f"/logs/{LOG_ID}/consistency", 400, old_size=2**63 - 1)
    assert "no tree head" in largest["detail"]


# -- one TPS ----------------------------------------------------------------------------------


def test_tps_view_shows_the_counting_version_and_every_version(api, hub):
    view = get(api, f"/contests/{ELECTION}/{FORM}/tps/{TPS_A}")
    assert view["tps"] == TPS_A and view["training"] is False
    versions = view["versions"]
    assert [(v["seq"], v["counts"]) for v in versions] == [(1, False), (2, True)]
    assert [v["document_sha256"] for v in versions] == [hub.sha("a1"), hub.sha("a2")]
    assert view["counting"]["document_sha256"] == hub.sha("a2")
    assert versions[0]["changes"] == [] and versions[1]["changes"]
    first, now = hub.fields["a1"], hub.fields["a2"]
    assert f"V.C {first['V.C']}->{now['V.C']}" in versions[1]["changes"]
    assert {v["log_id"] for v in versions} == {LOG_ID}
    assert versions[0]["log_index"] < versions[1]["log_index"]
    shown = {f["id"]: f for f in view["fields"]}
    assert {k: f["value"] for k, f in shown.items()} == now
    changed = {k for k, f in shown.items() if f["changed_since_first"]}
    assert changed == {k for k in now if now[k] != first[k]}
    assert [a["kind"] for a in view["anomalies"]] == ["changed-after-first-report"]


def test_tps_view_says_how_each_field_was_decided_with_its_pages(api, hub):
    view = get(api, f"/contests/{ELECTION}/{FORM}/tps/{TPS_B}")
    decided = {f["id"]: (f["decision"], f["read_as"]) for f in view["fields"]}
    assert decided["IV.2"] == ("corrected", 44)
    assert decided["V.B"] == ("confirmed", None)
    assert decided["II.4"] == ("entered", 9)
    assert decided["IV.1"] == ("read", None)
    labels = {f["id"]: f for f in view["form_info"]["fields"]}
    assert labels["IV.1"]["option"] == 1 and labels["IV.1"]["page"] == 2
    page1, page2 = view["pages"]
    assert (page1["page"], page1["stored"], page1["url"]) == (1, False, None)
    assert page2["stored"] and page2["url"] == f"{V1}/images/{page2['sha256']}"
    image = api.get(page2["url"])
    assert image.status_code == 200 and image.content == hub.image
    assert image.headers["content-type"] == "image/jpeg"
    assert "immutable" in image.headers["cache-control"]


def test_a_page_photo_is_served_rectified_upright_in_its_templates_frame(api, hub):
    import cv2
    import numpy as np

    from edge.align.aligner import Aligner
    from edge.align.geometry import template_geometries
    from protocol.forms.loader import load_template

    view = get(api, f"/contests/{ELECTION}/{FORM}/tps/{TPS_B}")
    page1, page2 = view["pages"]
    assert page1["rectified_url"] is None  # not received
    assert (page2["width_mm"], page2["height_mm"]) == (600.0, 900.0)
    answer = api.get(page2["rectified_url"])
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/jpeg"
    assert "immutable" in answer.headers["cache-control"]
    k = float(answer.headers["x-px-per-mm"])
    page = cv2.imdecode(np.frombuffer(answer.content, np.uint8), cv2.IMREAD_GRAYSCALE)
    photo = cv2.imdecode(np.frombuffer(hub.image, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert photo.shape[1] > photo.shape[0]  # the camera saw the sheet turned a quarter
    assert page.shape == (2400, 1600) and abs(k - 2400 / 900) < 1e-3
    # Upright and in the template's frame: aligned again, the page's corners sit in the
    # image's own corners (a turned or mirrored page would put them elsewhere).
    aligned = Aligner(template_geometries(load_template(FORM))).align(page)
    assert aligned.geometry.page == 2
    found = np.array(aligned.corners) / 100
    assert np.abs(found - [[0, 0], [1600, 0], [1600, 2400], [0, 2400]]).max() < 4 * k  # 4 mm
    assert api.get(page2["rectified_url"]).content == answer.content  # cached, the same


def test_a_page_without_signed_corners_is_not_rectified(api, hub):
    view = get(api, f"/contests/{ELECTION}/{FORM}/tps/{TPS_A}")
    image = view["pages"][0]["sha256"]
    assert view["pages"][0]["rectified_url"] is None
    sha = view["counting"]["document_sha256"]
    refused = error(api, f"/images/{image}/rectified", 409, document=sha)
    assert "gives no corners" in refused["detail"] and f"/images/{image}" in refused["detail"]
    # A document that does not name the image does not lend it its corners.
    b_image = get(api, f"/contests/{ELECTION}/{FORM}/tps/{TPS_B}")["pages"][1]["sha256"]
    error(api, f"/images/{b_image}/rectified", 404, document=sha)
    assert error(api, f"/images/{b_image}/rectified", 400, document="x")["parameter"] == "document"


def test_tps_errors(api):
    bad = error(api, f"/contests/{ELECTION}/{FORM}/tps/31.71.01", 400)
    assert bad["parameter"] == "tps"
    missing = error(api, f"/contests/{ELECTION}/{FORM}/tps/{TPS_E}", 404)
    assert TPS_E in missing["detail"]
    # The training result of TPS A is not a result of the real election, and vice versa.
    assert get(api, f"/contests/{TRAINING}/{FORM}/tps/{TPS_A}")["training"] is True
    error(api, f"/contests/{TRAINING}/{FORM}/tps/{TPS_B}", 404)


def test_images_by_hash_errors(api):
    assert error(api, "/images/nothex", 400)["parameter"] == "sha256"
    assert "ab" * 32 in error(api, f"/images/{'ab' * 32}", 404)["detail"]


# -- documents and the transparency log --------------------------------------------------------


def test_document_by_hash_and_its_signed_bytes_verify(api, hub):
    summary = get(api, f"/documents/{hub.sha('a1')}")
    assert (summary["tps"], summary["seq"], summary["counts"]) == (TPS_A, 1, False)
    signed = api.get(summary["signed_url"])
    assert signed.status_code == 200 and signed.content == hub.signed["a1"]
    assert "attachment" in signed.headers["content-disposition"]
    verified = result.verify_result(signed.content, ca_cert(hub), at=utcnow())
    assert verified.document_sha256 == hub.sha("a1")
    assert error(api, f"/documents/{'cd' * 32}", 404)["detail"].endswith("cd" * 32)
    assert error(api, f"/documents/{'cd' * 32}/signed", 404)
    assert error(api, "/documents/xyz", 400)["parameter"] == "sha256"


def test_hub_certificate_served_verifies_the_proofs(api, hub):
    """A reader needs only the CA from KPU: the hub's certificate comes from the API."""
    response = api.get(V1 + "/hub-certificate")
    assert response.headers["content-type"] == "application/x-pem-file"
    served = certs.load_certificate(response.content)
    sha = hub.sha("a2")
    document = proofs.inclusion_from_json_value(get(api, f"/documents/{sha}/inclusion"))
    proofs.verify_inclusion(document, hub.signed["a2"], served, ca_cert(hub), utcnow())


def test_inclusion_proof_verifies_against_the_signed_head(api, hub):
    for name, log in (("b1", LOG_ID), ("t1", LOG_ID + "-latihan")):
        proof = get(api, f"/documents/{hub.sha(name)}/inclusion")
        document = proofs.inclusion_from_json_value(proof)
        checked = proofs.verify_inclusion(
            document, hub.signed[name], hub_cert(hub), ca_cert(hub), utcnow(), log_id=log
        )
        assert checked.head.tree_size == proof["tree_size"]
    assert error(api, f"/documents/{'cd' * 32}/inclusion", 404)
    first = get(api, f"/documents/{hub.sha('a1')}")["log_index"]
    early = error(api, f"/documents/{hub.sha('d1')}/inclusion", 400, tree_size=first + 1)
    assert early["parameter"] == "tree_size"


def test_logs_tree_heads_and_consistency(api, hub):
    logs = {entry["log_id"]: entry for entry in get(api, "/logs")["logs"]}
    assert logs[LOG_ID]["training"] is False and logs[LOG_ID + "-latihan"]["training"]
    assert logs[LOG_ID]["latest"]["tree_size"] == 5  # a1, a2, b1, c1, d1
    # Ingest signed newer checkpoints after the witness's round: the latest is not cosigned,
    # the newest cosigned one (size 3) is served apart and named with its witness.
    assert logs[LOG_ID]["cosigned_by"] == []
    witnessed = logs[LOG_ID]["witnessed"]
    assert witnessed == {
        "tree_size": 3,
        "cosigned_by": [WITNESS],
        "checkpoint_url": f"{V1}/logs/{LOG_ID}/checkpoint.witnessed",
    }
    assert logs[LOG_ID + "-latihan"]["witnessed"] is None
    assert logs[LOG_ID + "-latihan"]["latest"]["tree_size"] == 1
    head = get(api, f"/logs/{LOG_ID}/tree-head")
    assert head == logs[LOG_ID]["latest"] and len(head["root_hash"]) == 64
    consistency = get(api, f"/logs/{LOG_ID}/consistency", old_size=2, new_size=5)
    document = proofs.consistency_from_json_value(consistency)
    checked = proofs.verify_consistency(document, hub_cert(hub), ca_cert(hub), utcnow())
    assert (checked.old.tree_size, checked.new.tree_size) == (2, 5)
    assert get(api, f"/logs/{LOG_ID}/consistency", old_size=3)["new_size"] == 5
    assert error(api, "/logs/log-nowhere/tree-head", 404)
    assert error(api, "/logs/Not_An_Id/tree-head", 400)["parameter"] == "log"
    assert error(api, "/logs/log-nowhere/consistency", 404, old_size=1)
    assert error(api, f"/logs/{LOG_ID}/consistency", 400)["parameter"] == "old_size"
    assert error(api, f"/logs/{LOG_ID}/consistency", 400, old_size=0)["parameter"] == "old_size"
    assert error(api, f"/logs/{LOG_ID}/consistency", 400, old_size=9)["parameter"] == "old_size"
    too_new = error(api, f"/logs/{LOG_ID}/consistency", 400, old_size=2, new_size=99)
    assert too_new["parameter"] == "new_size" and "99" in too_new["detail"]
    backwards = error(api, f"/logs/{LOG_ID}/consistency", 400, old_size=4, new_size=2)
    assert backwards["parameter"] == "old_size" and "grows" in backwards["detail"]


def test_checkpoint_is_the_latest_tree_head_as_a_signed_note(api, hub):
    head = get(api, f"/logs/{LOG_ID}/tree-head")
    served = api.get(f"{V1}/logs/{LOG_ID}/checkpoint").content
    verifier = checkpoint.hub_verifier(LOG_ID, hub_cert(hub), ca_cert(hub), utcnow())
    latest = checkpoint.verify(served, [verifier], origin=LOG_ID).checkpoint
    assert (latest.tree_size, latest.root_hash.hex()) == (head["tree_size"], head["root_hash"])


def test_the_newest_cosigned_checkpoint_is_served_after_newer_uncosigned_ones(api, hub):
    log_key = checkpoint.hub_verifier(LOG_ID, hub_cert(hub), ca_cert(hub), utcnow())
    latest = api.get(f"{V1}/logs/{LOG_ID}/checkpoint")
    assert checkpoint.verify(latest.content, [log_key]).checkpoint.tree_size == 5
    assert witnessing.cosigners(latest.content, [hub.witness]) == []
    served = api.get(f"{V1}/logs/{LOG_ID}/checkpoint.witnessed")
    assert served.status_code == 200 and served.headers["cache-control"].startswith("no-cache")
    assert checkpoint.verify(served.content, [log_key]).checkpoint.tree_size == 3
    assert witnessing.require(served.content, [hub.witness], 1) == [hub.witness]
    none_yet = api.get(f"{V1}/logs/{LOG_ID}-latihan/checkpoint.witnessed")
    assert none_yet.status_code == 404 and "no witness has cosigned" in none_yet.text


def test_the_witnesses_asked_are_published_with_the_policy(hub):
    policy = WitnessPolicy((WitnessEndpoint("http://saksi.example:8090", hub.witness),), 10)
    with client_for(hub, witnesses=policy) as client:
        published = get(client, "/trust/witnesses")
        assert get(client, "/trust")["witnesses_url"] == f"{V1}/trust/witnesses"
    assert published["witnesses"] == [
        {"name": WITNESS, "vkey": hub.witness.vkey(), "url": "http://saksi.example:8090"}
    ]
    assert published["every_s"] == 10 and "never asked" in published["policy"]
    assert published["logs"][0] == {
        "log_id": LOG_ID,
        "checkpoint_url": f"{V1}/logs/{LOG_ID}/checkpoint",
        "witnessed_checkpoint_url": f"{V1}/logs/{LOG_ID}/checkpoint.witnessed",
    }


# -- kits and anomalies ------------------------------------------------------------------------


def test_kits_online_and_offline(api, hub):
    answer = get(api, "/kits", training="false")
    kits = {k["kit"]: k for k in answer["kits"]}
    b, c = kits[hub.kits[TPS_B]], kits[hub.kits[TPS_C]]
    assert b["online"] and b["state"] == "online" and b["status"]["queue"]["pending_images"] == 1
    assert not c["online"] and c["state"] == "offline"  # its last will arrived
    assert kits[hub.kits[TPS_A]]["online"] and kits[hub.kits[TPS_A]]["last_seen"]
    never = kits[hub.kits["replacement"]]
    assert (never["online"], never["last_seen"], never["revoked"]) == (False, None, False)
    revoked = kits[hub.kits[TPS_E]]
    assert revoked["revoked"] and not revoked["online"]
    assert hub.kits["training"] not in kits
    assert (answer["online"], answer["offline"]) == (3, 2)  # A, B, D; C and the replacement
    assert answer["silent_after_minutes"] == 60
    training = get(api, "/kits", training="true")["kits"]
    assert [k["kit"] for k in training] == [hub.kits["training"]]
    only = get(api, "/kits", election=ELECTION)["kits"]
    assert hub.kits["training"] not in {k["kit"] for k in only}


def test_kits_silent_for_too_long_are_offline(hub):
    later = utcnow() + dt.timedelta(hours=3)
    with client_for(hub, now=lambda: later, silent_after=dt.timedelta(minutes=90)) as api:
        answer = get(api, "/kits", training="false")
        assert answer["online"] == 0 and answer["silent_after_minutes"] == 90
        silent = get(api, "/anomalies", training="false")["silent_kits"]
        assert hub.kits[TPS_A] in {s["kit"] for s in silent}


def test_anomalies_list_a_page_photo_still_missing_after_the_stated_time(api, hub):
    # b1 names page 1, whose photo never came (its page 2 did); the other results name
    # photos never sent at all. Just received: not yet due.
    assert get(api, "/anomalies")["images_missing"] == []
    later = utcnow() + dt.timedelta(hours=2)
    with client_for(hub, now=lambda: later, images_after=dt.timedelta(minutes=90)) as client:
        view = get(client, "/anomalies", training="false")
        missing = {(p["tps"], p["page"]) for p in view["images_missing"]}
        assert (TPS_B, 1) in missing and (TPS_B, 2) not in missing  # page 2's photo came
        assert {p["tps"] for p in view["images_missing"]} <= set(TPS_ALL)  # counting only
        assert (view["images_missing_total"], view["images_after_minutes"]) == (len(missing), 90)
        assert {p["election"] for p in view["images_missing"]} == {ELECTION}
        training = get(client, "/anomalies", training="true")["images_missing"]
        assert {p["election"] for p in training} == {TRAINING}  # kept apart


def test_a_kit_missing_from_the_registry_is_flagged_and_never_counts_in_completeness(hub):
    # The registry exported before TPS C's kit was enrolled: its result counts in the
    # totals, but completeness counts only the TPS something expects.
    earlier = tuple(k for k in hub.registry if k.tps != TPS_C)
    app = create_app(
        lambda: ResultStore.open(hub.url, now=utcnow()),
        log_id=LOG_ID,
        training_log_id=LOG_ID + "-latihan",
        registry=earlier,
    )
    with TestClient(app) as client:
        view = get(client, "/anomalies", training="false")
        assert [
            (u["kit"], u["tps"], u["reason"], u["tps_expected"]) for u in view["not_in_registry"]
        ] == [(hub.kits[TPS_C], TPS_C, "kit", False)]
        assert view["not_in_registry_total"] == 1
        (real,) = [c for c in get(client, "/contests")["contests"] if c["election"] == ELECTION]
        assert (real["tps_reported"], real["tps_unexpected"]) == (len(REAL_PUBLISHED), 1)
        assert real["completeness"] == (len(REAL_PUBLISHED) - 1) / real["tps_expected"]
        top = get(client, f"/contests/{ELECTION}/{FORM}/regions")
        assert top["region"]["tps_unexpected"] == 1
        assert top["region"]["completeness"] == real["completeness"]
    with client_for(hub) as client:  # the registry as it is now: nothing unexpected
        assert get(client, "/anomalies")["not_in_registry"] == []


@pytest.mark.parametrize("hours_later", [0, 3])
def test_the_kits_page_the_anomaly_list_and_the_command_agree_on_silent_kits(hub, hours_later):
    later = utcnow() + dt.timedelta(hours=hours_later)
    after = dt.timedelta(minutes=60)
    with client_for(hub, now=lambda: later, silent_after=after) as api:
        kits = get(api, "/kits", election=ELECTION)
        anomalies = get(api, "/anomalies", election=ELECTION)
    by_state = {k["kit"]: k["category"] for k in kits["kits"]}
    on_page = {k for k, state in by_state.items() if state == "silent"}
    store = hub.open_store()
    try:
        index, keep = RegistryIndex.of(hub.registry), election_filter(ELECTION)
        command = silent_kits(store.db, index, later, after, keep).kits
    finally:
        store.close()
    listed = {s["kit"] for s in anomalies["silent_kits"]}
    assert on_page == listed == {s.kit for s in command}
    assert kits["silent"] == anomalies["silent_kits_total"] == len(listed)
    if hours_later == 0:
        # C's last will came just now: disconnected (terputus), never "silent".
        assert by_state[hub.kits[TPS_C]] == "said-offline" and kits["said_offline"] == 1
        assert listed == {hub.kits["replacement"]}
    else:
        assert hub.kits[TPS_C] in listed and kits["said_offline"] == 0
    assert kits["offline"] == kits["silent"] + kits["said_offline"]


def test_a_kit_heard_only_by_its_heartbeat_is_silent_alike_on_both_pages_and_the_command(
    hub, tmp_path
):
    # The replacement kit's only word is a heartbeat two hours ago: it has no election but
    # the registry's, and an election filter must keep it everywhere.
    copy = dataclasses.replace(hub, url=str(tmp_path / "hub.sqlite3"))
    shutil.copyfile(hub.url, copy.url)
    quiet = hub.kits["replacement"]
    store = copy.open_store()
    try:
        heartbeat = KitStatus(kit=quiet, state="online", software="0.1.0", model="m")
        record_status(store.db, quiet, utc_text(utcnow() - dt.timedelta(hours=2)), heartbeat)
    finally:
        store.close()
    with client_for(copy, silent_after=dt.timedelta(minutes=60)) as api:
        kits = {k["kit"]: k for k in get(api, "/kits", election=ELECTION)["kits"]}
        listed = get(api, "/anomalies", election=ELECTION)["silent_kits"]
    config = write_hub_toml(copy, 8080)
    run = CliRunner().invoke(
        hub_cli,
        ["anomalies", "--config", str(config), "--election", ELECTION, "--silent-after", "60"],
    )
    assert run.exit_code == 0, run.output
    command = json.loads(
        CliRunner()
        .invoke(hub_cli, ["anomalies", "--config", str(config), "--election", ELECTION, "--json"])
        .output
    )["silent_kits"]
    assert kits[quiet]["category"] == "silent" and kits[quiet]["last_seen"] is not None
    assert quiet in {s["kit"] for s in listed}
    assert quiet in {s["kit"] for s in command}
    assert f"silent-kit {quiet} {ELECTION} {TPS_E}" in run.output
    assert {s["kit"] for s in listed} == {s["kit"] for s in command}


def test_anomalies_real_and_training_apart(api, hub):
    real = get(api, "/anomalies", training="false")
    kinds = {(a["kind"], a["tps"]) for a in real["anomalies"]}
    assert ("changed-after-first-report", TPS_A) in kinds
    assert ("votes-above-registered", TPS_D) in kinds
    assert all(a["training"] is False for a in real["anomalies"])
    assert [s["kit"] for s in real["silent_kits"]] == [hub.kits["replacement"]]
    changed = next(a for a in real["anomalies"] if a["kind"] == "changed-after-first-report")
    assert "setelah laporan pertama" in changed["sentence"]
    assert get(api, "/anomalies", training="true")["anomalies"] == []
    by_election = get(api, "/anomalies", election=ELECTION)["anomalies"]
    assert {a["id"] for a in by_election} == {a["id"] for a in real["anomalies"]}
    assert error(api, "/anomalies", 400, resolved="maybe")["parameter"] == "resolved"


# -- receipts ----------------------------------------------------------------------------------


def receipt(api: TestClient, text: str) -> dict:
    return get(api, "/receipts", qr=text)


def test_receipt_of_the_version_that_counts(api, hub):
    answer = receipt(api, hub.receipt("a2", 2, TPS_A))
    assert answer["verdict"] == "counts"
    assert (answer["holds_document"], answer["counts"], answer["newer_version"]) == (
        True,
        True,
        False,
    )
    assert answer["document"]["document_sha256"] == hub.sha("a2")
    assert [c["document_sha256"] for c in answer["counting"]] == [hub.sha("a2")]
    document = proofs.inclusion_from_json_value(answer["inclusion"])
    proofs.verify_inclusion(document, hub.signed["a2"], hub_cert(hub), ca_cert(hub), utcnow())


def test_receipt_of_a_held_version_says_it_is_out_of_the_totals(api, hub):
    # d1 breaks a hard limit (votes above the registered): its KPPS must not read "counts".
    answer = receipt(api, hub.receipt("d1", 1, TPS_D))
    assert answer["verdict"] == "held" and "perlu verifikasi" in answer["message"]
    assert (answer["holds_document"], answer["counts"], answer["held"]) == (True, False, True)
    assert answer["inclusion"]["document_sha256"] == hub.sha("d1")  # logged all the same


def test_receipt_of_a_superseded_version(api, hub):
    answer = receipt(api, hub.receipt("a1", 1, TPS_A))
    assert answer["verdict"] == "superseded"
    assert (answer["holds_document"], answer["counts"], answer["newer_version"]) == (
        True,
        False,
        True,
    )
    assert answer["counting"][0]["seq"] == 2 and answer["inclusion"]["document_sha256"] == hub.sha(
        "a1"
    )


def test_receipt_of_an_unknown_document(api, hub):
    answer = receipt(api, f"TPSR1|{TPS_B}|1|{'ef' * 32}")
    assert answer["verdict"] == "unknown" and not answer["holds_document"]
    assert answer["document"] is None and answer["inclusion"] is None
    # What counts for that TPS instead, for the reader to compare.
    assert [c["document_sha256"] for c in answer["counting"]] == [hub.sha("b1")]


def test_receipt_naming_another_tps_or_seq_or_mode(api, hub):
    wrong_tps = receipt(api, hub.receipt("b1", 1, TPS_C))
    assert wrong_tps["verdict"] == "mismatch" and not wrong_tps["holds_document"]
    assert wrong_tps["mismatches"] == [
        f"tps: the receipt says {TPS_C}, the signed document says {TPS_B}"
    ]
    assert not wrong_tps["counts"]
    wrong_seq = receipt(api, hub.receipt("a2", 1, TPS_A))
    assert wrong_seq["verdict"] == "mismatch" and wrong_seq["mismatches"][0].startswith("seq")
    as_training = receipt(api, hub.receipt("b1", 1, TPS_B, training=True))
    assert as_training["mismatches"][0].startswith("training")


def test_training_receipt(api, hub):
    answer = receipt(api, hub.receipt("t1", 1, TPS_A, training=True))
    assert answer["verdict"] == "counts" and answer["receipt"]["training"]
    assert answer["document"]["election"] == TRAINING
    assert answer["inclusion"]["log_id"] == LOG_ID + "-latihan"


def test_receipt_by_its_parts(api, hub):
    answer = get(api, "/receipts", tps=TPS_A, seq="2", sha256=hub.sha("a2"))
    assert answer["verdict"] == "counts" and answer["receipt"]["text"] == hub.receipt(
        "a2", 2, TPS_A
    )
    bad = error(api, "/receipts", 400, tps=TPS_A, seq="two", sha256=hub.sha("a2"))
    assert bad["parameter"] == "seq"


@pytest.mark.parametrize(
    ("text", "parameter"),
    [
        ("hello", "qr.prefix"),
        (f"TPSR1|{TPS_A}|2", "qr"),
        (f"TPSR1|31.71|2|{'ab' * 32}", "qr.tps"),
        (f"TPSR1|{TPS_A}|0|{'ab' * 32}", "qr.seq"),
        (f"TPSR1|{TPS_A}|2|{'AB' * 32}", "qr.sha256"),
        (f"TPSR1|{TPS_A}|2|{'ab' * 32}|PRACTICE", "qr.mark"),
    ],
)
def test_malformed_receipt_names_the_wrong_part(api, text, parameter):
    assert error(api, "/receipts", 400, qr=text)["parameter"] == parameter


def test_receipt_needs_something_to_look_up(api):
    assert error(api, "/receipts", 400)["parameter"] == "qr"
    assert error(api, "/receipts", 400, tps=TPS_A)["parameter"] == "qr"


# -- built from hub.toml, as `tps-hub serve` does ----------------------------------------------


def test_app_from_hub_toml_reads_its_registry(hub, tmp_path):
    config = load_hub_config(write_hub_toml(hub, 8080))
    assert (config.api.host, config.api.port, config.api.silent_after) == ("127.0.0.1", 8080, 60)
    from hub.cli_common import registry as _registry  # as the recap commands load it

    with TestClient(app_from_config(config, _registry(config))) as api:
        real = get(api, "/contests", training="false")["contests"][0]
        assert (real["tps_reported"], real["tps_expected"]) == (3, 5)
        assert api.app.state.context.stores.size == 8  # [api] store_connections' default
        zones = get(api, "/time-zones")
        assert (zones["hub_region"], zones["hub_zone"]) == ("31.71", "WIB")


def test_a_hub_whose_ca_is_in_bali_keeps_its_own_times_in_wita(hub, tmp_path):
    from provisioning import authority as ca
    from tests.conftest import PASSPHRASE

    bali = ca.init_ca(
        tmp_path / "ca", region="51.71", name="KPU Kota Denpasar", passphrase=PASSPHRASE, days=30
    )
    paths = {"ca_certificate": str(bali.directory / ca.CERT_FILE)}
    config = load_hub_config(write_hub_toml(hub, 8080, paths=paths))
    with TestClient(app_from_config(config, ())) as api:
        zones = get(api, "/time-zones")
    assert (zones["hub_region"], zones["hub_zone"]) == ("51.71", "WITA")
    assert zones["provinces"]["51"] == "WITA" and zones["offsets"]["WITA"] == 8


def test_api_store_connections_come_from_hub_toml(hub):
    config = load_hub_config(write_hub_toml(hub, 8080, store_connections=2))
    from hub.cli_common import registry as _registry

    with TestClient(app_from_config(config, _registry(config))) as api:
        for _ in range(5):
            get(api, "/contests", training="false")
        pool = api.app.state.context.stores
        assert pool.size == 2 and pool.opened <= 2


def test_api_settings_are_strict():
    base = {"hub": {"id": "hub-uji", "log_id": "log-uji"}}
    assert parse_hub_config(base).api.port == 8080
    with pytest.raises(ConfigError) as caught:
        parse_hub_config({**base, "api": {"port": 8080, "listen": "0.0.0.0"}})
    assert "api.listen" in str(caught.value)
    with pytest.raises(ConfigError, match=r"api\.port"):
        parse_hub_config({**base, "api": {"port": 70000}})


def test_region_sums_equal_a_sum_over_the_counting_versions(api, hub):
    """Every region the API shows, against a from-scratch sum of the published documents."""
    expected: dict[str, int] = {}
    for name in REAL_PUBLISHED:
        tps = json.loads(result.parse_bundle(hub.signed[name])[0].payload)["tps"]
        for _, region, _ in regions_of(tps):
            expected[region] = expected.get(region, 0) + hub.fields[name]["V.C"]
    for region, total in expected.items():
        shown = get(api, f"/contests/{ELECTION}/{FORM}/regions", region=region)
        assert shown["region"]["totals"]["V.C"] == total


# -- serving many requests: a bounded pool of read-only stores ---------------------------------


def pooled_app(hub: FilledHub, size: int) -> tuple[FastAPI, list[ResultStore]]:
    """The app with a pool of ``size`` stores, and every store it ever opened."""
    opened: list[ResultStore] = []

    def open_store() -> ResultStore:
        store = ResultStore.open(hub.url, now=utcnow())
        opened.append(store)
        return store

    app = create_app(
        open_store,
        log_id=LOG_ID,
        training_log_id=LOG_ID + "-latihan",
        registry=hub.registry,
        store_pool_size=size,
    )
    return app, opened


def test_concurrent_requests_never_open_more_stores_than_the_pool_nor_share_one(hub):
    size = 3
    app, opened = pooled_app(hub, size)
    lock, busy, shared = threading.Lock(), set(), []

    def probe(store: Store) -> dict[str, int]:
        with lock:
            if id(store) in busy:
                shared.append(id(store))
            busy.add(id(store))
        try:
            row = store.db.one("SELECT COUNT(*) FROM documents")
            threading.Event().wait(0.002)  # widens the window two requests could overlap in
        finally:
            with lock:
                busy.discard(id(store))
        return {"documents": int(row[0]) if row else 0}

    app.add_api_route("/probe", probe)
    paths = ["/probe", f"{V1}/contests", f"{V1}/kits", f"{V1}/anomalies"] * 8
    with TestClient(app) as client, ThreadPoolExecutor(len(paths)) as threads:
        for _wave in range(4):
            answers = list(threads.map(lambda path: client.get(path).status_code, paths))
            assert answers == [200] * len(paths)
        assert 1 <= len(opened) <= size
        assert shared == []
    for store in opened:  # all closed at shutdown
        with pytest.raises(StoreError):
            store.db.one("SELECT 1")


def test_api_stores_refuse_writes_and_a_broken_one_is_not_lent_again(hub):
    app, opened = pooled_app(hub, 2)

    def write(store: Store) -> dict[str, str]:
        try:
            store.db.execute("UPDATE anomalies SET detail = detail")
        except StoreError as e:
            return {"refused": str(e)}
        return {"refused": ""}

    def broken(store: Store) -> None:
        raise StoreError("the connection went away")

    app.add_api_route("/write", write)
    app.add_api_route("/broken", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert "readonly" in client.get("/write").json()["refused"]
        assert client.get("/broken").status_code == 500
        assert client.get(f"{V1}/contests").status_code == 200
    assert len(opened) == 2  # the store behind the error was closed, a new one opened
    with pytest.raises(StoreError):
        opened[0].db.one("SELECT 1")


def test_serve_refuses_a_database_not_migrated_and_creates_nothing(hub, tmp_path):
    missing = tmp_path / "none.sqlite3"
    with pytest.raises(HubError, match="run `tps-hub migrate` first"):
        check_schema(str(missing))
    assert not missing.exists()
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    with pytest.raises(HubError, match="run `tps-hub migrate` first"):
        check_schema(str(empty))
    with sqlite3.connect(empty) as db:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == []
    check_schema(hub.url)  # the filled hub is at this software's schema


# -- receipts in other scripts' digits ---------------------------------------------------------


@pytest.mark.parametrize(
    ("seq", "tps"), [("\u00b2", TPS_A), ("\u0661", TPS_A), ("1", "31.71.01.1001.00\u0661")]
)
def test_a_receipt_in_other_scripts_digits_is_a_400_naming_the_part(api, hub, seq, tps):
    body = error(api, "/receipts", 400, qr=f"TPSR1|{tps}|{seq}|{hub.sha('a2')}")
    assert body["parameter"] == ("qr.seq" if tps == TPS_A else "qr.tps")


# -- a hub that changes while it is read ---------------------------------------------------------


@pytest.fixture
def changing_hub(tmp_path: Path) -> FilledHub:
    return fill_hub(tmp_path)


def test_tps_view_survives_a_rescan_between_its_reads(changing_hub, monkeypatch):
    hub, original, rescanned = changing_hub, ResultStore.versions, []

    def versions_then_rescan(self: ResultStore, election: str, tps: str, form_id: str):
        found = original(self, election, tps, form_id)
        if not rescanned:  # a rescan of TPS C lands between the view's two reads
            rescanned.append(True)
            hub.send("c2", TPS_C, form(8), seq=2, prev_sha256=hub.sha("c1"))
        return found

    monkeypatch.setattr(ResultStore, "versions", versions_then_rescan)
    with client_for(hub) as api:
        during = get(api, f"/contests/{ELECTION}/{FORM}/tps/{TPS_C}")
        assert during["counting"]["document_sha256"] in {
            v["document_sha256"] for v in during["versions"] if v["counts"]
        }
        after = get(api, f"/contests/{ELECTION}/{FORM}/tps/{TPS_C}")
    assert rescanned and after["counting"]["document_sha256"] == hub.sha("c2")
    assert [v["seq"] for v in after["versions"]] == [1, 2]


def test_inclusion_of_a_document_not_yet_under_a_signed_head_is_409(changing_hub):
    hub = changing_hub
    with sqlite3.connect(hub.url) as db:  # as if the worker had not signed its last head yet
        db.execute(
            "DELETE FROM translog_heads WHERE log = ? AND tree_size = "
            "(SELECT MAX(tree_size) FROM translog_heads WHERE log = ?)",
            (LOG_ID, LOG_ID),
        )
    with client_for(hub) as api:
        waiting = error(api, f"/documents/{hub.sha('d1')}/inclusion", 409)
        assert "not yet under a signed tree head" in waiting["detail"]
        assert error(api, f"/documents/{'cd' * 32}/inclusion", 404)
        get(api, f"/documents/{hub.sha('c1')}/inclusion")  # under the head before: proved


# -- a region view costs its children, never a scan of the expected TPS --------------------------


class WatchedCodes(frozenset):
    """Expected TPS codes that note each time they are scanned."""

    scans: ClassVar[list[int]] = []

    def __iter__(self):
        WatchedCodes.scans.append(1)
        return super().__iter__()


def test_a_region_view_does_not_scan_every_expected_tps(hub):
    with client_for(hub) as api:
        get(api, f"/contests/{ELECTION}/{FORM}/regions")  # the registry is indexed once here
        expected = api.app.state.context.expected
        expected.tps = {e: WatchedCodes(codes) for e, codes in expected.tps.items()}
        WatchedCodes.scans = []
        for region in ("", "31", "31.71", "31.71.02", "31.71.02.2001"):
            view = get(api, f"/contests/{ELECTION}/{FORM}/regions", region=region)
        assert WatchedCodes.scans == []
    assert [(t["region"], t["tps_expected"]) for t in view["children"]] == [(TPS_D, 1), (TPS_E, 1)]


# -- long lists, a page at a time ----------------------------------------------------------------


def pages(
    api: TestClient,
    path: str,
    items: str,
    totals: tuple[str, ...],
    *,
    cursor: str = "after",
    next_key: str = "next_after",
    **params,
) -> list[dict]:
    """Every page of a paged list, each checked to give the same totals as the first."""
    found: list[dict] = []
    first, after = None, None
    while True:
        page = get(api, path, **params, **({cursor: after} if after is not None else {}))
        shown = [page[k] for k in totals]
        first = shown if first is None else first
        assert shown == first and len(page[items]) <= params["limit"]
        found += page[items]
        after = page[next_key]
        if after is None:
            return found


def test_kits_come_a_page_at_a_time_with_totals_over_all(api, hub):
    whole = get(api, "/kits", training="false")
    assert whole["next_after"] is None and whole["total"] == len(whole["kits"]) == 6
    assert [k["kit"] for k in whole["kits"]] == sorted(k["kit"] for k in whole["kits"])
    for limit in (1, 2, 5):
        paged = pages(
            api, "/kits", "kits", ("total", "online", "offline"), training="false", limit=limit
        )
        assert paged == whole["kits"]
    first = get(api, "/kits", training="false", limit=2)
    assert (first["total"], first["online"], first["offline"]) == (6, 3, 2)
    assert error(api, "/kits", 400, limit=0)["parameter"] == "limit"
    assert error(api, "/kits", 400, limit=100_000)["parameter"] == "limit"


def test_anomalies_and_silent_kits_come_a_page_at_a_time(api, hub):
    whole = get(api, "/anomalies", training="false")
    assert whole["anomalies_total"] == len(whole["anomalies"]) >= 2
    assert whole["next_after"] is None and whole["silent_kits_total"] == 1
    paged = pages(api, "/anomalies", "anomalies", ("anomalies_total",), training="false", limit=1)
    assert paged == whole["anomalies"]
    later = utcnow() + dt.timedelta(hours=3)  # every kit silent by then
    with client_for(hub, now=lambda: later) as quiet:
        everyone = get(quiet, "/anomalies", training="false")["silent_kits"]
        assert len(everyone) == 5  # all but the revoked kit
        one_by_one = pages(
            quiet,
            "/anomalies",
            "silent_kits",
            ("silent_kits_total",),
            cursor="silent_kit_after",
            next_key="next_silent_kit_after",
            training="false",
            limit=1,
        )
    assert one_by_one == everyone
    assert error(api, "/anomalies", 400, after=-1)["parameter"] == "after"


# -- the same SQL on either database -------------------------------------------------------------


def test_kits_anomalies_and_read_only_stores_on_either_database(backend):
    """The paging SQL and the read-only setting, on SQLite and on PostgreSQL."""
    now = utcnow()
    store = backend.open_store()
    said = {k: KitStatus(kit=k, state=s, software="0.1.0", model="m") for k, s in _SAID}
    record_status(store.db, "kit-x", utc_text(now), said["kit-x"])
    record_status(store.db, "kit-y", utc_text(now - dt.timedelta(hours=2)), said["kit-y"])
    store.add_anomaly("rule-broken", "real", utc_text(now), election=ELECTION, tps=TPS_A)
    store.add_anomaly("rule-broken", "training", utc_text(now), election=TRAINING, tps=TPS_A)
    store.close()
    app = create_app(
        lambda: ResultStore(Database.open(backend.url, schema=backend.schema)),
        log_id=LOG_ID,
        training_log_id=LOG_ID + "-latihan",
        now=lambda: now,
    )

    def write(store: Store) -> dict[str, bool]:
        try:
            store.db.execute("UPDATE anomalies SET detail = 'changed'")
        except StoreError:
            return {"refused": True}
        return {"refused": False}

    app.add_api_route("/write", write)
    with TestClient(app) as api:
        kits = get(api, "/kits", limit=1)
        assert (kits["total"], kits["online"], kits["offline"]) == (2, 0, 2)
        assert [k["kit"] for k in kits["kits"]] == ["kit-x"] and kits["next_after"] == "kit-x"
        assert kits["kits"][0]["state"] == "offline"
        assert [k["kit"] for k in get(api, "/kits", after="kit-x")["kits"]] == ["kit-y"]
        real = get(api, "/anomalies", training="false")
        assert [a["detail"] for a in real["anomalies"]] == ["real"]
        assert [s["kit"] for s in real["silent_kits"]] == ["kit-y"]
        assert get(api, "/anomalies", training="true", limit=1)["anomalies_total"] == 1
        assert api.get("/write").json() == {"refused": True}
    assert anomaly_details(backend) == ["real", "training"]  # the write changed nothing


def anomaly_details(on: store_support.Backend) -> list[str]:
    store = on.open_store()
    try:
        return [str(r[0]) for r in store.db.all("SELECT detail FROM anomalies ORDER BY id")]
    finally:
        store.close()


_SAID = (("kit-x", "offline"), ("kit-y", "online"))


def test_the_api_is_described_on_a_page_that_works_offline(api):
    page = api.get(f"{V1}/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    spec = get(api, "/openapi.json")
    for path in spec["paths"]:
        assert f"{path}</code>" in page.text
    assert "<script" not in page.text and "http://" not in page.text.replace("http://www.w3", "")
    assert 'id="schema-RegionView"' in page.text


def test_a_page_is_rectified_only_to_the_template_version_the_kit_read_with():
    from hub.api.documents import page_frame
    from hub.api.rectify import Frame
    from protocol.document import parse_document
    from protocol.forms.loader import load_template
    from tests.conftest import make_document

    class Kit:
        kit_id, tps, election = "kit-3171011001001-1", TPS_A, ELECTION

    value = make_document(Kit()).to_json_value()
    version = load_template(FORM).version
    assert value["form"] == FORM
    same = parse_document(value | {"form_version": version})
    assert page_frame(same, 2) == Frame(600.0, 900.0)
    assert page_frame(same, 9) is None  # no such page on the form
    # Another version may place its page differently: the photo is shown as taken.
    assert page_frame(parse_document(value | {"form_version": version + 1}), 2) is None
