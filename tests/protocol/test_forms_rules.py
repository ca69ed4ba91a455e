"""The arithmetic rules as data: a consistent form passes, each broken relation is named."""

from __future__ import annotations

import pytest

from protocol.forms import TemplateError, evaluate, load_template
from protocol.forms.rules import compile_rules, parse_expr


def consistent_ppwp() -> dict[str, int]:
    v: dict[str, int] = {}

    def split(row: str, male: int, female: int) -> None:
        v[f"{row}.L"], v[f"{row}.P"], v[f"{row}.JML"] = male, female, male + female

    split("I.A", 140, 150)
    split("I.B.1", 120, 130)
    split("I.B.2", 3, 2)
    split("I.B.3", 1, 0)
    split("I.B.4", 124, 132)
    split("III", 2, 1)
    v.update({"II.1": 296, "II.2": 256, "II.3": 2, "II.4": 38})
    v.update({"IV.1": 100, "IV.2": 90, "IV.3": 60, "V.A": 250, "V.B": 6, "V.C": 256})
    return v


def test_consistent_ppwp_form_passes():
    report = evaluate(load_template("ppwp-plano"), consistent_ppwp())
    assert report.ok, [v.message for v in report.violations] + report.unchecked


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"I.A.JML": 291}, "I.A.sum"),
        ({"I.B.2.L": 4, "I.B.2.JML": 6}, "I.B.4.L.sum"),
        ({"I.B.1.P": 151, "I.B.1.JML": 271, "I.B.4.P": 153, "I.B.4.JML": 277}, "I.B.1.P.le"),
        ({"II.1": 297}, "II.1.sum"),
        ({"II.2": 255, "II.4": 39}, "II.2.users"),
        ({"III.L": 260, "III.JML": 261}, "III.le"),
        ({"IV.1": 101}, "V.A.sum"),
        ({"V.B": 7}, "V.C.sum"),
        ({"IV.1": 307}, "cap"),
    ],
)
def test_each_broken_relation_is_reported_by_its_rule_id(change, rule):
    values = consistent_ppwp() | change
    report = evaluate(load_template("ppwp-plano"), values)
    assert rule in report.failed_rules()
    failing = next(v for v in report.violations if v.rule_id == rule)
    assert failing.left != failing.right or failing.left > failing.right
    assert rule in failing.message and all(k in values for k in failing.values)


def test_returned_ballots_over_received_is_reported():
    values = consistent_ppwp() | {"II.3": 300}
    report = evaluate(load_template("ppwp-plano"), values)
    assert "II.3.le" in report.failed_rules()


def test_violation_carries_the_numbers():
    values = consistent_ppwp() | {"V.C": 250}
    report = evaluate(load_template("ppwp-plano"), values)
    v = next(v for v in report.violations if v.rule_id == "V.C.sum")
    assert (v.left, v.right) == (250, 256)
    assert v.values == {"V.C": 250, "V.A": 250, "V.B": 6}


def test_missing_pages_leave_rules_unchecked_not_passed():
    values = {k: v for k, v in consistent_ppwp().items() if not k.startswith("V.")}
    report = evaluate(load_template("ppwp-plano"), values)
    assert not report.violations and not report.ok
    assert {"V.A.sum", "V.C.sum", "V.C.used"} <= set(report.unchecked)


def test_pilkada_cap_is_615_and_kolom_kosong_votes_count():
    t = load_template("pkwkk-kk1")
    values = consistent_ppwp() | {"IV.1": 100, "IV.2": 150}
    del values["IV.3"]
    assert evaluate(t, values).ok
    assert evaluate(t, values | {"II.1": 615, "II.4": 357}).ok
    assert "cap" in evaluate(t, values | {"II.1": 616, "II.4": 358}).failed_rules()


def test_expression_parser():
    assert parse_expr("V.C = V.A + V.B") == ("=", ("V.C",), ("V.A", "V.B"))
    assert parse_expr("a<=b+c") == ("<=", ("a",), ("b", "c"))
    for bad in ("a = b = c", "a + = b", "a = b +", "__import__('os') = 1", "a b = c", "a"):
        with pytest.raises(TemplateError):
            parse_expr(bad)


def test_rule_naming_a_field_twice_is_refused():
    """``a + b = a + c`` would let ``a`` cancel out: the decoder would take it as checked."""
    t = load_template("ppwp-plano")
    rule = t.rules[0].model_copy(update={"expr": "V.A + V.B = V.A + V.C", "eq": None})
    broken = t.model_copy(update={"rules": [rule]})
    with pytest.raises(TemplateError, match=r"names \['V.A'\] more than once"):
        compile_rules(broken)
