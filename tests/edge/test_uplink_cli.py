"""`tps-kit outbox list` and `tps-kit outbox export`: what a technician sees and carries."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from edge.outbox import Outbox
from firmware.cli import main
from protocol.kitconfig import dump_kit_config, parse_kit_config
from tests.conftest import seal_next

TPS = "31.71.01.1001.001"


@pytest.fixture
def kit_dir(region, tmp_path):
    """A kit.toml whose state_dir holds an outbox with three results in three states."""
    kit = region.kit(TPS)
    directory = tmp_path / "kit"
    (directory / "state").mkdir(parents=True)
    config = parse_kit_config(
        {
            "kit": {"id": kit.kit_id, "tps": TPS, "election": kit.election, "region": "31.71"},
            "broker": {"host": "hub.local", "port": 8883},
            "forms": {"ids": ["ppwp-plano"]},
        }
    )
    (directory / "kit.toml").write_bytes(dump_kit_config(config))
    with Outbox.open(directory / "state" / "outbox.sqlite3") as outbox:
        for _ in range(3):
            seq = outbox.next_chain().seq
            seal_next(outbox, kit, {2: f"page of seq {seq}".encode()})
        outbox.mark_sent(1)
        outbox.acknowledge(outbox.get(1).sha256, accepted=True)
        outbox.mark_failed(2, "broker refused the publish: Not authorized (135)")
    return directory


def test_list_shows_each_result_with_state_tries_and_problem(kit_dir):
    result = CliRunner().invoke(main, ["outbox", "list", "--config", str(kit_dir / "kit.toml")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["SEQ", "SHA256", "FORM", "STATE", "TRIES", "AGE"]
    assert lines[1].split()[0::2][:3] == ["1", "ppwp-plano", "1"]
    assert "acknowledged" in lines[1] and "queued" in lines[2] and "Not authorized" in lines[2]
    assert lines[3].split()[3] == "queued" and lines[3].split()[4] == "0"
    assert lines[-1].startswith("3 stored, 2 waiting for the hub (2 not yet with the broker)")


def test_export_writes_the_signed_results_and_a_manifest(kit_dir, tmp_path):
    usb = tmp_path / "usb"
    outbox = kit_dir / "state" / "outbox.sqlite3"
    result = CliRunner().invoke(main, ["outbox", "export", str(usb), "--outbox", str(outbox)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((usb / "manifest.json").read_text())
    assert [d["seq"] for d in manifest["documents"]] == [1, 2, 3]
    with Outbox.open(outbox) as opened:
        first = opened.get(1)
    assert (usb / first.filename).read_bytes() == first.signed
    assert "exported 3 result(s)" in result.output


def test_outbox_source_must_be_given_once_and_must_exist(kit_dir, tmp_path):
    runner = CliRunner()
    neither = runner.invoke(main, ["outbox", "list"])
    assert neither.exit_code == 2 and "exactly one of" in neither.output
    missing = tmp_path / "nowhere.sqlite3"
    result = runner.invoke(main, ["outbox", "list", "--outbox", str(missing)])
    assert result.exit_code == 1 and "no outbox at" in result.output
    assert not missing.exists()  # a reading command never creates an empty outbox
