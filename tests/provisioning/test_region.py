"""A region's kits in one sitting with the election manifest: enrolled, bundled with their
TPS's slice, forms printed with names, listed; bad rows reported and rerun from a file."""

from __future__ import annotations

import csv
import io
import tomllib

import pypdfium2 as pdfium
import pytest

from protocol.errors import FieldError
from protocol.manifest import OfficialDpt
from protocol.tpsslice import SLICE_FILE, load_official_dpt, load_tps_slice
from tests.provisioning.test_election import FIXTURES, make, run

ELECTION = "pilkada-2024"
TPS = "17.71.01.1001.001"


@pytest.fixture
def region(tmp_path):
    ca = tmp_path / "ca"
    done = run("tps-provision", "ca", "init", "--ca", ca, "--region", "17.71", "--name", "KPU")
    assert done.returncode == 0, done.stderr
    manifest = tmp_path / "election.json"
    done = make(ca, FIXTURES / "dpt.csv", manifest)
    assert done.returncode == 0, done.stderr
    return tmp_path, ca, manifest


def provision(*args):
    return run("tps-provision", *args)


def test_region_in_one_sitting(region):
    root, ca, manifest = region
    kits = root / "kits"
    done = provision("kit", "enroll", "--ca", ca, "--manifest", manifest, "--out", kits)
    assert done.returncode == 0, done.stderr
    assert "enrolled 6 of 6 kits" in done.stdout
    again = provision("kit", "enroll", "--ca", ca, "--manifest", manifest, "--out", kits)
    assert again.returncode == 0 and "6 TPS of the manifest already have a kit" in again.stdout
    done = provision(
        "kit", "bundle", "--ca", ca, "--manifest", manifest, "--all", "--kits", kits,
        "--broker", "hub.kpu-1771.example:8883",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "bundled 6 of 6 kits" in done.stdout
    kit_dir = kits / "kit-1771011001001-1"
    config = tomllib.loads((kit_dir / "kit.toml").read_text())
    assert config["forms"]["ids"] == ["pkwkp-2", "pkwkk-kk2"]
    assert load_official_dpt(kit_dir, tps=TPS, election=ELECTION) == OfficialDpt(120, 131)
    cut = load_tps_slice(kit_dir / SLICE_FILE, tps=TPS, election=ELECTION)
    assert cut.names["desa"] == "Pagar Dewa"
    assert cut.contests[1].options[1].kolom_kosong

    pdf = root / "walikota.pdf"
    done = provision(
        "forms", "print", "--ca", ca, "--manifest", manifest, "--form", "pkwkk-kk2", "--all",
        "--out", pdf,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = pdfium.PdfDocument(str(pdf))
    assert len(document) == 18
    text = document[0].get_textpage().get_text_range()
    for line in ("Bengkulu (17)", "Kota Bengkulu (17.71)", "Selebar (17.71.01)"):
        assert line in text
    assert "Pagar Dewa (17.71.01.1001)" in text

    out = root / "kits.csv"
    done = provision("kits", "list", "--ca", ca, "--manifest", manifest, "--csv", out)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["status"] for r in rows] == ["active"] * 6
    assert rows[0]["kit"] == "kit-1771011001001-1" and rows[0]["desa"] == "Pagar Dewa"
    assert provision("revoke", "--ca", ca, "kit-1771011001001-1").returncode == 0
    done = provision("kits", "list", "--ca", ca, "--manifest", manifest)
    lines = [line for line in done.stdout.splitlines() if line.startswith(TPS)]
    assert ["missing" in lines[0], "revoked" in lines[1]] == [True, True]


def test_bundle_refused_for_an_unknown_form(region):
    root, ca, _ = region
    kits = root / "kits"
    assert provision("kit", "enroll", "--ca", ca, "--election", ELECTION, "--tps", TPS,
                     "--out", kits).returncode == 0  # fmt: skip
    kit_dir = kits / "kit-1771011001001-1"
    done = provision("kit", "bundle", "--ca", ca, kit_dir, "--broker", "hub:8883", "--form", "ppwp")
    assert done.returncode == 1
    assert "unknown form 'ppwp'" in done.stderr and "ppwp-plano" in done.stderr
    assert not (kit_dir / "kit.toml").exists()
    # A public address whose query would override the receipt's own fields is refused.
    smuggled = "https://hub.example/?tps=31.71.01.1001.002"
    done = provision("kit", "bundle", "--ca", ca, kit_dir, "--broker", "hub:8883",
                     "--public-url", smuggled, "--form", "ppwp-plano")  # fmt: skip
    assert done.returncode == 2 and "--public-url" in done.stderr and "no query" in done.stderr
    assert not (kit_dir / "kit.toml").exists()


def test_bundle_refuses_a_form_the_tps_does_not_vote_with(region):
    root, ca, manifest = region
    kits = root / "kits"
    assert provision("kit", "enroll", "--ca", ca, "--manifest", manifest, "--out", kits).returncode == 0  # fmt: skip  # noqa: E501
    done = provision(
        "kit", "bundle", "--ca", ca, kits / "kit-1771011001001-1", "--manifest", manifest,
        "--broker", "hub:8883", "--form", "ppwp-plano",
    )  # fmt: skip
    assert done.returncode == 1
    assert "votes with pkwkp-2, pkwkk-kk2 by the manifest, not ppwp-plano" in done.stderr


def test_a_tps_without_a_kit_is_named_and_the_rerun_takes_the_failed_file(region):
    root, ca, manifest = region
    kits = root / "kits"
    listed = root / "five.csv"
    listed.write_text("tps\n" + "".join(f"17.71.01.{d}.00{n}\n" for d in (1001, 1002)
                                        for n in (1, 2)) + "17.71.02.1001.001\n")  # fmt: skip
    assert provision("kit", "enroll", "--ca", ca, "--election", ELECTION, "--csv", listed,
                     "--out", kits).returncode == 0  # fmt: skip
    bundle = ("kit", "bundle", "--ca", ca, "--manifest", manifest, "--kits", kits,
              "--broker", "hub:8883")  # fmt: skip
    done = provision(*bundle, "--all", "-q")
    assert done.returncode == 1
    assert "bundled 5 of 6 kits" in done.stdout
    assert "TPS 17.71.02.1001.002: no kit is enrolled for TPS 17.71.02.1001.002" in done.stderr
    failed = kits / "bundle.failed.csv"
    assert failed.read_text() == "tps\n17.71.02.1001.002\n"
    assert provision("kit", "enroll", "--ca", ca, "--manifest", manifest, "--out", kits).returncode == 0  # fmt: skip  # noqa: E501
    done = provision(*bundle, "--csv", failed)
    assert done.returncode == 0, done.stderr
    assert "bundled 1 of 1 kits" in done.stdout


def test_a_slice_for_another_tps_is_refused(region):
    root, ca, manifest = region
    kits = root / "kits"
    provision("kit", "enroll", "--ca", ca, "--manifest", manifest, "--out", kits)
    provision("kit", "bundle", "--ca", ca, "--manifest", manifest, "--all", "--kits", kits,
              "--broker", "hub:8883")  # fmt: skip
    other = kits / "kit-1771011001002-1"
    with pytest.raises(FieldError, match=r"this kit serves 17\.71\.01\.1001\.001"):
        load_official_dpt(other, tps=TPS, election=ELECTION)
