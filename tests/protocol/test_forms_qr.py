"""The page QR payload round-trips and refuses anything else."""

from __future__ import annotations

import pytest

from protocol.errors import FieldError
from protocol.forms import QrPayloadError, load_template, parse_qr_payload, qr_payload
from protocol.forms.layout import tag_corners


def test_round_trip():
    text = qr_payload("pemilu-2024", "ppwp-plano", 2, "3171011001001")
    assert text == "TPS1|pemilu-2024|ppwp-plano|2|31.71.01.1001.001"
    parsed = parse_qr_payload(text)
    assert (parsed.election, parsed.form, parsed.page, parsed.tps) == (
        "pemilu-2024",
        "ppwp-plano",
        2,
        "31.71.01.1001.001",
    )
    assert parsed.text() == text


@pytest.mark.parametrize(
    "text",
    [
        "TPS2|pemilu-2024|ppwp-plano|2|31.71.01.1001.001",
        "TPS1|pemilu-2024|ppwp-plano|x|31.71.01.1001.001",
        "TPS1|pemilu-2024|ppwp-plano|2|31.71.01.1001",
        "TPS1|Pemilu|ppwp-plano|2|31.71.01.1001.001",
        "TPS1|pemilu-2024|ppwp-plano|2",
        "https://example.org",
    ],
)
def test_malformed_payloads_are_refused(text):
    with pytest.raises(QrPayloadError):
        parse_qr_payload(text)


def test_building_a_payload_validates_its_parts():
    with pytest.raises(FieldError):
        qr_payload("pemilu 2024", "ppwp-plano", 1, "31.71.01.1001.001")
    with pytest.raises(FieldError):
        qr_payload("pemilu-2024", "ppwp-plano", 0, "31.71.01.1001.001")


def test_tag_corners_follow_the_printed_rotation():
    tag = load_template("ppwp-plano").pages[1].tag  # printed turned 180 degrees
    corners = tag_corners(tag)
    # Measured on KPU's own sheet: OpenCV's corner 0 of tag 102 is the square's bottom-right.
    assert corners[0] == pytest.approx((526.1, 139.3))
    assert corners[2] == pytest.approx((494.1, 107.3))
