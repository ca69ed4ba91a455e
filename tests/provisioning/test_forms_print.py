"""Printing blank forms: the CLI, the PDF's pages and size, and what a raster page carries."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from protocol.forms import load_template, parse_qr_payload
from protocol.forms.layout import tag_corners
from protocol.forms.schema import TAG_DICTIONARIES
from provisioning.cli import main
from provisioning.forms.raster import render_page

TPS = "31.71.01.1001.001"
ELECTION = "pemilu-2024"
MM = 72 / 25.4


def media_boxes(pdf: bytes) -> list[tuple[float, float]]:
    found = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    return [(float(w) / MM, float(h) / MM) for w, h in found]


def run(*args: str):
    return CliRunner().invoke(main, ["forms", *args], catch_exceptions=False)


def test_print_ppwp_plano_for_two_tps(tmp_path: Path):
    out = tmp_path / "forms.pdf"
    result = run(
        "print",
        "--form",
        "ppwp-plano",
        "--election",
        ELECTION,
        "--tps",
        TPS,
        "--tps",
        "3171011001002",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    boxes = media_boxes(out.read_bytes())
    assert len(boxes) == 6
    assert all(
        w == pytest.approx(600, abs=0.1) and h == pytest.approx(900, abs=0.1) for w, h in boxes
    )


def test_print_from_csv_and_a4_proofs(tmp_path: Path):
    csv = tmp_path / "region.csv"
    csv.write_text("tps,name\n31.71.01.1001.001,a\n31.71.01.1001.002,b\n31.71.01.1001.003,c\n")
    out = tmp_path / "region.pdf"
    result = run(
        "print",
        "--form",
        "pkwkk-4",
        "--election",
        "pilkada-2024",
        "--tps-csv",
        str(csv),
        "--out",
        str(out),
        "--size",
        "a4",
    )
    assert result.exit_code == 0, result.output
    boxes = media_boxes(out.read_bytes())
    assert len(boxes) == 9
    assert all(
        w == pytest.approx(210, abs=0.2) and h == pytest.approx(297, abs=0.2) for w, h in boxes
    )


def test_unknown_form_lists_known_ones(tmp_path: Path):
    result = run(
        "print",
        "--form",
        "nope",
        "--election",
        ELECTION,
        "--tps",
        TPS,
        "--out",
        str(tmp_path / "x.pdf"),
    )
    assert result.exit_code == 1
    assert "unknown form 'nope'" in result.output and "ppwp-plano" in result.output


def test_malformed_tps_in_csv_names_the_row_and_the_rest_is_printed(tmp_path: Path):
    csv = tmp_path / "region.csv"
    csv.write_text("tps\n31.71.01.1001.001\n31.71.01.1001\n")
    result = run(
        "print",
        "--form",
        "ppwp-plano",
        "--election",
        ELECTION,
        "--tps-csv",
        str(csv),
        "--out",
        str(tmp_path / "x.pdf"),
    )
    assert result.exit_code == 1
    assert "region.csv: row 3, column tps: '31.71.01.1001' is not a TPS code" in result.output
    assert len(media_boxes((tmp_path / "x.pdf").read_bytes())) == 3  # the good row's pages
    assert (tmp_path / "region.failed.csv").read_text() == "tps\n31.71.01.1001\n"


def test_unwritable_output_is_reported(tmp_path: Path):
    out = tmp_path / "missing-dir" / "x.pdf"
    result = run(
        "print", "--form", "ppwp-plano", "--election", ELECTION, "--tps", TPS, "--out", str(out)
    )
    assert result.exit_code == 1
    assert "cannot write" in result.output


def test_list_shows_every_template_with_its_hash():
    result = run("list")
    assert result.exit_code == 0
    line = next(s for s in result.output.splitlines() if s.startswith("ppwp-plano"))
    assert re.search(r"v2\s+3 pages\s+[0-9a-f]{64}", line)


@pytest.mark.parametrize(
    ("form", "px_per_mm"),
    [("ppwp-plano", 3.4), ("ppwp-salinan", 8.0), ("pkwkp-kk2", 3.4), ("dprd-kabko-example", 3.4)],
)
def test_raster_page_carries_tag_marks_and_the_qr_only_when_asked(form: str, px_per_mm: float):
    template = load_template(form)
    for page in template.pages:
        image = render_page(template, page.number, TPS, ELECTION, px_per_mm, qr=True)
        assert image.dtype == np.uint8
        assert image.shape == (round(page.height * px_per_mm), round(page.width * px_per_mm))
        family = getattr(cv2.aruco, TAG_DICTIONARIES[page.tag.family])
        detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(family))
        corners, ids, _ = detector.detectMarkers(image)
        assert ids is not None and list(ids.ravel()) == [page.tag.id]
        expected = np.array(tag_corners(page.tag)) * px_per_mm
        assert np.abs(corners[0].reshape(4, 2) - expected).max() < 3
        # The optional QR is checked at print resolution: its modules are under a millimetre.
        fine = render_page(template, page.number, TPS, ELECTION, 8.0, qr=True)
        payload = parse_qr_payload(cv2.QRCodeDetector().detectAndDecode(fine)[0])
        assert (payload.election, payload.form, payload.page, payload.tps) == (
            ELECTION,
            form,
            page.number,
            TPS,
        )
        plain = render_page(template, page.number, TPS, ELECTION, px_per_mm)
        assert cv2.QRCodeDetector().detectAndDecode(plain)[0] == ""
        for mark in page.marks:
            assert _mark_cells(image, px_per_mm, mark) == _PATTERNS[mark.pattern]
        if page.marks[0].pattern == "solid":
            assert _count_marks(image, px_per_mm, page.marks[0].size) == 4


# Which cells of a mark (top-left, top-right, bottom-right, bottom-left) are black.
_PATTERNS = {"solid": (True, True, True, True), "checker": (True, False, True, False)}


def _mark_cells(image: np.ndarray, k: float, mark) -> tuple[bool, ...]:
    q = mark.size / 4
    cx, cy = mark.x + mark.size / 2, mark.y + mark.size / 2
    centres = [(cx - q, cy - q), (cx + q, cy - q), (cx + q, cy + q), (cx - q, cy + q)]
    return tuple(bool(image[round(y * k), round(x * k)] < 64) for x, y in centres)


def _count_marks(image: np.ndarray, k: float, size: float) -> int:
    """Solid squares of the marks' size found by contour: what a reader would do."""
    _, bw = cv2.threshold(image, 128, 255, cv2.THRESH_BINARY_INV)
    contours, _ = cv2.findContours(bw, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    side = size * k
    found = 0
    for c in contours:
        _, _, w, h = cv2.boundingRect(c)
        if abs(w - side) < 3 and abs(h - side) < 3 and cv2.contourArea(c) > 0.9 * side * side:
            found += 1
    return found


def test_our_plano_print_looks_like_kpus_guides_frame_and_fold_line():
    """The training sheet is the sheet the KPPS will see: KPU's dotted writing guide in the
    vote boxes, its grey frame and dashed fold line, its thick box borders."""
    template = load_template("ppwp-plano")
    k = 4.0
    image = render_page(template, 2, TPS, ELECTION, k)
    box = template.page(2).fields[0].boxes[0]
    inside = image[
        round((box.y + 2) * k) : round((box.bottom - 2) * k),
        round((box.x + 2) * k) : round((box.right - 2) * k),
    ]
    assert 150 < inside.min() < 230  # light grey dots, never black
    border = image[
        round(box.centre[1] * k), round((box.x - 0.4) * k) : round((box.x + 0.4) * k) + 1
    ]
    assert border.max() < 80  # the 1.06 mm border is solid across its width
    fold = image[round(49.85 * k), round(100 * k) : round(500 * k)]
    assert 0.2 < float(np.mean(fold < 230)) < 0.5  # dashed, not solid
    frame_line = image[round(57.0 * k), round(300 * k)]
    assert 200 < frame_line < 240  # KPU's frame is light grey


def test_real_kpu_tag_family_matches_our_ppwp_print():
    # Our PPWP tags are drawn like KPU's (36h10, turned 180): the detected corner 0 sits at
    # the square's bottom-right, as on KPU's own sheet.
    template = load_template("ppwp-plano")
    image = render_page(template, 2, TPS, ELECTION, 2.0)
    d = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_APRILTAG_36h10))
    corners, ids, _ = d.detectMarkers(image)
    assert list(ids.ravel()) == [102]
    assert corners[0].reshape(4, 2)[0] / 2.0 == pytest.approx((526.1, 139.3), abs=1.0)
