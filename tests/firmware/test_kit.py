"""The appliance end to end: files camera on synthesized pages, file screen, MockFactory pins."""

from __future__ import annotations

import datetime as dt
import hashlib
import time

import cv2
import numpy as np
import pytest

from firmware.gallery import PinnedReader
from firmware.hardware.patterns import Signal
from firmware.identity import StartupError
from firmware.kit import ButtonEvent, Press, State
from protocol.certs import load_certificate
from protocol.errors import FieldError
from protocol.kitconfig import load_kit_config, parse_kit_config
from protocol.pageframe import corners_px
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
    # Each page's homography, signed: the sheet's corners where the camera put them.
    for ref in document.pages:
        error = np.abs(np.array(corners_px(ref.corners)) - form.corners[ref.page]).max()
        assert error < 4, (ref.page, error)  # px, about 1 mm on the plano
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
    assert screens(assembled)[-1].kind == "mistake"
    assert "Salah di kertas: periksa halaman" in screens(assembled)[-1].text
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


def test_the_receipt_qr_opens_the_hubs_page_for_it_which_reads_exactly_that(
    kit_config, forms, mock_pins, close_later, tmp_path
):
    from urllib.parse import urlsplit

    # The hub's side of the receipt: its packages are on every development machine
    # (scripts/setup), not on a kit (scripts/check-arm64 installs only the kit's).
    pytest.importorskip("fastapi", reason="a kit-only install: the hub's packages are absent")
    from fastapi.testclient import TestClient

    from hub.api.app import create_app
    from hub.store import ResultStore
    from protocol.receipt import RECEIPT_PAGE, Receipt, receipt_url

    public = "https://hasil.kpu-3171.example/pemilu"
    config = kit_config(TRAINING, hub={"public_url": public})
    assembled = build(config, forms["training"].pages)
    close_later(assembled)
    kit = assembled.kit
    for _ in range(3):
        press(mock_pins, SCAN, kit)
    press(mock_pins, CONFIRM, kit)
    (entry,) = assembled.outbox.documents()
    # A phone's camera reads the kit's screen: the hub's receipt page for this receipt.
    url = decode_qr(screens(assembled)[-1].path)
    signed = Receipt(kit.identity.tps, entry.seq, entry.sha256, training=True)
    assert url == receipt_url(public, signed)
    assert url.startswith(f"{public}{RECEIPT_PAGE}?") and "latihan=1" in url
    assert f"QR: {url}" in screens(assembled)[-1].text
    # The hub's page takes that very address (path and query) as this receipt: a hub that
    # has not received it yet says so, for the TPS, seq and hash the kit signed.
    store = tmp_path / "hub.sqlite3"
    opened = lambda: ResultStore.open(str(store), now=dt.datetime.now(dt.UTC))  # noqa: E731
    app = create_app(opened, log_id="log", training_log_id="lat")
    parts = urlsplit(url)
    with TestClient(app) as hub:
        answer = hub.get(parts.path.removeprefix("/pemilu") + "?" + parts.query)
    assert answer.status_code == 200, answer.text
    assert entry.sha256 in answer.text and kit.identity.tps in answer.text
    assert 'id="receipt-verdict"' in answer.text and "LATIHAN" in answer.text


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


def _rivals(form):
    """Doubts for the reader: III.L and III.JML each read as written or as written + d, at
    nearly even odds, so two readings keep L + P = JML and both fields need a look."""
    low, total = form.truth["III.L"], form.truth["III.JML"]
    d = next(
        d for d in (5, 4, 3, 2, 1, -1, -2) if 0 <= low % 10 + d <= 9 and 0 <= total % 10 + d <= 9
    )
    doubts = {
        f: {2: {v % 10: 0.55, v % 10 + d: 0.44}} for f, v in (("III.L", low), ("III.JML", total))
    }
    return doubts, d


def _looking_kit(build_kit, form, **options):
    doubts, d = _rivals(form)
    assembled = build_kit(**options)
    assembled.kit.reader = PinnedReader(assembled.kit.reader, None, doubts)
    return assembled, d


def test_a_look_one_field_at_a_time_signs_what_the_kpps_confirmed(
    kit_config, forms, mock_pins, close_later
):
    """PINDAI shows the other reading the rules allow, KONFIRMASI takes it; the next field
    is narrowed to what that choice allows; the form is signed from the result screen, each
    looked-at field as "chosen" with the kit's own value kept."""
    form = forms["good"]
    config = kit_config()
    assembled, d = _looking_kit(lambda: build(config, form.pages), form)
    close_later(assembled)
    kit = assembled.kit
    for _ in range(3):
        press(mock_pins, SCAN, kit)
    low, total = form.truth["III.L"], form.truth["III.JML"]
    assert (kit.state, kit.signal) == (State.REVIEW, Signal.REVIEW_NEEDS_LOOK)
    shown = screens(assembled)[-1]
    assert shown.kind == "look" and shown.text.startswith("Cek 1 dari 2: Pemilih disabilitas (L)")
    assert f"Kit membaca: {low}" in shown.text and led(mock_pins, AMBER)
    press(mock_pins, SCAN, kit)  # "tidak sama": the other reading, nothing photographed
    assert f"Bacaan lain: {low + d}" in screens(assembled)[-1].text
    assert assembled.outbox.documents() == [] and kit.state == State.REVIEW
    press(mock_pins, CONFIRM, kit)
    assert f"Sesuai pilihan tadi: {total + d}" in screens(assembled)[-1].text
    press(mock_pins, CONFIRM, kit)
    shown = screens(assembled)[-1]
    assert shown.kind == "review" and shown.text.startswith("Sudah dicek")
    assert kit.signal == Signal.REVIEW_OK and assembled.outbox.documents() == []
    press(mock_pins, CONFIRM, kit)
    assert kit.state == State.QUEUED
    (entry,) = assembled.outbox.documents()
    document = verify_result(entry.signed, ca_of(config), at=now()).document
    assert (document.fields["III.L"], document.fields["III.JML"]) == (low + d, total + d)
    for fid, read in (("III.L", low), ("III.JML", total)):
        assert document.evidence[fid]["decision"] == "chosen"
        assert document.evidence[fid]["read_as"] == read
    assert document.evidence["V.A"]["decision"] in ("read", "corrected")


def test_a_quick_second_konfirmasi_does_not_confirm_the_next_screen(
    kit_config, forms, mock_pins, close_later
):
    form = forms["good"]
    config = kit_config()
    settle = 0.4
    assembled, _ = _looking_kit(lambda: build(config, form.pages, settle_s=settle), form)
    close_later(assembled)
    kit = assembled.kit
    for _ in range(3):
        press(mock_pins, SCAN, kit)
    press(mock_pins, CONFIRM, kit)  # before the look could be read: dropped
    assert kit.look is not None and kit.look.index == 0
    time.sleep(settle + 0.05)
    press(mock_pins, CONFIRM, kit)
    assert kit.look.index == 1
    press(mock_pins, CONFIRM, kit)  # a double press: the second field is not confirmed
    assert kit.look.index == 1 and not kit.look.finished


def test_rescan_from_a_look_replaces_the_page_and_looks_again(
    kit_config, forms, mock_pins, close_later
):
    form = forms["good"]
    config = kit_config()
    images = [*form.pages, form.pages[0]]
    assembled, _ = _looking_kit(lambda: build(config, images), form)
    close_later(assembled)
    kit = assembled.kit
    for _ in range(3):
        press(mock_pins, SCAN, kit)
    press(mock_pins, SCAN, kit)
    press(mock_pins, SCAN, kit)
    assert "Pindai ulang halaman 1?" in screens(assembled)[-1].text
    press(mock_pins, CONFIRM, kit)
    shown = screens(assembled)[-1]
    assert shown.text.startswith("Pindai ulang halaman 1") and "[PINDAI] potret halaman 1" in (
        shown.text
    )
    press(mock_pins, SCAN, kit)  # now PINDAI photographs: page 1 again, judged again
    assert kit.state == State.REVIEW and kit.look is not None and kit.look.index == 0
    assert screens(assembled)[-1].text.startswith("Cek 1 dari 2")
    assert assembled.outbox.documents() == []


def test_a_page_scanned_twice_is_named_as_what_happened(kit_config, forms, mock_pins, close_later):
    page = forms["good"].pages[0]
    assembled = build(kit_config(), [page, page])
    close_later(assembled)
    kit = assembled.kit
    press(mock_pins, SCAN, kit)
    press(mock_pins, SCAN, kit)
    shown = screens(assembled)[-1]
    assert shown.text.startswith("Halaman 1 sudah dipindai: pindai halaman 2")
    assert kit.signal == Signal.ERROR and list(kit.form.pages) == [1]
