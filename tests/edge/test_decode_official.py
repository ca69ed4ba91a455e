"""The TPS's official voter list (DPT) confirms the form's voter rows or flags them; it never
writes a value the paper does not hold."""

from __future__ import annotations

import pytest

from edge.decode.decide import decode_fields, look_readings
from edge.decode.official import OfficialDpt, listed_rows
from tests.edge.test_decode import readings, row, with_units


def _ambiguous(values):
    """L 109 / P 131 against L 119 / P 121: both sum to 240, the middle boxes read so that
    either pair is about as probable (the shape of a real look in the safety run)."""
    values = dict(values, **{"I.A.L": 109, "I.A.P": 131, "I.A.JML": 240})
    l_probs = with_units(109, (9, 0.99))
    l_probs[1] = row((0, 0.6), (1, 0.39))
    p_probs = with_units(131, (1, 0.99))
    p_probs[1] = row((3, 0.5), (2, 0.49))
    return values, {"I.A.L": l_probs, "I.A.P": p_probs}


def test_two_voter_readings_the_rules_allow_need_a_look_without_the_list(ppwp, values):
    values, probs = _ambiguous(values)
    decoded = decode_fields(ppwp, readings(ppwp, values, probs))
    assert decoded.verdict == "needs a look"
    assert {"I.A.L", "I.A.P"} <= set(decoded.doubtful)


def test_the_list_confirms_the_reading_that_equals_it(ppwp, values):
    values, probs = _ambiguous(values)
    dpt = OfficialDpt(men=109, women=131)
    decoded = decode_fields(ppwp, readings(ppwp, values, probs), dpt=dpt)
    assert decoded.verdict == "accept"
    for fid, value in listed_rows(dpt).items():
        d = decoded.fields[fid]
        assert (d.value, d.decision) == (value, "read")
        assert "official DPT" in d.reason
    assert all(r["I.A.L"] == 109 for r in look_readings(decoded))


def test_a_misread_against_the_list_is_a_look_and_never_replaced_by_it(ppwp, values):
    """The boxes say 119 / 121 more surely than 109 / 131: the list disagrees, so both rows
    are doubtful, with the list's reading offered to the person who looks."""
    values, probs = _ambiguous(values)
    probs["I.A.L"][1] = row((1, 0.6), (0, 0.39))
    probs["I.A.P"][1] = row((2, 0.6), (3, 0.39))
    dpt = OfficialDpt(men=109, women=131)
    decoded = decode_fields(ppwp, readings(ppwp, values, probs), dpt=dpt)
    assert decoded.verdict == "needs a look"
    assert decoded.fields["I.A.L"].value == 119 and decoded.fields["I.A.L"].decision == "doubtful"
    assert "lists 109" in decoded.fields["I.A.L"].reason
    assert any(r["I.A.L"] == 109 and r["I.A.P"] == 131 for r in look_readings(decoded))


def test_a_copying_mistake_read_clearly_is_flagged_not_corrected(ppwp, values):
    """The KPPS wrote 119 and 250 for the list's 109 and 240, and the boxes say so clearly."""
    values = dict(values, **{"I.A.L": 119, "I.A.P": 131, "I.A.JML": 250})
    decoded = decode_fields(ppwp, readings(ppwp, values), dpt=OfficialDpt(109, 131))
    assert decoded.fields["I.A.L"].value == 119
    assert decoded.fields["I.A.JML"].value == 250
    assert {"I.A.L", "I.A.JML"} <= set(decoded.doubtful)
    assert decoded.fields["I.A.P"].decision == "read"
    assert decoded.verdict == "needs a look"


def test_a_negative_count_is_no_list():
    with pytest.raises(ValueError, match="negative"):
        OfficialDpt(-1, 3)
