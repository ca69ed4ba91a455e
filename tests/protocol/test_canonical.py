import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.canonical import MAX_SAFE_INT, canonical_bytes, parse_canonical
from protocol.errors import CanonicalError

VECTORS = Path(__file__).resolve().parents[2] / "protocol" / "vectors"

json_values = st.recursive(
    st.integers(-MAX_SAFE_INT, MAX_SAFE_INT) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=25,
)


@given(json_values)
def test_canonical_bytes_round_trip(value):
    data = canonical_bytes(value)
    assert parse_canonical(data) == value
    assert canonical_bytes(json.loads(data)) == data


@given(st.dictionaries(st.text(), st.integers(-MAX_SAFE_INT, MAX_SAFE_INT), min_size=2))
def test_key_order_does_not_change_the_bytes(value):
    reversed_value = dict(reversed(list(value.items())))
    assert canonical_bytes(reversed_value) == canonical_bytes(value)


@pytest.mark.parametrize("bad", [1.5, True, None, 2**53, {"a": [False]}, {1: 2}])
def test_refuses_what_has_no_canonical_form(bad):
    with pytest.raises(CanonicalError):
        canonical_bytes(bad)


@pytest.mark.parametrize("text", [b'{"b":1, "a":2}', b'{"b":1,"a":2}', b'{"a":1.0}', b"[1,]"])
def test_parse_refuses_non_canonical_bytes(text):
    with pytest.raises(CanonicalError):
        parse_canonical(text)


def test_published_canonical_cases_still_hold():
    cases = json.loads((VECTORS / "canonical-cases.json").read_text())
    assert len(cases) >= 4
    for case in cases:
        assert canonical_bytes(case["input"]).decode("utf-8") == case["canonical"]


def test_keys_sort_by_utf16_code_units_as_rfc8785_says():
    # U+1F600 is a surrogate pair (D83D DE00) in UTF-16 and sorts before U+FB01.
    data = canonical_bytes({"\ufb01": 1, "\U0001f600": 2})
    assert data == '{"\U0001f600":2,"\ufb01":1}'.encode()


@given(st.dictionaries(st.text(), st.integers(0, 9), max_size=8))
def test_fast_key_sort_agrees_with_utf16_order(value):
    """json's own sort (code points) is used when no key leaves the BMP: same bytes."""
    by_utf16 = dict(sorted(value.items(), key=lambda kv: kv[0].encode("utf-16-be")))
    reference = json.dumps(by_utf16, ensure_ascii=False, separators=(",", ":")).encode()
    assert canonical_bytes(value) == reference


def test_lone_surrogate_is_refused_with_its_path():
    with pytest.raises(CanonicalError, match=r"\$\.fields\.a: string holds a lone surrogate"):
        canonical_bytes({"fields": {"a": "x\ud800"}})
