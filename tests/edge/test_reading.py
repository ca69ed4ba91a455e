"""Reading synthesized, photographed forms end to end, and every refusal a KPPS may meet."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from edge.errors import (
    ForeignFormError,
    MarkMissingError,
    PoorImageError,
    TagNotFoundError,
    WrongPageError,
)
from edge.read.form import FormReading
from edge.read.page import Expectation, PageReader
from protocol.forms.loader import load_template
from provisioning.synth.forms import synthesize_form
from provisioning.synth.photo import Conditions
from provisioning.synth.surface import Surface
from tests.edge.conftest import ELECTION, TPS

STEADY = Conditions(0.8, 0.01, -0.01, 0.01, 0.0, 1.0, 0.15, 0.0, 0.6, 2.0, 88)


def _frame(page):
    return cv2.imdecode(np.frombuffer(page.jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)


def _one_page(ppwp, bank, seed, number=2, **kwargs):
    rng = np.random.default_rng(seed)
    options = {"tps": TPS, "election": ELECTION, "conditions": STEADY, **kwargs}
    return synthesize_form(ppwp, bank=bank, rng=rng, only_pages=[number], **options)[0]


@pytest.fixture(scope="module")
def forms(ppwp, bank):
    """Three whole PPWP forms photographed under the boom's varying conditions."""
    return [
        synthesize_form(ppwp, tps=TPS, election=ELECTION, bank=bank, rng=np.random.default_rng(s))
        for s in (101, 102, 103)
    ]


def test_reads_whole_forms_end_to_end(reader, forms):
    right = total = 0
    for pages in forms:
        form = FormReading()
        for page in pages:
            form.add(reader.read(_frame(page), page.jpeg))
        assert form.complete and form.missing == []
        for field_id, (_, reading) in form.fields().items():
            truth = next(p.truth["fields"] for p in pages if field_id in p.truth["fields"])
            total += 1
            right += reading.number.value == truth[field_id]
    assert total == 3 * 28
    assert right / total >= 0.95, f"{right} of {total} fields read right"


def test_bubbles_read_the_digits_the_kpps_blackened(reader, forms):
    checked = 0
    for pages in forms:
        page = pages[1]
        reading = reader.read(_frame(page), page.jpeg)
        for field_id, columns in page.truth["bubbles"].items():
            read = reading.fields[field_id].bubbles
            for truth, column in zip(columns, read, strict=True):
                if truth.get("style") in ("good",):
                    checked += 1
                    assert column.digit == truth["filled"], (field_id, truth, column)
    assert checked >= 6


def test_page_reading_names_its_page_and_hash(reader, forms):
    page = forms[0][2]
    reading = reader.read(_frame(page), page.jpeg)
    assert (reading.template.id, reading.page) == ("ppwp-plano", 3)
    assert reading.qr is None  # KPU's print, as ours by default, carries no QR code
    assert len(reading.image_sha256) == 64


def test_reads_kpu_print_checkerboard_marks_thick_boxes_dotted_guides(reader, ppwp, bank):
    """The sheet as KPU prints it: what the default print and the synthesizer draw."""
    page2 = ppwp.page(2)
    assert {m.pattern for m in page2.marks} == {"checker"} and page2.tag.assigned_by == "kpu"
    assert (page2.box_style.stroke, page2.box_style.guides) == (1.06, "dots")
    page = _one_page(ppwp, bank, 6)
    reading = reader.read(_frame(page), page.jpeg)
    assert reading.page == 2 and reading.qr is None
    assert reading.alignment.reprojection_mm < 0.5
    right = [reading.fields[k].number.value == v for k, v in page.truth["fields"].items()]
    assert sum(right) >= len(right) - 1


def test_sheet_with_our_qr_code_is_read_with_it(reader, ppwp, bank):
    page = _one_page(ppwp, bank, 5, qr=True)
    reading = reader.read(_frame(page), page.jpeg)
    assert reading.qr is not None and (reading.qr.tps, reading.qr.page) == (TPS, 2)


def test_unreadable_qr_code_is_read_past_not_refused(reader, ppwp, bank):
    """The QR is an extra check, never a requirement: a smeared one does not stop the page."""

    def smear(image, k):
        qr = ppwp.page(2).qr
        x0, y0, size = int(qr.x * k), int(qr.y * k), int(qr.size * k)
        region = image[y0 : y0 + size, x0 : x0 + size]
        region[:] = cv2.GaussianBlur(region, (0, 0), 2.5 * k)

    page = _one_page(ppwp, bank, 4, qr=True, before_photo=smear)
    reading = reader.read(_frame(page), page.jpeg)
    assert reading.page == 2 and reading.qr is None


def test_refuses_page_whose_qr_names_another_tps(reader, ppwp, bank):
    page = _one_page(ppwp, bank, 7, tps="31.71.01.1001.002", qr=True)
    with pytest.raises(ForeignFormError, match=r"TPS 31\.71\.01\.1001\.002") as refused:
        reader.read(_frame(page), page.jpeg)
    assert refused.value.page == 2


def test_refuses_page_whose_qr_names_another_election(reader, ppwp, bank):
    page = _one_page(ppwp, bank, 8, election="latihan-2024", qr=True)
    with pytest.raises(ForeignFormError, match="election latihan-2024"):
        reader.read(_frame(page), page.jpeg)


def test_refuses_form_the_kit_does_not_scan(model, bank):
    pilkada = load_template("pkwkk-2")
    reader = PageReader(
        [pilkada, load_template("ppwp-plano")], model, expect=Expectation(forms=("ppwp-plano",))
    )
    page = _one_page(pilkada, bank, 9, number=1)
    with pytest.raises(ForeignFormError, match="does not scan pkwkk-2"):
        reader.read(_frame(page), page.jpeg)


def test_refuses_page_already_scanned(reader, forms):
    form = FormReading()
    page = forms[0][0]
    form.add(reader.read(_frame(page), page.jpeg))
    with pytest.raises(WrongPageError, match="page 1 is already scanned: lay page 2 next"):
        form.add(reader.read(_frame(page), page.jpeg))
    assert form.next_page == 2


def test_refuses_page_of_another_form_midway(model, ppwp, bank, forms):
    pilkada = load_template("pkwkk-2")
    reader = PageReader([ppwp, pilkada], model)
    form = FormReading()
    form.add(reader.read(_frame(forms[0][0]), forms[0][0].jpeg))
    other = _one_page(pilkada, bank, 10, number=2, election="pilkada-2024")
    with pytest.raises(WrongPageError, match="finish this form first"):
        form.add(reader.read(_frame(other), other.jpeg))


def _cover_mark(number):
    def cover(image, k):
        mark = load_template("ppwp-plano").page(2).marks[number - 1]
        x0, y0 = int((mark.x - 6) * k), int((mark.y - 6) * k)
        size = int((mark.size + 12) * k)
        image[y0 : y0 + size, x0 : x0 + size] = 215  # a sheet of paper laid over it

    return cover


@pytest.mark.parametrize(
    ("mark", "place", "tempat"),
    [
        (1, "top left", "kiri atas"),
        (2, "top right", "kanan atas"),
        (3, "bottom right", "kanan bawah"),
        (4, "bottom left", "kiri bawah"),
    ],
)
def test_refuses_covered_corner_mark_naming_its_place(reader, ppwp, bank, mark, place, tempat):
    page = _one_page(ppwp, bank, 11, before_photo=_cover_mark(mark))
    with pytest.raises(MarkMissingError, match=f"corner mark {place} not found") as refused:
        reader.read(_frame(page), page.jpeg)
    assert tempat in refused.value.pesan and refused.value.page == 2


def test_refuses_covered_tag(reader, ppwp, bank):
    def cover(image, k):
        tag = ppwp.page(2).tag
        x0, y0 = int(tag.x * k), int(tag.y * k)
        image[y0 : y0 + int(tag.size * k), x0 : x0 + int(tag.size * k)] = 230

    page = _one_page(ppwp, bank, 12, before_photo=cover)
    with pytest.raises(TagNotFoundError, match="no page tag"):
        reader.read(_frame(page), page.jpeg)


def test_refuses_page_too_dark(reader, ppwp, bank):
    page = _one_page(ppwp, bank, 13)
    dark = (_frame(page).astype(np.float32) * 0.22).astype(np.uint8)
    with pytest.raises(PoorImageError, match="too dark"):
        reader.read(dark, page.jpeg)


@pytest.mark.parametrize("sigma", [5.0, 9.0])
def test_refuses_page_too_blurred_saying_it_is_blurred(reader, ppwp, bank, sigma):
    """Blur is named whatever stage it defeats first: at sigma 9 no mark or tag is found."""
    page = _one_page(ppwp, bank, 14)
    blurred = cv2.GaussianBlur(_frame(page), (0, 0), sigma)
    with pytest.raises(PoorImageError, match="too blurred") as refused:
        reader.read(blurred, page.jpeg)
    assert "kabur" in refused.value.pesan


def test_reads_page_blurred_as_a_soft_lens_does(reader, ppwp, bank):
    """Blur of sigma 1.5 px at full resolution is within what the kit must read."""
    soft = Conditions(0.8, 0.01, -0.01, 0.01, 0.0, 1.0, 0.15, 0.0, 1.5, 3.0, 85)
    page = _one_page(ppwp, bank, 17, number=1, conditions=soft)
    reading = reader.read(_frame(page), page.jpeg)
    right = [reading.fields[k].number.value == v for k, v in page.truth["fields"].items()]
    assert sum(right) >= len(right) - 1


def test_refuses_page_too_skewed(reader, ppwp, bank):
    tilted = Conditions(0.0, 0.12, 0.0, 0.0, 0.0, 0.95, 0.1, 0.0, 0.5, 2.0, 90)
    page = _one_page(ppwp, bank, 15, conditions=tilted)
    with pytest.raises(PoorImageError, match="too skewed"):
        reader.read(_frame(page), page.jpeg)


def test_refuses_sheet_whose_qr_and_tag_disagree(reader, ppwp, bank):
    """A page 2 tag pasted onto a sheet printed as page 3 is not a genuine form."""

    def paste_qr_of_page_3(image, k):
        from provisioning.forms.raster import render_page

        other = render_page(ppwp, 3, TPS, ELECTION, k, qr=True)
        qr = ppwp.page(2).qr
        x0, y0 = int((qr.x - qr.quiet) * k), int((qr.y - qr.quiet) * k)
        size = int((qr.size + 2 * qr.quiet) * k)
        image[y0 : y0 + size, x0 : x0 + size] = other[y0 : y0 + size, x0 : x0 + size]

    page = _one_page(ppwp, bank, 16, qr=True, before_photo=paste_qr_of_page_3)
    with pytest.raises(ForeignFormError, match="not a genuine form"):
        reader.read(_frame(page), page.jpeg)


def _folded(surface: Surface) -> Conditions:
    return replace(STEADY, surface=surface)


def test_reads_folded_curled_sheet_finding_each_fields_boxes_by_their_print(reader, ppwp, bank):
    """A ridge where the sheet was folded in half and both ends curled up: the marks alone
    place some boxes millimetres off; each field's print puts them back."""
    folded = _folded(Surface(crease_mm=6.0, crease_width_mm=20.0, curl_mm=8.0, curl_at="ends"))
    pages = synthesize_form(
        ppwp, tps=TPS, election=ELECTION, bank=bank, rng=np.random.default_rng(3), conditions=folded
    )
    form = FormReading()
    for page in pages:
        form.add(reader.read(_frame(page), page.jpeg))
    readings = [r for _, r in form.fields().values()]
    assert max(r.moved_mm for r in readings) > 1.0
    truth = {k: v for p in pages for k, v in p.truth["fields"].items()}
    right = sum(r.number.value == truth[r.spec.id] for r in readings)
    assert right >= len(truth) - 1


def test_flat_sheet_boxes_lie_where_the_marks_put_them(reader, forms):
    page = forms[0][0]
    reading = reader.read(_frame(page), page.jpeg)
    assert max(r.moved_mm for r in reading.fields.values()) < 0.3


def test_refuses_sheet_crumpled_beyond_the_tolerance_naming_it(reader, ppwp, bank):
    crumpled = _folded(Surface(crease_mm=30.0, crease_width_mm=60.0, curl_mm=60.0, curl_at="br"))
    page = _one_page(ppwp, bank, 18, number=1, conditions=crumpled)
    with pytest.raises(PoorImageError, match=r"not flat \(the boxes of .* at most 5 mm\)") as e:
        reader.read(_frame(page), page.jpeg)
    assert e.value.page == 1 and "ratakan" in e.value.pesan


def test_refuses_a_pages_tag_pasted_on_another_pages_body(reader, ppwp, bank):
    """Without a QR code, the boxes printed on the sheet must be the ones its tag's page has."""

    def paste_tag_of_page_3(image, k):
        from provisioning.forms.raster import render_page

        other = render_page(ppwp, 3, TPS, ELECTION, k)
        tag = ppwp.page(2).tag
        x0, y0 = int((tag.x - tag.quiet) * k), int((tag.y - tag.quiet) * k)
        size = int((tag.size + 2 * tag.quiet) * k)
        image[y0 : y0 + size, x0 : x0 + size] = other[y0 : y0 + size, x0 : x0 + size]

    page = _one_page(ppwp, bank, 19, before_photo=paste_tag_of_page_3)
    with pytest.raises(ForeignFormError, match=r"not those of page 3 .* not a genuine form"):
        reader.read(_frame(page), page.jpeg)


def test_checkerboard_on_the_table_does_not_stand_in_for_a_corner_mark(reader, ppwp, bank):
    """A checker-like blob outside the sheet is outermost; the fit it gives is skewed, so the
    tag and the marks it predicts decide instead."""
    page = _one_page(ppwp, bank, 20)
    frame = _frame(page)
    cell = 26  # about a mark's cell at the boom's scale
    y, x = 80, 80  # the table's corner, beyond the sheet's top-left
    frame[y - 2 * cell : y + 2 * cell, x - 2 * cell : x + 2 * cell] = 235
    frame[y - cell : y, x - cell : x] = 20
    frame[y : y + cell, x : x + cell] = 20
    reading = reader.read(frame, page.jpeg)
    right = [reading.fields[k].number.value == v for k, v in page.truth["fields"].items()]
    assert reading.page == 2 and sum(right) >= len(right) - 1


def test_refuses_page_at_a_scale_the_camera_cannot_have(reader, ppwp, bank):
    """A photo of a photo, or a boom set far too high: the page is smaller than the camera's
    range allows, and the boxes would be read at too few pixels to trust."""
    page = _one_page(ppwp, bank, 21)
    small = cv2.resize(_frame(page), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    with pytest.raises(PoorImageError, match=r"px/mm in the picture, outside the camera's"):
        reader.read(small, page.jpeg)
