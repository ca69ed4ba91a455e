"""Citizens' reports: anyone may say a TPS's photo and numbers disagree; each report is
rate-limited, stored apart from the results, never changes a count, and an operator
resolves it (`tps-hub reports`)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.cli import main
from hub.reports import Limits, ReportStore
from hub.store import ResultStore
from tests.hub.test_api_support import ELECTION, FORM, TPS_B, FilledHub, fill_hub, write_hub_toml
from tests.hub.test_store_support import LOG_ID, utcnow

V1 = "/api/v1"
REPORTS = f"{V1}/contests/{ELECTION}/{FORM}/tps/{TPS_B}/reports"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> FilledHub:
    return fill_hub(tmp_path_factory.mktemp("reports"))


class Clock:
    def __init__(self) -> None:
        self.at = dt.datetime(2024, 2, 14, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def reports(tmp_path: Path, clock: Clock) -> Iterator[ReportStore]:
    store = ReportStore(tmp_path / "citizen-reports.sqlite3", limits=Limits(3, 10), now=clock)
    yield store


@pytest.fixture
def api(hub: FilledHub, reports: ReportStore) -> Iterator[TestClient]:
    app = create_app(
        lambda: ResultStore.open(hub.url, now=utcnow()),
        log_id=LOG_ID,
        training_log_id=LOG_ID + "-latihan",
        registry=hub.registry,
        citizen_reports=reports,
    )
    with TestClient(app) as client:
        yield client


def whole(api: TestClient) -> dict:
    return api.get(f"{V1}/contests/{ELECTION}/{FORM}/regions").json()["region"]


def test_a_report_is_stored_apart_and_never_changes_a_count(api, hub, reports):
    before = whole(api)
    tps_before = api.get(f"{V1}/contests/{ELECTION}/{FORM}/tps/{TPS_B}").json()["fields"]
    answer = api.post(REPORTS, json={"field": "IV.2", "read_value": 48, "note": "foto jelas 48"})
    assert answer.status_code == 201, answer.text
    report = answer.json()
    assert report["shown_value"] == hub.fields["b1"]["IV.2"] and report["read_value"] == 48
    assert report["resolved_at"] is None
    assert whole(api) == before
    assert api.get(f"{V1}/contests/{ELECTION}/{FORM}/tps/{TPS_B}").json()["fields"] == tps_before
    listed = api.get(REPORTS).json()
    assert listed["accepting"] and [r["id"] for r in listed["reports"]] == [report["id"]]
    assert [r["id"] for r in api.get(f"{V1}/reports").json()["reports"]] == [report["id"]]
    # Apart: nothing of it in the results database, whose connections stay read-only.
    results = sqlite3.connect(hub.url)
    try:
        tables = {r[0] for r in results.execute("SELECT name FROM sqlite_master")}
    finally:
        results.close()
    assert not any("report" in t for t in tables)


def test_report_flooding_is_refused_per_reporter_and_overall(api, reports, clock):
    for n in range(3):
        assert api.post(REPORTS, json={"field": "IV.1", "read_value": n}).status_code == 201
    refused = api.post(REPORTS, json={"field": "IV.1", "read_value": 9})
    assert refused.status_code == 429 and "satu jam" in refused.json()["detail"]
    assert len(reports.listed()) == 3  # the refused one is not stored
    clock.at += dt.timedelta(hours=1, seconds=1)
    assert api.post(REPORTS, json={"field": "IV.1", "read_value": 9}).status_code == 201
    # Many addresses at once: the overall limit per minute.
    for n in range(9):
        reports.add(
            election=ELECTION,
            form=FORM,
            tps=TPS_B,
            field="IV.1",
            read_value=n,
            shown_value=None,
            note="",
            address=f"10.0.0.{n}",
        )
    crowd = api.post(REPORTS, json={"field": "IV.1", "read_value": 1})
    assert crowd.status_code == 429 and "satu menit" in crowd.json()["detail"]


def test_a_report_names_a_field_of_the_form_and_a_tps_the_hub_holds(api):
    assert api.post(REPORTS, json={"field": "IX.9", "read_value": 1}).status_code == 400
    assert api.post(REPORTS, json={"field": "IV.1", "read_value": 1000}).status_code == 400
    other = f"{V1}/contests/{ELECTION}/{FORM}/tps/31.71.01.1001.009/reports"
    missing = api.post(other, json={"field": "IV.1", "read_value": 1})
    assert missing.status_code == 404 and "tidak menyimpan hasil" in missing.json()["detail"]


def test_reporters_are_kept_only_as_a_keyed_hash(api, reports):
    api.post(REPORTS, json={"field": "IV.1", "read_value": 1})
    db = sqlite3.connect(reports.path)
    try:
        stored = [r[0] for r in db.execute("SELECT reporter FROM reports")]
    finally:
        db.close()
    assert stored == [reports.reporter("testclient")] and "testclient" not in stored[0]


def test_a_hub_without_a_reports_file_takes_none(hub):
    app = create_app(
        lambda: ResultStore.open(hub.url, now=utcnow()),
        log_id=LOG_ID,
        training_log_id=LOG_ID + "-latihan",
    )
    with TestClient(app) as api:
        assert api.get(REPORTS).json() == {"reports": [], "accepting": False}
        refused = api.post(REPORTS, json={"field": "IV.1", "read_value": 1})
        assert refused.status_code == 404 and "tidak menerima laporan" in refused.json()["detail"]


def test_an_operator_lists_and_resolves_reports(hub, tmp_path):
    path = write_hub_toml(hub, 8080, paths={"citizen_reports": str(tmp_path / "reports.sqlite3")})
    store = ReportStore(tmp_path / "reports.sqlite3")
    added = store.add(
        election=ELECTION,
        form=FORM,
        tps=TPS_B,
        field="IV.2",
        read_value=48,
        shown_value=44,
        note="foto jelas",
        address="10.1.1.1",
    )
    store.close()
    run = CliRunner().invoke(main, ["reports", "list", "--config", str(path)])
    assert run.exit_code == 0, run.output
    assert f"#{added.id}" in run.output and "hub shows 44, the photo reads 48" in run.output
    done = CliRunner().invoke(
        main,
        ["reports", "resolve", str(added.id), "--note", "Dicek: 44 benar", "--config", str(path)],
    )
    assert done.exit_code == 0, done.output
    assert (
        CliRunner()
        .invoke(main, ["reports", "list", "--config", str(path)])
        .output.endswith("0 reports\n")
    )
    again = CliRunner().invoke(
        main, ["reports", "resolve", str(added.id), "--note", "x", "--config", str(path)]
    )
    assert again.exit_code != 0 and "no open report" in again.output
    store = ReportStore(tmp_path / "reports.sqlite3")
    try:
        assert store.get(added.id).resolution == "Dicek: 44 benar"
    finally:
        store.close()
