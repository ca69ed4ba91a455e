"""tools/model_speed.py: both shipped models timed on the same page, and their ratio."""

from __future__ import annotations

import json

from tools import model_speed


def test_both_models_classify_the_same_page_and_the_ratio_is_theirs(capsys):
    assert model_speed.main(["--pages", "2"]) == 0
    line, last = capsys.readouterr().out.strip().splitlines()
    figures = json.loads(last)
    assert figures["same_class"] == "70/70"  # int8 reads these held-out digits as float does
    assert figures["float_ms_per_page"] > 0 and figures["int8_ms_per_page"] > 0
    ratio = figures["int8_ms_per_page"] / figures["float_ms_per_page"]
    assert abs(figures["int8_over_float"] - ratio) < 0.01
    assert line.startswith(f"{figures['machine']}: classify a page of 70 boxes")


def test_a_page_is_seventy_normalised_boxes():
    from protocol.idx import load_digits

    images, _ = load_digits(model_speed.FIXTURE)
    page = model_speed.page_of_boxes(images[:70])
    assert page.shape == (70, 1, 28, 28) and page.min() >= 0.0 and page.max() <= 1.0
