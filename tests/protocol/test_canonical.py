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


def _reference_parse(data: bytes):
    """parse_canonical as it was before its fast path: parse, then compare with the full
    canonical form (which walks every value)."""
    value = json.loads(data.decode("utf-8"), parse_float=float, parse_constant=float)
    if canonical_bytes(value) != data:
        raise CanonicalError("JSON is not in canonical form (sorted keys, no whitespace)")
    return value


def _outcome(parse, data: bytes):
    try:
        return "value", parse(data)
    except CanonicalError as e:
        return "error", str(e)


# Everything the fast path must send back to the full check: bools, nulls, integers
# beyond 2**53 - 1 (in objects, lists, negative), escapes, keys beyond the BMP, digits
# that only look like a long integer inside strings.
_anything = st.recursive(
    st.integers(-(2**60), 2**60)
    | st.sampled_from([MAX_SAFE_INT, MAX_SAFE_INT + 1, -MAX_SAFE_INT - 1, 0])
    | st.booleans()
    | st.none()
    | st.text(alphabet=st.characters(blacklist_categories=("Cs",)))
    | st.sampled_from(["0" * 64, "a:1234567890123456", "\U0001f600", "\\u0041"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=3) | st.just("\U0001f600"), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(_anything, st.booleans(), st.booleans())
def test_fast_parse_gives_what_the_full_check_gives(value, escape, spaced):
    separators = (", ", ": ") if spaced else (",", ":")
    text = json.dumps(value, sort_keys=True, separators=separators, ensure_ascii=escape)
    data = text.encode("utf-8")
    fast, reference = _outcome(parse_canonical, data), _outcome(_reference_parse, data)
    if fast[0] == "error" and "not JSON" in fast[1]:
        return  # a float's text the reference parser reads: refused before either check
    assert fast == reference


@pytest.mark.parametrize(
    "text",
    [
        b'{"a":true}',
        b'{"a":[1,null]}',
        b'{"a":9007199254740992}',
        b'{"a":-9007199254740992}',
        b'{"a":[0,12345678901234567]}',
        b'{"a":"12345678901234567","b":9007199254740991}',
        b'{"\\ud83d\\ude00":1,"\\ufb01":2}',
        b'{"a":"\\ud800"}',
    ],
)
def test_fast_parse_edge_cases(text):
    assert _outcome(parse_canonical, text) == _outcome(_reference_parse, text)
