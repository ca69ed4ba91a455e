"""The look's two-button logic on decoded forms (no images): what each press shows, what a
choice allows next, and that only readings keeping every rule can be confirmed."""

from __future__ import annotations

import numpy as np
import pytest

from edge.decode.decide import decode_fields
from edge.decode.search import Limits
from firmware.look import Look
from firmware.screen.crop import FieldPhoto
from protocol.forms.loader import load_template
from protocol.forms.rules import evaluate
from provisioning.synth.values import consistent_values
from tests.edge.test_decode import readings, with_units

NO_PHOTO = FieldPhoto(np.zeros((4, 4), np.uint8), np.eye(3), (), (), 0.0, 1.0)  # words only


@pytest.fixture(scope="module")
def ppwp():
    return load_template("ppwp-plano")


@pytest.fixture()
def rivals(ppwp):
    """III.L and III.JML each read 3 or 8: two consistent readings, both fields doubtful."""
    values = consistent_values(ppwp, np.random.default_rng(5))
    values.update({"III.L": 3, "III.P": 0, "III.JML": 3})
    probs = {f: with_units(3, (3, 0.55), (8, 0.45 - 1e-6)) for f in ("III.L", "III.JML")}
    return decode_fields(ppwp, readings(ppwp, values, probs))


def test_pindai_steps_through_the_readings_then_rescan_then_back(rivals):
    look = Look(rivals)
    assert look.fields == ["III.L", "III.JML"] and look.field == "III.L"
    assert [o.value for o in look.options()] == [3, 8, None]  # the kit's value first
    seen = []
    for _ in range(4):
        seen.append(look.shown.value)
        look.next()
    assert seen == [3, 8, None, 3]


def test_a_choice_narrows_the_next_field_to_the_readings_it_allows(ppwp, rivals):
    look = Look(rivals)
    look.next()
    assert look.confirm().value == 8  # KONFIRMASI on the other reading
    assert look.field == "III.JML"
    assert [o.value for o in look.options()] == [8, None]  # L = 8 leaves JML = 8 only
    view = look.view(NO_PHOTO)
    assert (view.label, view.value) == ("Sesuai pilihan tadi", "8")
    assert view.lines == ["Pemilih disabilitas: L + P = 8,", "JML = 8"]
    assert (view.buttons.scan, view.buttons.confirm) == ("tidak sama", "sama")
    look.confirm()
    assert look.finished and look.choices == {"III.L": 8, "III.JML": 8}
    values = look.values()
    assert evaluate(ppwp, values).ok and (values["III.L"], values["III.JML"]) == (8, 8)


def test_the_rescan_option_says_which_page(rivals):
    look = Look(rivals)
    look.next()
    look.next()
    view = look.view(NO_PHOTO)
    assert view.value == "Pindai ulang halaman 1?"
    assert (view.buttons.scan, view.buttons.confirm) == ("kembali", "ya")
    assert look.confirm().value is None and look.rescan and not look.finished
    with pytest.raises(ValueError, match="not finished"):
        look.values()


def test_without_a_consistent_reading_only_the_rescan_is_offered(ppwp):
    """The search stopped before it found any consistent reading: nothing can be confirmed."""
    values = consistent_values(ppwp, np.random.default_rng(5))
    truth = values["IV.2"]
    units = truth % 10
    probs = {"IV.2": with_units(truth, ((units + 5) % 10, 0.7), (units, 0.3))}
    decoded = decode_fields(
        ppwp, readings(ppwp, values, probs, {"IV.2": ()}), limits=Limits(max_nodes=1)
    )
    assert decoded.verdict == "needs a look" and not decoded.search.solutions
    look = Look(decoded)
    assert [o.value for o in look.options()] == [None]
    view = look.view(NO_PHOTO)
    assert view.buttons.scan is None and view.buttons.confirm == "ya"
    assert look.confirm().value is None and look.rescan and not look.finished
