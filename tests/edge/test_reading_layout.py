"""Pages whose tag on KPU's sheet is not known yet are named by their printed layout."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.errors import ForeignFormError, TagNotFoundError
from edge.read.page import Expectation, PageReader
from protocol.forms.loader import load_all, load_template
from provisioning.forms.draw import tag_primitive
from provisioning.synth.forms import synthesize_form
from provisioning.synth.photo import Conditions
from tests.edge.conftest import TPS

STEADY = Conditions(-0.6, 0.0, 0.01, 0.01, -0.01, 1.0, 0.1, 0.0, 0.6, 2.0, 88)
ELECTION = "pilkada-2024"


def _kpu_tag(template):
    """Print another tag where ours goes, as KPU's sheet of this form would (its id unknown)."""

    def paint(image, k):
        tag = template.page(1).tag
        theirs = tag_primitive(tag.model_copy(update={"id": 7, "family": "apriltag_36h10"}))
        for r, row in enumerate(theirs.bits):
            for c, bit in enumerate(row):
                y0, x0 = int((tag.y + r * theirs.cell) * k), int((tag.x + c * theirs.cell) * k)
                side = int(theirs.cell * k) + 1
                image[y0 : y0 + side, x0 : x0 + side] = 0 if bit else 255

    return paint


def _pages(template, bank, seed):
    return synthesize_form(
        template,
        tps=TPS,
        election=ELECTION,
        bank=bank,
        rng=np.random.default_rng(seed),
        conditions=STEADY,
        before_photo=_kpu_tag(template),
    )


def _frame(page):
    return cv2.imdecode(np.frombuffer(page.jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)


@pytest.fixture(scope="module")
def regent():
    template = load_template("pkwkk-2")
    assert template.page(1).tag.assigned_by == "project"
    return template


def test_kpu_sheet_with_unknown_tag_is_named_by_its_layout(model, bank, regent):
    reader = PageReader([regent], model, expect=Expectation(ELECTION, TPS, ("pkwkk-2",)))
    for page in _pages(regent, bank, 1):
        reading = reader.read(_frame(page), page.jpeg)
        assert (reading.template.id, reading.page) == ("pkwkk-2", page.number)
        right = [reading.fields[k].number.value == v for k, v in page.truth["fields"].items()]
        assert sum(right) >= len(right) - 1


def test_page_printed_alike_in_two_forms_needs_the_form_being_scanned(model, bank, regent):
    """Page 1 of the governor's and the regent's form print the same boxes."""
    governor = load_template("pkwkp-3")
    reader = PageReader([governor, regent], model)
    first = _pages(regent, bank, 2)[0]
    with pytest.raises(TagNotFoundError, match="fits pkwkp-3 page 1, pkwkk-2 page 1") as refused:
        reader.read(_frame(first), first.jpeg)
    assert "halaman lain" in refused.value.pesan
    reading = reader.read(_frame(first), first.jpeg, form_hint="pkwkk-2")
    assert (reading.template.id, reading.page) == ("pkwkk-2", 1)


def test_page_two_tells_two_options_from_three(model, bank, regent):
    """Two option blocks are a part of three: the sheet with three is the three-option form."""
    governor = load_template("pkwkp-3")
    reader = PageReader([governor, regent], model)
    for template, seed in ((regent, 3), (governor, 4)):
        page = _pages(template, bank, seed)[1]
        assert reader.read(_frame(page), page.jpeg).template.id == template.id


def test_sheet_of_no_known_layout_is_refused(model, bank, regent):
    """KPU's PPWP page 2, checkerboards and all, is not a page of a kit that scans pkwkk-2."""
    ppwp = load_template("ppwp-plano")
    page = synthesize_form(
        ppwp,
        tps=TPS,
        election="pemilu-2024",
        bank=bank,
        rng=np.random.default_rng(5),
        conditions=STEADY,
        only_pages=[2],
    )[0]
    reader = PageReader([regent], model)
    with pytest.raises(TagNotFoundError, match="no page tag found"):
        reader.read(_frame(page), page.jpeg)


def test_sheet_of_a_form_with_more_options_is_not_read_as_ours(model, bank, regent):
    """A three-candidate sheet prints every box of the two-candidate page 2 and one block
    more: a kit that scans only pkwkk-2 must not read it and drop the third candidate."""
    three = load_template("pkwkk-3")
    others = [t.template for t in load_all()]
    reader = PageReader([regent], model, expect=Expectation(forms=("pkwkk-2",)), others=others)
    page = _pages(three, bank, 6)[1]
    with pytest.raises(ForeignFormError, match="prints more than pkwkk-2 page 2") as refused:
        reader.read(_frame(page), page.jpeg)
    assert "does not scan" in str(refused.value)
    own = _pages(regent, bank, 7)[1]  # while its own sheet still reads
    assert reader.read(_frame(own), own.jpeg).template.id == "pkwkk-2"
