"""`tps-kit read`: what a technician or trainer runs on photos of a form."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("cv2")

from protocol.forms.loader import load_template
from protocol.idx import load_digits
from provisioning.synth.forms import synthesize_form
from provisioning.synth.handwriting import DigitBank
from provisioning.synth.photo import Conditions

BIN = Path(sys.executable).parent
DIGITS = Path(__file__).resolve().parents[1] / "fixtures" / "digits" / "heldout-300"
STEADY = Conditions(-1.0, 0.0, 0.01, 0.0, 0.01, 1.0, 0.1, 0.0, 0.5, 2.0, 90)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    bank = DigitBank(*load_digits(DIGITS))
    pages = synthesize_form(
        load_template("ppwp-plano"),
        tps="31.71.01.1001.001",
        election="pemilu-2024",
        bank=bank,
        rng=np.random.default_rng(42),
        conditions=STEADY,
    )
    paths = []
    for page in pages:
        path = folder / f"page-{page.number}.jpg"
        path.write_bytes(page.jpeg)
        paths.append(path)
    truth = {k: v for p in pages for k, v in p.truth["fields"].items()}
    return paths, truth


def kit(*args):
    return subprocess.run([str(BIN / "tps-kit"), *map(str, args)], capture_output=True, text=True)


def test_read_json_gives_every_field_with_its_probability(photos):
    paths, truth = photos
    done = kit("read", "--json", "--tps", "31.71.01.1001.001", *paths)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["form"], report["tps"], report["complete"]) == (
        "ppwp-plano",
        "31.71.01.1001.001",
        True,
    )
    assert set(report["fields"]) == set(truth)
    right = sum(report["fields"][k]["value"] == v for k, v in truth.items())
    assert right >= len(truth) - 1
    for field in report["fields"].values():
        assert 0.0 <= field["p"] <= 1.0 and len(field["boxes"]) == 3
    assert report["fields"]["IV.1"]["bubbles"]["value"] is not None
    assert len(report["model_sha256"]) == 64 and len(report["template_sha256"]) == 64


def test_read_prints_a_table_for_people(photos):
    paths, _ = photos
    done = kit("read", paths[1])
    assert done.returncode == 0, done.stderr
    assert (
        "ppwp-plano" in done.stdout and "IV.2" in done.stdout and "missing: [1, 3]" in done.stdout
    )


def test_read_refuses_page_of_another_tps_with_non_zero_exit(photos):
    paths, _ = photos
    done = kit("read", "--tps", "31.71.01.1001.009", paths[0])
    assert done.returncode == 2
    assert "not this kit's TPS 31.71.01.1001.009" in done.stderr
    assert "TPS lain" in done.stderr  # what the kit's screen would say


def test_read_refuses_the_same_page_twice(photos):
    paths, _ = photos
    done = kit("read", paths[0], paths[0])
    assert done.returncode == 2 and "already scanned" in done.stderr


def test_read_refuses_a_file_that_is_not_a_photo(tmp_path):
    bogus = tmp_path / "notes.jpg"
    bogus.write_text("not an image")
    done = kit("read", bogus)
    assert done.returncode == 2 and "is not an image" in done.stderr
