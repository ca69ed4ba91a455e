"""What the kit's look asks of the decoder: the readings a KPPS may choose among, and how a
choice is signed (``chosen``). No images: readings with chosen probabilities."""

from __future__ import annotations

import pytest

from edge.decode.decide import decode_fields, look_readings, value_p
from edge.decode.search import Limits
from edge.decode.signing import document_fields
from edge.errors import NotConfirmedError
from protocol.forms.rules import evaluate
from tests.edge.test_decode import readings, with_units


@pytest.fixture()
def rivals(ppwp, values):
    """III.L and III.JML each read 3 or 8 at even odds: two consistent readings."""
    values = dict(values, **{"III.L": 3, "III.P": 0, "III.JML": 3})
    probs = {f: with_units(3, (3, 0.5), (8, 0.5 - 1e-6)) for f in ("III.L", "III.JML")}
    return values, decode_fields(ppwp, readings(ppwp, values, probs))


def test_look_readings_are_the_consistent_readings_best_first(ppwp, rivals):
    values, decoded = rivals
    assert decoded.verdict == "needs a look"
    found = look_readings(decoded)
    assert found[0] == {f: d.value for f, d in decoded.fields.items()}
    assert {(r["III.L"], r["III.JML"]) for r in found} == {(3, 3), (8, 8)}
    for reading in found:
        assert evaluate(ppwp, reading).ok
        # Fields nobody doubts keep their value in every reading offered.
        assert all(reading[f] == values[f] for f in values if f not in decoded.doubtful)
    assert value_p(decoded, "III.L", 8) == pytest.approx(0.5, abs=0.01)
    assert value_p(decoded, "III.L", 5) == 0.0


def test_no_readings_to_choose_from_a_paper_mistake(ppwp, values):
    decoded = decode_fields(ppwp, readings(ppwp, dict(values, **{"V.C": values["V.C"] + 2})))
    assert decoded.verdict == "paper mistake" and look_readings(decoded) == []


def test_a_search_cut_short_offers_only_what_it_found(ppwp, values):
    truth = values["IV.2"]
    units = truth % 10
    probs = {"IV.2": with_units(truth, ((units + 5) % 10, 0.7), (units, 0.3))}
    decoded = decode_fields(
        ppwp, readings(ppwp, values, probs, {"IV.2": ()}), limits=Limits(max_nodes=3)
    )
    assert decoded.verdict == "needs a look"
    assert look_readings(decoded) == [s for _, s in decoded.search.solutions]


def test_a_chosen_reading_is_signed_as_chosen_with_the_kits_value_kept(ppwp, rivals):
    _, decoded = rivals
    kit = decoded.fields["III.L"].value
    other = 8 if kit == 3 else 3
    fields, evidence = document_fields(decoded, chosen={"III.L": other, "III.JML": other})
    assert (fields["III.L"], fields["III.JML"]) == (other, other)
    for fid in ("III.L", "III.JML"):
        assert evidence[fid]["decision"] == "chosen"
        assert evidence[fid]["read_as"] == kit
        assert 4000 <= evidence[fid]["confidence"] <= 6000
    # The kit's own value, picked, is a confirmation.
    fields, evidence = document_fields(decoded, chosen={"III.L": kit, "III.JML": kit})
    assert evidence["III.L"]["decision"] == "confirmed" and "read_as" not in evidence["III.L"]


def test_a_choice_that_breaks_a_rule_or_touches_a_sure_field_is_refused(ppwp, rivals):
    _, decoded = rivals
    kit = decoded.fields["III.L"].value
    other = 8 if kit == 3 else 3
    with pytest.raises(NotConfirmedError, match="break"):
        document_fields(decoded, chosen={"III.L": other, "III.JML": kit})
    with pytest.raises(NotConfirmedError, match="not doubtful"):
        sure = decoded.fields["V.B"].value + 1
        document_fields(decoded, chosen={"III.L": kit, "III.JML": kit, "V.B": sure})
