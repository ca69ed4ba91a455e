"""The README's demo runs the whole path and ends with the hub's recapitulation and the
address of its dashboard, which answered over HTTP before the demo stopped it. The region is
made from a signed election manifest: every kit's form carries its TPS's official DPT, so
the kits sign without a doubt and the hub finds nothing to flag."""

import json
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
    assert "the signed election manifest (2 TPS and their DPT), 2 kits enrolled" in out
    # Each kit's bundle holds its TPS's DPT; its KPPS copied that onto rows I.A, so the kit's
    # DPT rule confirmed them (a row against the list would be a doubt: "needs a look").
    for n in (1, 2):
        (kit,) = (tmp_path / "kits").glob(f"kit-317101100100{n}-*")
        listed = json.loads((kit / "tps.json").read_text())["dpt"]
        truth = json.loads((tmp_path / "forms" / f"000{n}-1.json").read_text())["fields"]
        assert (truth["I.A.L"], truth["I.A.P"]) == (listed["dpt_l"], listed["dpt_p"])
    assert out.count("signed and queued  receipt: TPSR1|31.71.01.1001.00") == 2
    assert "2 signed results delivered and acknowledged" in out
    assert "2/2 TPS (100.0%)" in out and "V.C" in out
    # The hub compared both with the manifest it loaded: nothing differs.
    assert "\n0 anomalies, 0 kits silent" in out
    # The end: the dashboard's address, and what its API said when asked over HTTP.
    dashboard = re.search(
        r"^dashboard: (http://127\.0\.0\.1:\d+/) +\(its API reports (.*)\)$", out, re.M
    )
    assert dashboard is not None, out
    assert dashboard.group(2) == "pemilu-2024 (Pemilihan Umum Tahun 2024) ppwp-plano: 2/2 TPS"
    assert out.index("2/2 TPS (100.0%)") < dashboard.start()
