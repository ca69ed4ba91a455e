import pytest

from protocol.document import parse_document, parse_document_bytes
from protocol.errors import FieldError
from protocol.tps import parse
from tests.conftest import make_document


class _Kit:
    kit_id = "kit-3171011001001-1"
    tps = "31.71.01.1001.001"
    election = "pemilu-2024"


def _value(**changes):
    value = make_document(_Kit()).to_json_value()
    value.update(changes)
    return value


def test_document_round_trips_through_canonical_bytes():
    doc = make_document(_Kit())
    assert parse_document_bytes(doc.canonical()) == doc
    assert len(doc.sha256()) == 64


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"surprise": 1}, "surprise"),
        ({"seq": -1}, "seq"),
        ({"seq": 0}, "seq"),
        ({"seq": "1"}, "seq"),
        ({"seq": True}, "seq"),
        ({"tps": "31.71.01.1001"}, "tps"),
        ({"tps": "00.71.01.1001.001"}, "tps"),
        ({"kit": "Kit 1"}, "kit"),
        ({"captured_at": "2024-02-14 19:03"}, "captured_at"),
        ({"prev_sha256": "abc"}, "prev_sha256"),
        ({"form_version": 0}, "form_version"),
    ],
)
def test_rejects_malformed_field_naming_it(changes, field):
    with pytest.raises(FieldError) as caught:
        parse_document(_value(**changes))
    assert caught.value.field == field


def test_rejects_negative_vote_count_naming_the_field():
    value = _value()
    value["fields"]["IV.2"] = -3
    with pytest.raises(FieldError) as caught:
        parse_document(value)
    assert caught.value.field == "fields.IV.2"


def test_rejects_float_vote_count():
    value = _value()
    value["fields"]["IV.2"] = 97.0
    with pytest.raises(FieldError, match="integers and strings only"):
        parse_document(value)


def test_rejects_value_beyond_five_boxes():
    value = _value()
    value["fields"]["V.C"] = 100_000
    with pytest.raises(FieldError) as caught:
        parse_document(value)
    assert caught.value.field == "fields.V.C"


def test_rejects_evidence_for_fields_that_are_not_there():
    value = _value()
    del value["evidence"]["IV.1"]
    with pytest.raises(FieldError) as caught:
        parse_document(value)
    assert caught.value.field == "evidence"


def test_rejects_missing_field():
    value = _value()
    del value["kit"]
    with pytest.raises(FieldError, match="missing") as caught:
        parse_document(value)
    assert caught.value.field == "kit"


def test_tps_code_accepts_sirekap_digits_and_gives_recap_prefixes():
    code = parse("3171011001001")
    assert str(code) == "31.71.01.1001.001"
    assert code.prefix("kecamatan") == "31.71.01"
    assert code.prefixes()["desa"] == "31.71.01.1001"


@pytest.mark.parametrize(
    "text",
    [
        "31.71.01.1001.00\u0661",  # Arabic-Indic one
        "\u0663\u0661.71.01.1001.001",
        "317101100100\uff11",  # fullwidth one
        "31.71.01.1001.001\n.1",
    ],
)
def test_tps_code_refuses_digits_of_other_scripts(text):
    with pytest.raises(FieldError) as caught:
        parse(text)
    assert caught.value.field == "tps"


def test_region_prefix_refuses_digits_of_other_scripts():
    from protocol.tps import region_prefix_valid

    assert region_prefix_valid("31.71") and region_prefix_valid("31.71.01.1001")
    assert not region_prefix_valid("31.7\u0661")
    assert not region_prefix_valid("\u00b2\u00b2")


@pytest.mark.parametrize("bad", ["IV.2\nV.C", "-IV", "a b", "x" * 49, "IV\u00b2"])
def test_field_ids_are_checked_one_by_one_where_one_fails(bad):
    """The fields' ids are matched all at once; a key that fails (or holds the newline the
    joined match splits on) is named exactly as a key-by-key check names it."""
    value = _value()
    value["fields"][bad] = 1
    value["evidence"][bad] = {"confidence": 9990, "decision": "read"}
    with pytest.raises(FieldError) as caught:
        parse_document(value)
    assert caught.value.field == "fields"
    assert caught.value.reason == f"{bad!r} is not a form field id"
