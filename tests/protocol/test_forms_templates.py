"""Every shipped template validates, hashes canonically and refuses unknown keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from protocol.forms import (
    TemplateError,
    find_page_by_tag,
    load_all,
    load_template,
    template_ids,
)
from protocol.forms.loader import parse_template, template_bytes, templates_dir

EXPECTED = {"ppwp-plano", "ppwp-salinan", "dprd-kabko-example"}
EXPECTED |= {f"pkwkp-{n}" for n in range(2, 6)} | {f"pkwkk-{n}" for n in range(2, 7)}
EXPECTED |= {f"{c}-kk{k}" for c in ("pkwkp", "pkwkk") for k in (1, 2)}


def test_every_shipped_template_validates():
    assert set(template_ids()) == EXPECTED
    for loaded in load_all():
        t = loaded.template
        assert t.page_count == len(t.pages)
        assert len(loaded.sha256) == 64


def test_ppwp_plano_fields_and_measured_geometry():
    t = load_template("ppwp-plano")
    assert (t.pages[0].width, t.pages[0].height) == (600, 900)
    assert [len(p.fields) for p in t.pages] == [22, 3, 3]
    assert [(p.tag.family, p.tag.id, p.tag.rotation) for p in t.pages] == [
        ("apriltag_36h10", 101, 180),
        ("apriltag_36h10", 102, 180),
        ("apriltag_36h10", 103, 180),
    ]
    iv1 = t.field("IV.1")
    assert iv1.digits == 3 and iv1.bubbles is not None and len(iv1.bubbles) == 3
    assert (iv1.boxes[0].x, iv1.boxes[0].y, iv1.boxes[0].w) == (455.0, 184.6, 20.0)
    assert iv1.bubbles[0].centre(0) == (465.0, 214.1)
    assert t.field("I.A.L").alias == "pemilih_dpt_l"
    assert all(f.bubbles is None for p in (t.pages[0], t.pages[2]) for f in p.fields)
    assert t.cap == 306


def test_pilkada_caps_options_and_kolom_kosong():
    assert load_template("pkwkk-6").cap == 615
    assert [o.field for o in load_template("pkwkk-6").options] == [f"IV.{i}" for i in range(1, 7)]
    for k in (1, 2):
        options = load_template(f"pkwkp-kk{k}").options
        assert [o.kolom_kosong for o in options] == [i == k for i in (1, 2)]
        assert options[k - 1].label == "KOLOM KOSONG"


def test_salinan_has_no_bubbles_and_dprd_example_spans_pages():
    salinan = load_template("ppwp-salinan")
    assert salinan.sheet == "a4" and salinan.page_count == 2
    assert all(f.bubbles is None for _, f in salinan.fields())
    dprd = load_template("dprd-kabko-example")
    assert dprd.example and dprd.page_count == 2


def test_tags_are_unique_over_all_templates():
    seen = {}
    for loaded in load_all():
        for page in loaded.template.pages:
            key = (page.tag.family, page.tag.id)
            assert key not in seen, (key, seen.get(key))
            seen[key] = (loaded.template.id, page.number)
    template, page = find_page_by_tag("apriltag_36h10", 102)
    assert (template.id, page.number) == ("ppwp-plano", 2)
    with pytest.raises(TemplateError):
        find_page_by_tag("apriltag_36h11", 586)


def _ppwp_data() -> dict:
    return json.loads((templates_dir() / "ppwp-plano.json").read_text(encoding="utf-8"))


def test_unknown_key_is_refused_naming_it():
    data = _ppwp_data()
    data["pages"][1]["fields"][0]["colour"] = "red"
    with pytest.raises(TemplateError, match=r"unknown key 'pages\.1\.fields\.0\.colour'"):
        parse_template(json.dumps(data).encode())
    data = _ppwp_data()
    data["extra_top"] = 1
    with pytest.raises(TemplateError, match="extra_top"):
        parse_template(json.dumps(data).encode())


def test_inconsistent_templates_are_refused():
    data = _ppwp_data()
    data["rules"].append({"id": "bad", "description": "x", "expr": "V.A = NOPE"})
    with pytest.raises(TemplateError, match="NOPE"):
        parse_template(json.dumps(data).encode())
    data = _ppwp_data()
    data["pages"][1]["fields"][0]["digits"] = 4
    with pytest.raises(TemplateError, match="4 digits but 3 boxes"):
        parse_template(json.dumps(data).encode())
    data = _ppwp_data()
    data["page_count"] = 2
    with pytest.raises(TemplateError, match="page_count"):
        parse_template(json.dumps(data).encode())


def test_unknown_form_lists_the_known_ones():
    with pytest.raises(TemplateError, match=r"known forms: .*ppwp-plano"):
        load_template("ppwp-nope")


def test_hash_ignores_formatting_but_not_content(tmp_path: Path):
    raw = (templates_dir() / "ppwp-plano.json").read_bytes()
    data = json.loads(raw)
    compact = json.dumps(data, separators=(",", ":")).encode()
    assert parse_template(compact).sha256 == parse_template(raw).sha256
    data["version"] += 1
    assert parse_template(json.dumps(data).encode()).sha256 != parse_template(raw).sha256


def test_canonical_bytes_write_integral_floats_as_integers():
    assert template_bytes({"b": 20.0, "a": [1.5, "x"]}) == b'{"a":[1.5,"x"],"b":20}'
