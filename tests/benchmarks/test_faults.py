"""The fault run at its smallest: three kits, each part of the site killed once (hub worker,
broker, a judging process, a kit mid-send), SQLite; nothing lost or doubled."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_kill_and_restart_of_hub_broker_judging_and_kit_loses_and_doubles_nothing(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "faults.py"),
            *("--store", "sqlite", "--tps", "3", "--versions", "2"),
            *("--resend-s", "2", "--down-s", "1", "--between-s", "1", "--timeout", "90"),
            "--no-broker-saved",  # its first autosave is a minute away: killed with none
            *("--keep", str(tmp_path / "run")),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-4000:]
    figures = json.loads(done.stdout.splitlines()[-2])
    (run,) = figures["results"]
    assert run["problems"] == []
    phases = {p["phase"]: p for p in run["phases"]}
    assert list(phases) == ["steady", "hub", "broker", "judging", "kit"]
    for fault in ("hub", "broker", "judging", "kit"):
        assert phases[fault]["came_back"] and phases[fault]["recover_s"] is not None
    assert "mid-send" in phases["kit"]["note"]
    # Checked against the kits' outboxes: each sealed result stored once and logged once.
    assert run["sealed"] == run["stored"] == run["log_entries"] >= 3 * 4
    assert run["tps_reported"] == 3
