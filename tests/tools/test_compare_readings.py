"""tools/compare_readings.py: two readings of the same photos agree only if every decision
does; measured numbers may differ by rounding, within tolerance."""

from __future__ import annotations

import copy
import json

from tools.compare_readings import compare, main

REPORT = {
    "verdict": "accept",
    "complete": True,
    "pages": [{"page": 1, "outcome": "read", "px_per_mm": 3.402, "sharpness": 0.41}],
    "fields": {
        "V.A": {
            "value": 210,
            "p": 0.9931,
            "alternatives": [[210, 0.9931], [270, 0.0041]],
            "boxes": [[["2", 0.998], ["7", 0.001]], [["1", 0.99]], [["0", 0.997]]],
            "decision": "read",
        }
    },
    "problems": [],
}


def changed(edit):
    other = copy.deepcopy(REPORT)
    edit(other)
    return other


def test_rounding_between_cpus_is_within_tolerance():
    other = changed(lambda r: r["fields"]["V.A"].update(p=0.9933))
    result = compare(REPORT, other)
    assert result.agree and round(result.max_probability_diff, 4) == 0.0002


def test_a_value_read_differently_is_a_difference():
    other = changed(lambda r: r["fields"]["V.A"].update(value=270))
    result = compare(REPORT, other)
    assert result.differences == ["/fields/V.A/value: 210 against 270"]


def test_a_box_whose_top_class_differs_is_a_difference_even_at_equal_probability():
    other = changed(lambda r: r["fields"]["V.A"]["boxes"][0][0].__setitem__(0, "7"))
    assert not compare(REPORT, other).agree


def test_a_verdict_or_a_decision_that_differs_is_a_difference():
    assert not compare(REPORT, changed(lambda r: r.update(verdict="needs a look"))).agree
    other = changed(lambda r: r["fields"]["V.A"].update(decision="constrained"))
    assert not compare(REPORT, other).agree


def test_a_probability_beyond_tolerance_and_a_missing_field_are_differences():
    other = changed(lambda r: r["fields"]["V.A"].update(p=0.97))
    assert "differs by 0.0231" in compare(REPORT, other).differences[0]
    other = changed(lambda r: r["fields"].pop("V.A"))
    assert compare(REPORT, other).differences == ["/fields/V.A: only in a"]


def test_the_command_exits_1_when_readings_differ(tmp_path, capsys):
    a, b = tmp_path / "x86.json", tmp_path / "arm64.json"
    a.write_text(json.dumps(REPORT))
    b.write_text(json.dumps(REPORT))
    assert main([str(a), str(b)]) == 0
    assert "agree" in capsys.readouterr().out
    b.write_text(json.dumps(changed(lambda r: r.update(verdict="paper mistake"))))
    assert main([str(a), str(b)]) == 1
    assert "DIFFER in 1 place(s)" in capsys.readouterr().out


def test_tied_alternatives_may_come_in_either_order_but_a_box_read_differently_may_not():
    def swap_alternatives(r):
        r["fields"]["V.A"]["alternatives"] = [[270, 0.0041], [210, 0.0040]]

    tied = {**REPORT, "fields": {"V.A": {**REPORT["fields"]["V.A"]}}}
    tied["fields"]["V.A"]["alternatives"] = [[210, 0.0040], [270, 0.0041]]
    result = compare(tied, changed(swap_alternatives))
    assert result.agree and result.tied_swaps == [
        "/fields/V.A/alternatives[0]",
        "/fields/V.A/alternatives[1]",
    ]
    # a box's first class is what the kit reads: never a tie to take either way
    close = changed(lambda r: r["fields"]["V.A"].update(boxes=[[["2", 0.50], ["7", 0.50]]]))
    swapped = changed(lambda r: r["fields"]["V.A"].update(boxes=[[["7", 0.50], ["2", 0.50]]]))
    assert not compare(close, swapped).agree
    # a swap of entries that do not tie is a difference
    apart = changed(
        lambda r: r["fields"]["V.A"].update(alternatives=[[270, 0.9931], [210, 0.0041]])
    )
    assert not compare(REPORT, apart).agree


def test_the_last_of_a_ranked_list_may_name_another_label_at_the_same_probability():
    cut = changed(lambda r: r["fields"]["V.A"]["boxes"][0].__setitem__(1, ["1", 0.001]))
    result = compare(REPORT, cut)
    assert result.agree and result.tied_swaps == ["/fields/V.A/boxes[0][1]"]
    apart = changed(lambda r: r["fields"]["V.A"]["boxes"][0].__setitem__(1, ["1", 0.05]))
    assert not compare(REPORT, apart).agree
