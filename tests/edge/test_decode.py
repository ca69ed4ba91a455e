"""The decoder on readings with chosen probabilities: rules, corrections, doubts, paper
mistakes, the search limit, and the signed document's evidence. No images: fast."""

from __future__ import annotations

import numpy as np
import pytest

from edge.decode import names, support
from edge.decode.decide import decode_fields
from edge.decode.search import Limits
from edge.decode.signing import document_fields
from edge.errors import NotConfirmedError
from edge.read.bubbles import BubbleReading
from edge.read.numbers import read_number
from edge.read.page import FieldReading
from edge.recognition.model import CLASS_X, NUM_CLASSES
from protocol.forms.loader import load_template
from protocol.forms.rules import Relation
from provisioning.synth.handwriting import number_boxes

SURE = 0.99999


def row(*pairs: tuple[int, float]) -> np.ndarray:
    """One box's 12 class probabilities: the given (class, p), the rest spread evenly."""
    out = np.zeros(NUM_CLASSES)
    for cls, p in pairs:
        out[cls] = p
    rest = 1.0 - out.sum()
    out[out == 0] = rest / int((out == 0).sum())
    return out


def sure(value: int, boxes: int = 3) -> np.ndarray:
    return np.stack([row((CLASS_X if d is None else d, SURE)) for d in number_boxes(value, boxes)])


def bubbles_for(value: int, boxes: int = 3, *, at: dict[int, int] | None = None):
    """Clearly filled bubbles spelling ``value`` (leading X boxes: 0), ``at`` box -> digit."""
    out = []
    for i, d in enumerate(number_boxes(value, boxes)):
        digit = (at or {}).get(i, 0 if d is None else d)
        fill = [0.0] * 10
        fill[digit] = 0.7
        out.append(BubbleReading(digit, False, tuple(fill)))
    return tuple(out)


def readings(template, values, probs=None, bubbles=None):
    """Every field read from ``probs`` (field -> (3, 12)); default: read sure as ``values``."""
    probs, bubbles = probs or {}, bubbles or {}
    out = {}
    for page, spec in template.fields():
        p = probs.get(spec.id, sure(values[spec.id]))
        b = bubbles.get(spec.id, bubbles_for(values[spec.id]) if spec.bubbles else ())
        out[spec.id] = (page, FieldReading(spec, read_number(p), b))
    return out


def with_units(value: int, *pairs: tuple[int, float]) -> np.ndarray:
    """``value`` read sure except its units box, read as ``pairs``."""
    probs = sure(value)
    probs[2] = row(*pairs)
    return probs


def test_consistent_form_is_accepted(ppwp, values):
    decoded = decode_fields(ppwp, readings(ppwp, values))
    assert decoded.verdict == "accept" and decoded.summary == names.ACCEPT_LINE
    assert {d.decision for d in decoded.fields.values()} == {"read"}
    assert {f: d.value for f, d in decoded.fields.items()} == values
    assert decoded.search.complete


def test_sum_rule_broken_on_paper_is_flagged_not_fixed(ppwp, values):
    written = dict(values, **{"V.A": values["V.A"] + 1})
    decoded = decode_fields(ppwp, readings(ppwp, written))
    assert decoded.verdict == "paper mistake"
    assert decoded.fields["V.A"].value == written["V.A"]  # what the paper says, not "fixed"
    rules = {p.rule_id for p in decoded.problems}
    assert "V.A.sum" in rules
    votes = sum(values[f"IV.{i}"] for i in (1, 2, 3))
    assert f"Suara sah {written['V.A']}, tetapi Paslon 1 + Paslon 2 + Paslon 3 = {votes}" in (
        decoded.summary
    )
    assert decoded.summary.startswith("SALAH DI KERTAS") and "pindai ulang" in decoded.summary


def test_less_or_equal_rule_broken_on_paper(ppwp, values):
    written = dict(values)
    written["I.A.L"] = values["I.B.1.L"] - 1
    written["I.A.JML"] = written["I.A.L"] + written["I.A.P"]
    decoded = decode_fields(ppwp, readings(ppwp, written))
    assert decoded.verdict == "paper mistake"
    assert {p.rule_id for p in decoded.problems} == {"I.B.1.L.le"}
    assert f"Pengguna DPT (L) {values['I.B.1.L']} melebihi DPT (L)" in decoded.problems[0].pesan


def test_cap_rule_broken_on_paper(ppwp, values):
    written = dict(values, **{"II.1": 400})
    written["II.4"] = 400 - values["II.2"] - values["II.3"]
    decoded = decode_fields(ppwp, readings(ppwp, written))
    assert decoded.verdict == "paper mistake"
    assert [p.rule_id for p in decoded.problems] == ["cap"]
    assert decoded.problems[0].pesan == "Surat suara diterima 400 melebihi batas 306"


def test_misread_fixed_by_the_rules(ppwp, values):
    values = dict(values)
    truth = values["IV.2"]
    units = truth % 10
    other = (units + 5) % 10
    probs = {"IV.2": with_units(truth, (other, 0.7), (units, 0.3))}
    no_bubbles = {"IV.2": ()}  # the rules alone decide
    decoded = decode_fields(ppwp, readings(ppwp, values, probs, no_bubbles))
    d = decoded.fields["IV.2"]
    assert (d.decision, d.value, d.before) == ("corrected", truth, truth - units + other)
    assert "the rules" in d.reason and d.p == pytest.approx(1.0)
    assert decoded.verdict == "accept"


def test_confident_misread_corrected_with_the_bubbles_flagged_without(ppwp, values):
    """The 7 read as 2 at 0.999: V.A pins the vote. With the bubbles agreeing with the rules
    it is corrected. On the rules alone the change costs ln 999 > PAPER_NATS: the kit cannot
    tell it from a wrong vote on the paper and flags the broken sum with the numbers as
    read (never a silent value either way)."""
    values = dict(values, **{"IV.2": 7, "IV.3": values["IV.3"] + values["IV.2"] - 7})
    probs = {"IV.2": with_units(7, (2, 0.999), (7, 0.001 - 1e-6))}
    decoded = decode_fields(ppwp, readings(ppwp, values, probs))
    d = decoded.fields["IV.2"]
    assert (d.decision, d.value, d.before) == ("corrected", 7, 2)
    assert "rules and the bubbles" in d.reason and decoded.verdict == "accept"
    decoded = decode_fields(ppwp, readings(ppwp, values, probs, {"IV.2": ()}))
    assert decoded.verdict == "paper mistake"
    assert (decoded.fields["IV.2"].value, decoded.fields["IV.2"].decision) == (2, "doubtful")
    assert "Paslon 2" in decoded.problems[0].pesan


def test_rules_against_a_fairly_sure_reading_make_it_doubtful(ppwp, values):
    """Between FIX_NATS and PAPER_NATS (here a 0.95 reading): misread or paper? A person."""
    values = dict(values, **{"IV.2": 7, "IV.3": values["IV.3"] + values["IV.2"] - 7})
    probs = {"IV.2": with_units(7, (2, 0.95), (7, 0.05 - 1e-6))}
    decoded = decode_fields(ppwp, readings(ppwp, values, probs, {"IV.2": ()}))
    d = decoded.fields["IV.2"]
    assert (d.decision, d.value, d.before) == ("doubtful", 7, 2)
    assert decoded.verdict == "needs a look"
    assert decoded.summary == "1 angka perlu dicek: Paslon 2"


def test_misread_fixed_by_the_bubbles(ppwp, values):
    truth = values["IV.1"]
    units = truth % 10
    other = (units + 3) % 10
    probs = {"IV.1": with_units(truth, (other, 0.8), (units, 0.2))}
    decoded = decode_fields(ppwp, readings(ppwp, values, probs))
    d = decoded.fields["IV.1"]
    assert (d.decision, d.value, d.before) == ("corrected", truth, truth - units + other)
    assert d.reason.startswith("the bubbles")


def test_sloppy_bubble_does_not_overrule_a_confident_digit(ppwp, values):
    truth = values["IV.1"]
    weak = list(bubbles_for(truth))
    wrong = (truth % 10 + 1) % 10
    fill = [0.0] * 10
    fill[wrong] = 0.35  # faint: below BUBBLE_CLEAR
    weak[2] = BubbleReading(wrong, False, tuple(fill))
    decoded = decode_fields(ppwp, readings(ppwp, values, bubbles={"IV.1": tuple(weak)}))
    assert decoded.fields["IV.1"].decision == "read" and decoded.verdict == "accept"


def test_bubble_against_a_confident_digit_is_a_paper_mistake(ppwp, values):
    truth = values["IV.3"]
    wrong = (truth % 10 + 4) % 10
    bubbles = {"IV.3": bubbles_for(truth, at={2: wrong})}
    decoded = decode_fields(ppwp, readings(ppwp, values, bubbles=bubbles))
    assert decoded.verdict == "paper mistake"
    assert decoded.fields["IV.3"].value == truth
    assert [p.kind for p in decoded.problems] == ["bubble"]
    assert f"angka {truth % 10}, bulatan {wrong}" in decoded.problems[0].pesan


def test_two_equally_likely_consistent_readings_stay_doubtful(ppwp, values):
    values = dict(values, **{"III.L": 3, "III.P": 0, "III.JML": 3})
    probs = {f: with_units(3, (3, 0.5), (8, 0.5 - 1e-6)) for f in ("III.L", "III.JML")}
    decoded = decode_fields(ppwp, readings(ppwp, values, probs))
    assert decoded.verdict == "needs a look"
    assert decoded.doubtful == ["III.L", "III.JML"]
    assert decoded.fields["III.L"].p == pytest.approx(0.5, abs=0.01)
    assert decoded.summary == (
        "2 angka perlu dicek: Pemilih disabilitas (L), Pemilih disabilitas (JML)"
    )


def test_compensating_misreads_in_linked_fields_are_doubtful(ppwp, values):
    """With L = 0 the form says P = JML: a 7 read as 1 in both boxes keeps the sum and beats
    the true reading by 5 nats, past the margin. Neither box was read clearly and no rule
    pins one from clear readings, so both are doubtful (seen in the 1,000-form safety run)."""
    values = dict(values, **{"III.L": 0, "III.P": 7, "III.JML": 7})
    probs = {
        "III.P": with_units(7, (1, 0.8145), (7, 0.1154)),
        "III.JML": with_units(7, (1, 0.8887), (7, 0.0413)),
    }
    decoded = decode_fields(ppwp, readings(ppwp, values, probs))
    assert decoded.doubtful == ["III.P", "III.JML"]
    assert "read unclearly" in decoded.fields["III.P"].reason
    assert decoded.verdict == "needs a look"


def test_unclear_box_pinned_by_clear_fields_stands(ppwp, values):
    """A box read at 0.6 whose value the sum computes from fields read clearly is read."""
    truth = values["I.B.4.JML"]
    units = truth % 10
    probs = {"I.B.4.JML": with_units(truth, (units, 0.6), ((units + 2) % 10, 0.39))}
    decoded = decode_fields(ppwp, readings(ppwp, values, probs))
    d = decoded.fields["I.B.4.JML"]
    assert (d.decision, d.value) == ("read", truth) and decoded.verdict == "accept"


def test_rival_beyond_the_candidate_window_is_not_missed(ppwp, values):
    """The best consistent reading already changes P (4.58 nats); the true one changes JML
    instead (4.97 nats, outside the first candidate window). Both fields are doubtful, and
    JML is never reported as read with the value the misread gave it (seen in the run)."""
    values = dict(values, **{"I.A.L": 152, "I.A.P": 147, "I.A.JML": 299})
    probs = {
        "I.A.P": with_units(147, (7, 0.99), (5, 0.0101)),
        "I.A.JML": with_units(299, (7, 0.963), (9, 0.0067)),
    }
    decoded = decode_fields(ppwp, readings(ppwp, values, probs))
    assert {"I.A.P", "I.A.JML"} <= set(decoded.doubtful)
    assert "299" in decoded.fields["I.A.JML"].reason
    assert decoded.verdict == "needs a look"


def test_search_limit_gives_doubtful_never_a_guess(ppwp, values):
    truth = values["IV.2"]
    units = truth % 10
    probs = {"IV.2": with_units(truth, ((units + 5) % 10, 0.7), (units, 0.3))}
    decoded = decode_fields(
        ppwp, readings(ppwp, values, probs, {"IV.2": ()}), limits=Limits(max_nodes=3)
    )
    assert not decoded.search.complete and decoded.search.stopped_by == "nodes"
    assert decoded.verdict == "needs a look"
    assert decoded.fields["IV.2"].decision == "doubtful"
    assert not decoded.corrected


def test_summary_names_fields_in_plain_indonesian(ppwp):
    assert (
        names.doubtful_line(ppwp, ["IV.2", "V.B"])
        == "2 angka perlu dicek: Paslon 2, Suara tidak sah"
    )
    kk = load_template("pkwkk-kk1")
    option = next(o for o in kk.options if o.kolom_kosong)
    assert names.field_name(kk, option.field) == "Kolom kosong"


def test_signed_evidence_follows_the_decisions(ppwp, values):
    truth = values["IV.2"]
    units = truth % 10
    probs = {
        "IV.2": with_units(truth, ((units + 5) % 10, 0.7), (units, 0.3)),
        "III.L": with_units(values["III.L"], (values["III.L"] % 10, 0.6), (1, 0.4 - 1e-6)),
    }
    decoded = decode_fields(ppwp, readings(ppwp, values, probs, {"IV.2": ()}))
    fields, evidence = document_fields(decoded)
    assert fields == values
    assert (
        evidence["IV.2"]["decision"] == "corrected" and evidence["IV.2"].get("read_as") is not None
    )
    assert evidence["V.A"]["decision"] == "read" and 0 < evidence["V.A"]["confidence"] <= 10_000

    doubt_values = dict(values, **{"IV.2": 7, "IV.3": values["IV.3"] + values["IV.2"] - 7})
    doubt = readings(
        ppwp, doubt_values, {"IV.2": with_units(7, (2, 0.95), (7, 0.05 - 1e-6))}, {"IV.2": ()}
    )
    decoded = decode_fields(ppwp, doubt)
    with pytest.raises(NotConfirmedError, match=r"IV\.2 is doubtful"):
        document_fields(decoded)
    fields, evidence = document_fields(decoded, confirmed={"IV.2"})
    assert (fields["IV.2"], evidence["IV.2"]["decision"], evidence["IV.2"].get("read_as")) == (
        7,
        "confirmed",
        2,
    )
    with pytest.raises(NotConfirmedError, match="break"):
        document_fields(decoded, entered={"IV.2": 9})


def test_paper_mistake_is_never_signed(ppwp, values):
    decoded = decode_fields(ppwp, readings(ppwp, dict(values, **{"V.C": values["V.C"] + 2})))
    assert decoded.verdict == "paper mistake"
    with pytest.raises(NotConfirmedError, match="paper mistake"):
        document_fields(decoded, confirmed=set(values))


def test_pinning_needs_every_other_field_of_the_equation_supported():
    sums = [Relation("r", "=", ("L", "P"), ("JML",))]
    assert support.unsupported({"L": True, "P": False, "JML": True}, sums) == set()
    # A doubtful field pins nothing, so neither unclear field is pinned.
    assert support.unsupported({"L": False, "P": False, "JML": True}, sums) == {"L", "P"}
    # Pinned fields pin the next equation.
    chain = [*sums, Relation("s", "=", ("JML",), ("T",))]
    assert support.unsupported({"L": True, "P": True, "JML": False, "T": False}, chain) == set()
    # An inequality pins nothing.
    le = [Relation("t", "<=", ("L",), ("JML",))]
    assert support.unsupported({"L": False, "JML": True}, le) == {"L"}


def test_ballots_received_and_voters_confirm_each_other_only_when_the_reserve_adds_up():
    # 287 registered voters: 2 % reserve is 5.74, rounded up to 6 ballots.
    assert support.reserve_confirms({"I.A.JML": 287, "II.1": 293}, 20)
    assert not support.reserve_confirms({"I.A.JML": 287, "II.1": 292}, 20)
    assert support.reserve_confirms({"I.A.JML": 600, "II.1": 615}, 25)  # Pilkada: 2.5 %
    assert not support.reserve_confirms({"I.A.JML": None, "II.1": 6}, 20)
    clear = {"I.A.JML": True, "II.1": False}
    assert support.unsupported(clear, [], reserve_agrees=True) == set()
    # Never more than a confirmation: without agreement the unclear field stays unclear.
    assert support.unsupported(clear, [], reserve_agrees=False) == {"II.1"}
    # And an unclear pair confirms nothing.
    assert support.unsupported({"I.A.JML": False, "II.1": False}, [], reserve_agrees=True) == {
        "I.A.JML",
        "II.1",
    }
