"""The appliance end to end: files camera on synthesized pages, file screen, MockFactory pins."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import time

import cv2
import numpy as np
import pytest

from firmware.hardware.patterns import Signal
from firmware.identity import StartupError
from firmware.kit import ButtonEvent, Press, State
from protocol.certs import load_certificate
from protocol.errors import FieldError
from protocol.kitconfig import load_kit_config, parse_kit_config
from protocol.receipt import parse_receipt
from protocol.result import verify_result
from tests.firmware.conftest import ELECTION, TRAINING
from tests.firmware.kits import AMBER, CONFIRM, GREEN, RED, SCAN, build, led, press, screens
from tests.firmware.test_screen import decode_qr


def ca_of(config):
    settings = load_kit_config(config)
    return load_certificate(settings.paths.ca_certificate.read_bytes())


@pytest.fixture
def close_later():
    made = []
    yield made.append
    for assembled in made:
        assembled.close()


def test_whole_form_scanned_confirmed_signed_and_queued(kit_config, forms, mock_pins, close_later):
    form = forms["good"]
    config = kit_config()
    assembled = build(config, form.pages)
    close_later(assembled)
    kit = assembled.kit
    assert kit.signal == Signal.OFFLINE  # no uplink has said it is online

    press(mock_pins, SCAN, kit)
    assert (kit.state, kit.signal) == (State.IDLE, Signal.NEXT_PAGE)
    assert "Letakkan halaman 2 dari 3" in screens(assembled)[-1].text
    press(mock_pins, CONFIRM, kit)  # not yet: nothing happens with pages missing
    assert kit.state == State.IDLE and assembled.outbox.documents() == []
    press(mock_pins, SCAN, kit)
    assert "Letakkan halaman 3 dari 3" in screens(assembled)[-1].text
    press(mock_pins, SCAN, kit)
    assert kit.state == State.REVIEW and kit.signal == Signal.REVIEW_OK
    assert screens(assembled)[-1].kind == "review"
    assert led(mock_pins, GREEN) and not led(mock_pins, RED)

    press(mock_pins, CONFIRM, kit)
    assert (kit.state, kit.signal) == (State.QUEUED, Signal.QUEUED)
    (entry,) = assembled.outbox.documents()
    verified = verify_result(entry.signed, ca_of(config), at=dt.datetime.now(dt.UTC))
    document = verified.document
    assert document.fields == form.truth
    assert (document.seq, document.election, document.tps) == (1, ELECTION, kit.identity.tps)
    assert [p.sha256 for p in document.pages] == [
        hashlib.sha256(p.read_bytes()).hexdigest() for p in form.pages
    ]
    assert document.model_sha256 == kit.reader.model.sha256
    assert document.template_sha256 == kit.template_sha256["ppwp-plano"]
    receipt = parse_receipt(decode_qr(screens(assembled)[-1].path))
    assert (receipt.tps, receipt.seq, receipt.sha256) == (document.tps, 1, entry.sha256)
    assert entry.sha256 == verified.document_sha256 and not receipt.training
    assert all("LATIHAN" not in s.text for s in screens(assembled))  # a real kit


def test_errors_return_to_idle_with_their_message(
    kit_config, forms, mock_pins, close_later, tmp_path
):
    blank = tmp_path / "table.png"
    cv2.imwrite(str(blank), np.full((600, 800), 200, np.uint8))  # the empty table
    other_election = forms["training"].pages[0]
    assembled = build(kit_config(), [blank, other_election])
    close_later(assembled)
    kit = assembled.kit
    for expected in ("", "pemilihan lain", "Tidak ada gambar lagi"):
        press(mock_pins, SCAN, kit)
        assert (kit.state, kit.signal) == (State.IDLE, Signal.ERROR)
        assert kit.message is not None and expected in kit.message.pesan
        assert kit.message.pesan in screens(assembled)[-1].text
        assert led(mock_pins, RED) and not led(mock_pins, GREEN) and not led(mock_pins, AMBER)
    assert assembled.outbox.documents() == []


def test_a_paper_mistake_is_never_signed(kit_config, forms, mock_pins, close_later):
    assembled = build(kit_config(), forms["mistake"].pages)
    close_later(assembled)
    kit = assembled.kit
    for _ in range(3):
        press(mock_pins, SCAN, kit)
    assert kit.decoded is not None and kit.decoded.verdict == "paper mistake"
    assert (kit.state, kit.signal) == (State.REVIEW, Signal.PAPER_MISTAKE)
    assert "SALAH DI KERTAS" in screens(assembled)[-1].text
    for _ in range(2):
        press(mock_pins, CONFIRM, kit)
        assert kit.state == State.REVIEW and kit.signal == Signal.PAPER_MISTAKE
    assert "Tidak bisa ditandatangani" in screens(assembled)[-1].text
    assert assembled.outbox.documents() == [] and kit.receipt is None


def test_training_kit_says_latihan_everywhere_and_signs_for_its_training_election(
    kit_config, forms, mock_pins, close_later
):
    form = forms["training"]
    assembled = build(kit_config(TRAINING), form.pages)
    close_later(assembled)
    kit = assembled.kit
    assert kit.training and kit.signal == Signal.TRAINING
    for _ in range(3):
        press(mock_pins, SCAN, kit)
    press(mock_pins, CONFIRM, kit)
    assert kit.state == State.QUEUED
    assert all("LATIHAN" in s.text for s in screens(assembled))
    receipt = parse_receipt(decode_qr(screens(assembled)[-1].path))
    assert receipt.training and receipt.text().endswith("|LATIHAN")
    (entry,) = assembled.outbox.documents()
    document = verify_result(entry.signed, ca_of(kit_config_path(assembled)), at=now()).document
    assert document.election == TRAINING and document.fields == form.truth


def test_holding_scan_cancels_the_form(kit_config, forms, mock_pins, close_later):
    assembled = build(kit_config(), forms["good"].pages)
    close_later(assembled)
    kit = assembled.kit
    press(mock_pins, SCAN, kit)
    assert len(kit.form.pages) == 1
    mock_pins.pin(SCAN).drive_low()
    time.sleep(0.4)  # hold_cancel_s is 0.2 in the tests' kit.toml
    mock_pins.pin(SCAN).drive_high()
    kit.drain()
    assert kit.state == State.IDLE and not kit.form.pages
    assert Signal.CANCELLED in kit.recent_signals and kit.signal == Signal.OFFLINE
    assert "Dibatalkan" in screens(assembled)[-1].text


def test_a_press_made_while_busy_is_dropped(kit_config, forms, mock_pins, close_later):
    assembled = build(kit_config(), forms["good"].pages)
    close_later(assembled)
    kit = assembled.kit
    early = ButtonEvent(Press.SCAN, time.monotonic())
    press(mock_pins, SCAN, kit)  # reading page 1 takes a while
    kit.handle(early)  # pressed during that reading: not a second scan
    assert list(kit.form.pages) == [1] and kit.signal == Signal.NEXT_PAGE


def test_the_mode_comes_from_the_certificate_not_from_a_switch(kit_config, region):
    config = kit_config()
    text = config.read_text().replace(f'election = "{ELECTION}"', f'election = "{TRAINING}"')
    config.write_text(text)
    with pytest.raises(StartupError, match="certificate binds 'pemilu-2024'"):
        build(config, [])
    with pytest.raises(FieldError, match="unknown key"):
        parse_kit_config({**_minimal(), "kit": {**_minimal()["kit"], "training": True}})


def _minimal():
    return {
        "kit": {"id": "kit-1", "tps": "31.71.01.1001.001", "election": ELECTION, "region": "31.71"},
        "broker": {"host": "hub"},
        "forms": {"ids": ["ppwp-plano"]},
    }


def kit_config_path(assembled):
    return assembled.base / "kit.toml"


def now():
    return dt.datetime.now(dt.UTC)


def test_needs_a_look_confirm_means_the_kpps_looked(kit_config, forms, mock_pins, close_later):
    """A doubtful field (made here by marking IV.1 doubtful on a good reading: the decoder's
    own tests cover when it doubts) is signed as "confirmed" once KONFIRMASI is pressed."""
    assembled = build(kit_config(), forms["good"].pages)
    close_later(assembled)
    kit = assembled.kit
    for _ in range(3):
        press(mock_pins, SCAN, kit)
    decoded = kit.decoded
    doubtful = dataclasses.replace(decoded.fields["IV.1"], decision="doubtful", reason="test")
    kit.decoded = dataclasses.replace(
        decoded, verdict="needs a look", fields={**decoded.fields, "IV.1": doubtful}
    )
    press(mock_pins, CONFIRM, kit)
    (entry,) = assembled.outbox.documents()
    document = verify_result(entry.signed, ca_of(assembled.base / "kit.toml"), at=now()).document
    assert document.evidence["IV.1"]["decision"] == "confirmed"
    assert document.evidence["IV.2"]["decision"] in ("read", "corrected")
