"""`tps-provision forms synth`: filled, photographed forms with their truth."""

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

from protocol.forms.loader import load_template
from protocol.forms.rules import evaluate

BIN = Path(sys.executable).parent
DIGITS = Path(__file__).resolve().parents[1] / "fixtures" / "digits" / "heldout-300"


def test_synth_writes_pages_and_truth_that_obeys_the_rules(tmp_path):
    out = tmp_path / "set"
    done = subprocess.run(
        [
            str(BIN / "tps-provision"),
            "forms",
            "synth",
            "--digits",
            str(DIGITS),
            "--forms",
            "2",
            "--seed",
            "5",
            "--out",
            str(out),
            "--form",
            "ppwp-plano",
            "--form",
            "pkwkk-kk1",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        f"000{n}-{p}.{ext}" for n in (1, 2) for p in (1, 2, 3) for ext in ("jpg", "json")
    ]
    frame = cv2.imread(str(out / "0001-2.jpg"), cv2.IMREAD_GRAYSCALE)
    assert frame.shape == (3040, 4056)
    for n, form in ((1, "ppwp-plano"), (2, "pkwkk-kk1")):
        truths = [json.loads((out / f"000{n}-{p}.json").read_text()) for p in (1, 2, 3)]
        assert {t["form"] for t in truths} == {form}
        assert truths[0]["tps"] == f"31.71.01.1001.00{n}"
        values = {k: v for t in truths for k, v in t["fields"].items()}
        assert evaluate(load_template(form), values).ok
        for t in truths:
            for field_id, boxes in t["boxes"].items():
                digits = "".join(b for b in boxes if b not in ("X", "blank"))
                assert int(digits) == t["fields"][field_id]
    bubbles = json.loads((out / "0001-2.json").read_text())["bubbles"]
    assert set(bubbles) == {"IV.1", "IV.2", "IV.3"}


def _synth(folder, *flags: str, seed: int, form: str = "ppwp-salinan", forms: int = 1) -> None:
    """``forms`` forms (one by default) through the real command line."""
    subprocess.run(
        [
            str(BIN / "tps-provision"),
            "forms",
            "synth",
            "--digits",
            str(DIGITS),
            "--forms",
            str(forms),
            "--seed",
            str(seed),
            "--out",
            str(folder),
            "--form",
            form,
            *flags,
        ],
        check=True,
        capture_output=True,
    )


def test_synth_is_reproducible_from_its_seed(tmp_path):
    def run(folder):
        _synth(folder, seed=9)
        return [(folder / f"0001-{p}.jpg").read_bytes() for p in (1, 2)]

    assert run(tmp_path / "a") == run(tmp_path / "b")


def test_synth_names_a_missing_digit_file(tmp_path):
    done = subprocess.run(
        [
            str(BIN / "tps-provision"),
            "forms",
            "synth",
            "--digits",
            str(tmp_path / "nope"),
            "--forms",
            "1",
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "check the --digits prefix" in done.stderr


def test_random_truth_values_differ_between_forms(tmp_path):
    rng_values = set()
    for seed in (1, 2, 3):
        from provisioning.synth.values import consistent_values

        rng_values.add(
            tuple(
                sorted(
                    consistent_values(
                        load_template("ppwp-plano"), np.random.default_rng(seed)
                    ).items()
                )
            )
        )
    assert len(rng_values) == 3


def test_synth_prints_the_qr_code_and_folds_the_sheet_when_asked(tmp_path):
    def run(name, *flags):
        folder = tmp_path / name
        _synth(folder, *flags, seed=3)
        truth = json.loads((folder / "0001-2.json").read_text())
        return cv2.imread(str(folder / "0001-2.jpg"), cv2.IMREAD_GRAYSCALE), truth

    plain, plain_truth = run("plain")
    qr, qr_truth = run("qr", "--qr")
    folded, folded_truth = run("folded", "--fold")
    assert (plain_truth["qr"], qr_truth["qr"], folded_truth["qr"]) == (False, True, False)
    # The QR code is all that changes: a small square of the frame.
    ys, xs = np.nonzero(cv2.absdiff(plain, qr) > 40)
    assert len(xs) > 500
    assert xs.max() - xs.min() < 250 and ys.max() - ys.min() < 250
    assert cv2.absdiff(plain, folded).mean() > 1  # another photograph altogether
    assert plain_truth["photo"]["surface"]["crease_mm"] == 0
    assert folded_truth["photo"]["surface"]["crease_mm"] != 0
    assert folded_truth["photo"]["surface"]["curl_mm"] > 0
    for key in ("fields", "boxes", "bubbles"):
        assert folded_truth[key] == plain_truth[key] == qr_truth[key]


def test_synth_help_names_the_new_options():
    done = subprocess.run(
        [str(BIN / "tps-provision"), "forms", "synth", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--fold" in done.stdout and "folded, curled sheets" in done.stdout
    assert "--qr" in done.stdout and "optional QR code" in done.stdout


def test_synth_with_a_manifest_writes_each_tps_official_dpt_on_rows_i_a(tmp_path, region):
    from tests.manifests import ppwp_manifest, signed_manifest

    registers = {"31.71.01.1001.001": (120, 131), "31.71.01.1001.002": (88, 90)}
    manifest = tmp_path / "election.json"
    manifest.write_bytes(signed_manifest(region.authority, ppwp_manifest(registers)))
    ca = ["--manifest", str(manifest), "--ca", str(region.ca_dir)]
    out = tmp_path / "set"
    _synth(out, *ca, seed=1, form="ppwp-plano", forms=2)
    for n, (men, women) in enumerate(registers.values(), 1):
        truth = json.loads((out / f"000{n}-1.json").read_text())
        assert truth["election"] == "pemilu-2024"
        assert [truth["fields"][f"I.A.{r}"] for r in ("L", "P", "JML")] == [
            men,
            women,
            men + women,
        ]
    # A form for a TPS the manifest does not list would carry a DPT from nowhere: refused.
    done = subprocess.run(
        [
            *(str(BIN / "tps-provision"), "forms", "synth", "--digits", str(DIGITS)),
            *("--forms", "3", "--out", str(tmp_path / "more"), "--form", "ppwp-plano", *ca),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "1 of the forms' TPS are not in the manifest" in done.stderr
    assert "31.71.01.1001.003" in done.stderr
