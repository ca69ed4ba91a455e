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


TPS, ELECTION = "31.71.01.1001.001", "pemilu-2024"


def synthesize(**kwargs):
    return synthesize_form(
        load_template("ppwp-plano"),
        tps=TPS,
        election=ELECTION,
        bank=DigitBank(*load_digits(DIGITS)),
        rng=np.random.default_rng(42),
        conditions=STEADY,
        **kwargs,
    )


def save(folder, pages, prefix="page"):
    paths = []
    for page in pages:
        path = folder / f"{prefix}-{page.number}.jpg"
        path.write_bytes(page.jpeg)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """A KPU sheet: no QR code, so the TPS and election come from the kit."""
    pages = synthesize()
    truth = {k: v for p in pages for k, v in p.truth["fields"].items()}
    return save(tmp_path_factory.mktemp("photos"), pages), truth


def paint_over_tag(image, px_per_mm):
    tag = load_template("ppwp-plano").page(2).tag
    lo = [round((v - tag.quiet) * px_per_mm) for v in (tag.x, tag.y)]
    hi = [round((v + tag.size + tag.quiet) * px_per_mm) for v in (tag.x, tag.y)]
    image[lo[1] : hi[1], lo[0] : hi[0]] = 255


@pytest.fixture(scope="module")
def covered_tag(tmp_path_factory, photos):
    """The form with page 2's tag painted over: pages 1 and 3 as before."""
    folder = tmp_path_factory.mktemp("covered")
    [page_2] = save(folder, synthesize(only_pages=[2], before_photo=paint_over_tag))
    paths, _ = photos
    return [paths[0], page_2, paths[2]]


@pytest.fixture(scope="module")
def qr_photo(tmp_path_factory):
    """Page 1 of a sheet we printed ourselves, with the optional QR code."""
    pages = synthesize(only_pages=[1], qr=True)
    return save(tmp_path_factory.mktemp("qr"), pages, "qr")[0]


def kit(*args):
    return subprocess.run([str(BIN / "tps-kit"), *map(str, args)], capture_output=True, text=True)


def test_read_json_gives_every_field_with_its_probability(photos):
    paths, truth = photos
    done = kit("read", "--json", "--tps", TPS, "--election", ELECTION, *paths)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["form"], report["tps"], report["election"], report["complete"]) == (
        "ppwp-plano",
        TPS,
        ELECTION,
        True,
    )
    assert [(p["file"], p["page"], p["outcome"]) for p in report["pages"]] == [
        (str(path), n, "read") for n, path in enumerate(paths, 1)
    ]
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


def test_one_unreadable_page_does_not_sink_the_form(covered_tag):
    done = kit("read", "--json", "--tps", TPS, *covered_tag)
    assert done.returncode == 2, done.stderr
    report = json.loads(done.stdout)
    outcomes = [p["outcome"] for p in report["pages"]]
    assert outcomes == ["read", "refused", "read"]
    refused = report["pages"][1]
    assert refused["file"] == str(covered_tag[1]) and refused["page"] in (None, 2)
    assert refused["kind"].endswith("Error") and refused["message"] and refused["pesan"]
    assert (report["form"], report["tps"], report["complete"]) == ("ppwp-plano", TPS, False)
    assert report["missing_pages"] == [2] and "verdict" in report
    assert {f["page"] for f in report["fields"].values()} == {1, 3}


def test_the_table_names_the_refused_page_first(covered_tag):
    done = kit("read", *covered_tag)
    assert done.returncode == 2
    first = done.stdout.splitlines()[0]
    assert first.startswith(("Halaman 2: ", f"{covered_tag[1]} (ke-2): "))
    assert "pindai ulang halaman itu saja" in first
    assert "pages read: 1, 3" in done.stdout


def test_read_takes_tps_and_election_from_a_printed_qr_code(qr_photo):
    done = kit("read", "--json", qr_photo)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["tps"], report["election"]) == (TPS, ELECTION)


def test_read_refuses_page_of_another_tps_with_non_zero_exit(qr_photo):
    done = kit("read", "--tps", "31.71.01.1001.009", qr_photo)
    assert done.returncode == 2
    assert "not this kit's TPS 31.71.01.1001.009" in done.stdout
    assert "Halaman 1: Formulir untuk TPS lain" in done.stdout  # what the kit's screen says


def test_read_refuses_the_same_page_twice(photos):
    paths, _ = photos
    done = kit("read", "--json", paths[0], paths[0])
    assert done.returncode == 2
    report = json.loads(done.stdout)
    assert [(p["page"], p["outcome"]) for p in report["pages"]] == [(1, "read"), (1, "refused")]
    assert report["pages"][1]["kind"] == "WrongPageError"
    assert "already scanned" in report["pages"][1]["message"]
    assert "Halaman 1: Halaman 1 sudah dipindai" in kit("read", paths[0], paths[0]).stdout


def test_read_refuses_a_file_that_is_not_a_photo(tmp_path):
    bogus = tmp_path / "notes.jpg"
    bogus.write_text("not an image")
    done = kit("read", bogus)
    assert done.returncode == 2 and "is not an image" in done.stdout
    assert f"{bogus} (ke-1): " in done.stdout and "no page could be read" in done.stdout


def test_read_json_is_an_object_even_when_no_page_could_be_read(tmp_path):
    bogus = tmp_path / "notes.jpg"
    bogus.write_text("not an image")
    done = kit("read", "--json", bogus)
    assert done.returncode == 2
    report = json.loads(done.stdout)
    assert (report["form"], report["fields"], report["tps"]) == (None, {}, None)
    assert report["pages"] == [
        {
            "file": str(bogus),
            "page": None,
            "outcome": "refused",
            "kind": "PageRefusedError",
            "message": f"{bogus} is not an image (JPEG or PNG expected)",
            "pesan": "Halaman tidak bisa dibaca: letakkan ulang dan tekan PINDAI",
        }
    ]
