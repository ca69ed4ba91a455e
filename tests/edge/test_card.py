"""The review card, checked as an image: size, summary band, highlights at the fields."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from edge.card.render import (
    BAND_PX,
    BANDS,
    CORRECTED,
    DOUBTFUL,
    READ,
    card_paths,
    card_scale,
    covered,
    field_rect,
    place_labels,
    render_card,
    write_card,
)
from edge.decode.decide import decode_form
from edge.read.form import FormReading
from protocol.forms.loader import load_template, template_ids
from provisioning.synth.forms import synthesize_form
from provisioning.synth.photo import Conditions
from tests.edge.conftest import ELECTION, TPS

OUTLINE_GAP = 6  # px right of a field's outline where its label used to be drawn
STEADY = Conditions(0.8, 0.01, -0.01, 0.01, 0.0, 1.0, 0.15, 0.0, 0.6, 2.0, 88)


@pytest.fixture(scope="module")
def page_two(reader, ppwp, bank):
    page = synthesize_form(
        ppwp,
        tps=TPS,
        election=ELECTION,
        bank=bank,
        rng=np.random.default_rng(31),
        conditions=STEADY,
        only_pages=[2],
    )[0]
    frame = cv2.imdecode(np.frombuffer(page.jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    reading = reader.read(frame, page.jpeg)
    form = FormReading()
    form.add(reading)
    return frame, reading, decode_form(form)


def _mark(decoded, field_id, decision, **extra):
    fields = dict(decoded.fields)
    fields[field_id] = dataclasses.replace(fields[field_id], decision=decision, **extra)
    return fields


def test_card_of_an_incomplete_form_says_what_to_scan(page_two):
    frame, reading, decoded = page_two
    assert decoded.verdict == "incomplete" and decoded.summary == "Pindai halaman 1, 3 dulu"
    card = render_card(frame, reading, decoded)
    assert tuple(card[BAND_PX // 2, 2]) == BANDS["incomplete"]


def test_card_highlights_corrected_and_doubtful_fields_where_they_are(page_two, ppwp, tmp_path):
    frame, reading, decoded = page_two
    fields = _mark(decoded, "IV.1", "corrected", before=999)
    fields = _mark(dataclasses.replace(decoded, fields=fields), "IV.2", "doubtful")
    shown = dataclasses.replace(
        decoded, verdict="needs a look", fields=fields, summary="1 angka perlu dicek: Paslon 2"
    )
    path = tmp_path / "card.png"
    write_card(path, render_card(frame, reading, shown))
    card = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)  # the PNG as written

    page = ppwp.page(2)
    scale = card_scale(page.width, page.height)
    assert card.shape[0] == round(page.height * scale) + BAND_PX
    assert card.shape[1] > round(page.width * scale)  # the margin holding the values
    band = card[:BAND_PX]
    assert tuple(band[3, 3]) == BANDS["needs a look"]
    assert (band == 255).all(axis=2).sum() > 500  # the summary's white letters

    for field_id, colour in (("IV.1", CORRECTED), ("IV.2", DOUBTFUL), ("IV.3", READ)):
        x0, y0, x1, y1 = field_rect(ppwp.field(field_id), scale, BAND_PX)
        assert tuple(card[y0, (x0 + x1) // 2]) == colour, field_id
        assert tuple(card[(y0 + y1) // 2, x0]) == colour, field_id
        inside = card[y0 + 4 : y1 - 3, x0 + 4 : x1 - 3]
        assert inside.min() < 90  # the handwriting and box lines are under the outline
    # Each value printed in the margin on its field's row, in the field's colour, and
    # nothing of that colour drawn on the page right of the outline (the next field).
    texts = {f: "0" for f in ("IV.1", "IV.2", "IV.3")}
    labels, _ = place_labels(page, scale, BAND_PX, {**texts, "IV.1": "999 (dibaca 999)"})
    for field_id, colour in (("IV.1", CORRECTED), ("IV.2", DOUBTFUL)):
        box = labels[field_id]
        inked = (card[box.y0 : box.y1, box.x0 : box.x1] == np.array(colour)).all(axis=2)
        assert inked.sum() > 20, field_id
    x0, y0, x1, y1 = field_rect(ppwp.field("IV.2"), scale, BAND_PX)
    beside = card[y0:y1, x1 + OUTLINE_GAP : x1 + 80]
    assert (beside == np.array(DOUBTFUL)).all(axis=2).sum() == 0


@pytest.mark.parametrize("template_id", template_ids())
def test_no_label_covers_a_box_or_bubble_on_any_templates_card(template_id):
    """Labels at their widest ("999 (dibaca 999)" on every field) on every page of every
    template: each in the margin, clear of every box, bubble column and other label."""
    template = load_template(template_id)
    for page in template.pages:
        scale = card_scale(page.width, page.height)
        texts = {f.id: "9" * f.digits + " (dibaca " + "9" * f.digits + ")" for f in page.fields}
        labels, width = place_labels(page, scale, BAND_PX, texts)
        assert set(labels) == set(texts)
        page_w = round(page.width * scale)
        marks = covered(page, scale, BAND_PX)
        for field_id, box in labels.items():
            where = f"{template_id} page {page.number} {field_id}"
            assert page_w < box.x0 and box.x1 <= width, where
            assert box.y0 >= BAND_PX, where
            assert not any(box.overlaps(m) for m in marks), where
            others = [b for f, b in labels.items() if f != field_id]
            assert not any(box.overlaps(b) for b in others), where
            # On its field's row unless rows lie closer than a label is tall.
            y1 = field_rect(template.field(field_id), scale, BAND_PX)[3]
            assert box.y0 < y1 + 3 * (box.y1 - box.y0), where


def test_card_names_one_file_per_page(tmp_path):
    out = tmp_path / "card.png"
    assert card_paths(out, [1, 3], 3) == {1: tmp_path / "card-1.png", 3: tmp_path / "card-3.png"}
    assert card_paths(out, [1], 1) == {1: out}
