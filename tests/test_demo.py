"""The README's demo runs the whole path and ends with the hub's recapitulation and the
address of its dashboard, which answered over HTTP before the demo stopped it."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_demo_delivers_every_kits_result_and_recapitulates(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "demo.py"),
            "--kits",
            "2",
            "--keep",
            str(tmp_path),
            "--no-serve",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert out.count("signed and queued  receipt: TPSR1|31.71.01.1001.00") == 2
    assert "2 signed results delivered and acknowledged" in out
    assert "2/2 TPS (100.0%)" in out and "V.C" in out
    # The end: the dashboard's address, and what its API said when asked over HTTP.
    dashboard = re.search(
        r"^dashboard: (http://127\.0\.0\.1:\d+/) +\(its API reports (.*)\)$", out, re.M
    )
    assert dashboard is not None, out
    assert dashboard.group(2) == "pemilu-2024 ppwp-plano: 2/2 TPS"
    assert out.index("2/2 TPS (100.0%)") < dashboard.start()
