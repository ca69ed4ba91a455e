"""A page's homography in the signed document (``pages[].corners``): parsed strictly, and a
document without it (a kit from before) still accepted with the same bytes."""

import math

import pytest

from protocol.canonical import canonical_bytes
from protocol.document import parse_document, parse_document_bytes
from protocol.errors import FieldError
from protocol.pageframe import page_corners
from tests.conftest import make_document


class _Kit:
    kit_id = "kit-3171011001001-1"
    tps = "31.71.01.1001.001"
    election = "pemilu-2024"


# A plano page photographed a little turned and in perspective (hundredths of a pixel).
GOOD = [[41_250, 30_000], [238_900, 36_075], [230_010, 331_500], [35_500, 322_080]]


def _with(corners):
    value = make_document(_Kit()).to_json_value()
    value["pages"][0]["corners"] = corners
    return value


def test_corners_round_trip_through_the_signed_bytes():
    doc = parse_document(_with(GOOD))
    assert doc.pages[0].corners == GOOD
    assert parse_document_bytes(doc.canonical()) == doc
    assert b'"corners":[[41250,30000],' in doc.canonical()


def test_a_document_without_corners_is_still_accepted_byte_for_byte():
    old = make_document(_Kit())
    value = old.to_json_value()
    assert "corners" not in value["pages"][0]
    again = parse_document_bytes(canonical_bytes(value))
    assert again.pages[0].corners is None and again.canonical() == old.canonical()


def test_a_nan_homography_is_refused():
    with pytest.raises(FieldError, match="integers and strings only"):
        parse_document(_with([[math.nan, 0], *GOOD[1:]]))
    raw = canonical_bytes(_with(GOOD)).replace(b"[41250,30000]", b"[NaN,30000]")
    with pytest.raises(FieldError):
        parse_document_bytes(raw)


def test_fractional_pixels_as_floats_are_refused():
    with pytest.raises(FieldError, match="integers and strings only"):
        parse_document(_with([[412.5, 300.0], *GOOD[1:]]))


@pytest.mark.parametrize(
    ("corners", "why"),
    [
        ([GOOD[0], GOOD[0], GOOD[2], GOOD[3]], "three in a line"),  # two corners the same
        ([[0, 0], [50_000, 0], [100_000, 0], [0, 100_000]], "three in a line"),  # collinear
        ([GOOD[1], GOOD[0], GOOD[3], GOOD[2]], "mirrored"),  # a mirror image
        ([GOOD[0], GOOD[2], GOOD[1], GOOD[3]], "crossed"),  # a bow tie
        ([GOOD[0], GOOD[1], [100_000, 50_000], GOOD[3]], "convex"),  # a dent
    ],
)
def test_a_degenerate_homography_is_refused(corners, why):
    with pytest.raises(FieldError, match=why) as caught:
        parse_document(_with(corners))
    assert caught.value.field == "pages.0.corners"


@pytest.mark.parametrize(
    "corners",
    [
        GOOD[:3],  # three corners
        [*GOOD, GOOD[0]],  # five
        [[1, 2, 3], *GOOD[1:]],  # a point with three coordinates
        [[True, 0], *GOOD[1:]],  # a boolean for a number
        [["41250", 30000], *GOOD[1:]],  # a string for a number
        [[10**12, 0], *GOOD[1:]],  # far outside any photo
        "41250,30000 238900,36075",  # not a list at all
    ],
)
def test_malformed_corners_are_refused_naming_the_page(corners):
    with pytest.raises(FieldError) as caught:
        parse_document(_with(corners))
    # The canonical check names it pages[0].corners..., the document's own pages.0.corners.
    assert caught.value.field.replace("[0]", ".0", 1).startswith("pages.0.corners")


def test_a_page_a_few_pixels_across_is_refused():
    tiny = [[0, 0], [900, 0], [900, 1_300], [0, 1_300]]  # 9 x 13 px
    with pytest.raises(FieldError, match="less than 100 px across"):
        parse_document(_with(tiny))


def test_a_sliver_of_large_area_is_refused():
    # 10,000 x 2 px: more area than a 100 x 100 page, but no sheet photographed.
    sliver = [[0, 0], [1_000_000, 0], [1_000_000, 200], [0, 200]]
    with pytest.raises(FieldError, match="less than 100 px across"):
        parse_document(_with(sliver))


def test_corners_of_a_homography_are_where_it_sends_the_page_corners():
    # 3 px per mm, shifted by (10, 20) px: a 600 x 900 mm page.
    h = [[3.0, 0.0, 10.0], [0.0, 3.0, 20.0], [0.0, 0.0, 1.0]]
    assert page_corners(h, 600, 900) == [
        [1_000, 2_000],
        [181_000, 2_000],
        [181_000, 272_000],
        [1_000, 272_000],
    ]
    with pytest.raises(FieldError, match="infinity"):
        page_corners([[1, 0, 0], [0, 1, 0], [0, 0, 0]], 600, 900)
