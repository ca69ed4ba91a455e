"""The receipt's QR text: round trips, and every malformed part is named."""

from __future__ import annotations

import pytest

from protocol.errors import FieldError
from protocol.receipt import Receipt, ReceiptFormatError, parse_receipt

SHA = "ab" * 32
TPS = "31.71.01.1001.001"


def test_receipt_text_round_trips():
    real = Receipt(TPS, 7, SHA)
    assert real.text() == f"TPSR1|{TPS}|7|{SHA}"
    assert parse_receipt(real.text()) == real
    training = Receipt(TPS, 1, SHA, training=True)
    assert training.text().endswith("|LATIHAN") and parse_receipt(training.text()) == training
    assert parse_receipt(f"  TPSR1|3171011001001|7|{SHA}\n") == real  # SIREKAP digits, spaces


@pytest.mark.parametrize(
    ("text", "part"),
    [
        (f"TPSR2|{TPS}|1|{SHA}", "receipt.prefix"),
        ("x", "receipt.prefix"),
        (f"TPSR1|{TPS}|1", "receipt"),
        (f"TPSR1|{TPS}|1|{SHA}|LATIHAN|x", "receipt"),
        (f"TPSR1|{TPS}|1|{SHA}|TRAINING", "receipt.mark"),
        (f"TPSR1|31.71.01|1|{SHA}", "receipt.tps"),
        (f"TPSR1|{TPS}|0|{SHA}", "receipt.seq"),
        (f"TPSR1|{TPS}|-3|{SHA}", "receipt.seq"),
        (f"TPSR1|{TPS}|1|{SHA.upper()}", "receipt.sha256"),
        (f"TPSR1|{TPS}|1|{SHA[:-1]}", "receipt.sha256"),
    ],
)
def test_a_malformed_receipt_names_the_wrong_part(text, part):
    with pytest.raises(ReceiptFormatError) as caught:
        parse_receipt(text)
    assert caught.value.field == part
    assert isinstance(caught.value, FieldError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("text", "part"),
    [
        (f"TPSR1|{TPS}|\u00b2|{SHA}", "receipt.seq"),  # superscript two: isdigit(), not int()
        (f"TPSR1|{TPS}|\u0661|{SHA}", "receipt.seq"),  # Arabic-Indic one: int() reads it as 1
        (f"TPSR1|{TPS}|\uff11|{SHA}", "receipt.seq"),  # fullwidth one
        (f"TPSR1|{TPS}|01|{SHA}", "receipt.seq"),  # a kit never writes a leading zero
        (f"TPSR1|{TPS}|{'9' * 20}|{SHA}", "receipt.seq"),  # beyond the store's 64-bit seq
        (f"TPSR1|31.71.01.1001.00\u0661|1|{SHA}", "receipt.tps"),
        (f"TPSR1|{TPS}|1|{SHA[:-1]}\u0661", "receipt.sha256"),
        (f"TPSR1|{TPS}|1|{SHA}\n|LATIHAN", "receipt.sha256"),  # $ would let the newline by
    ],
)
def test_only_ascii_digits_are_a_receipt_s_numbers(text, part):
    with pytest.raises(ReceiptFormatError) as caught:
        parse_receipt(text)
    assert caught.value.field == part


def test_a_receipts_url_carries_its_fields_for_the_hubs_page():
    from urllib.parse import parse_qs, urlsplit

    from protocol.receipt import RECEIPT_PAGE, receipt_url

    sha = "ab" * 32
    url = receipt_url("https://hub.example/", Receipt("31.71.01.1001.001", 2, sha, True))
    parts = urlsplit(url)
    assert parts.netloc == "hub.example" and parts.path == RECEIPT_PAGE
    query = parse_qs(parts.query)
    assert query == {"tps": ["31.71.01.1001.001"], "seq": ["2"], "sha256": [sha], "latihan": ["1"]}
    assert "latihan" not in receipt_url("https://hub.example", Receipt("31.71.01.1001.001", 2, sha))


@pytest.mark.parametrize(
    "url",
    [
        "https://hub.example/?tps=31.71.01.1001.002",  # a query that would name another TPS
        "https://hub.example/#x",  # a fragment
        "https://kpu.example@evil.example",  # a user part hiding the real host
        "javascript:alert(1)",  # not a web address
        "https://hub example",  # a space
        "hub.example",  # no scheme: a phone would not open it
        "https://" + "a" * 100 + ".example",  # longer than a screen's QR code holds
    ],
)
def test_a_public_url_that_would_change_or_hide_where_the_qr_leads_is_refused(url):
    from protocol.kitconfig import parse_kit_config
    from protocol.receipt import check_public_url

    with pytest.raises(FieldError):
        check_public_url(url)
    config = {
        "kit": {
            "id": "kit-1",
            "tps": "31.71.01.1001.001",
            "election": "pemilu-2024",
            "region": "31.71",
        },
        "broker": {"host": "hub"},
        "forms": {"ids": ["ppwp-plano"]},
        "hub": {"public_url": url},
    }
    with pytest.raises(FieldError) as caught:
        parse_kit_config(config)
    assert caught.value.field.startswith("hub.public_url")


def test_a_public_url_is_optional_and_names_the_hubs_page():
    from protocol.kitconfig import parse_kit_config

    base = {
        "kit": {
            "id": "kit-1",
            "tps": "31.71.01.1001.001",
            "election": "pemilu-2024",
            "region": "31.71",
        },
        "broker": {"host": "hub"},
        "forms": {"ids": ["ppwp-plano"]},
    }
    assert parse_kit_config(base).hub.public_url == ""
    public = "http://10.0.0.5:8080/hasil"
    assert parse_kit_config(base | {"hub": {"public_url": public}}).hub.public_url == public
