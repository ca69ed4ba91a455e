"""The screen: receipts and their QR, LATIHAN on every screen of a training kit, backends."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from firmware.screen.compose import ComposedScreen, qr_image
from firmware.screen.files import FileDisplay
from firmware.screen.framebuffer import fb_geometry, to_pixels
from protocol.receipt import Receipt

SHA = "ab" * 32


def decode_qr(path) -> str:
    """The QR code on a saved screen, as a saksi's phone would read it (either of OpenCV's
    detectors: the classic one sometimes misses a code beside lines of text)."""
    image = cv2.imread(str(path))
    for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
        text, _, _ = detector.detectAndDecode(image)
        if text:
            return text
    return ""


def test_qr_image_decodes():
    text = Receipt("31.71.01.1001.001", 12, SHA).text()
    image = qr_image(text)
    decoded, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert decoded == text


@pytest.mark.parametrize("training", [True, False])
def test_latihan_on_every_screen_of_a_training_kit_only(tmp_path, training):
    display = FileDisplay(tmp_path)
    screen = ComposedScreen(display, training=training)
    receipt = Receipt("31.71.01.1001.001", 3, SHA, training=training)
    screen.show_status("Siap", ["Letakkan halaman 1"])
    screen.show_review(np.zeros((50, 80, 3), np.uint8), "SEMUA JUMLAH COCOK", ["tekan"])
    screen.show_receipt(receipt, "Ditandatangani", ["Saksi: foto kode QR ini."])
    assert [s.kind for s in display.shown] == ["status", "review", "receipt"]
    for shown in display.shown:
        assert ("LATIHAN" in shown.text) is training
        image = cv2.imread(str(shown.path))
        purple = np.all(image[5] == (160, 0, 128), axis=1)  # BGR of the training band
        assert bool(purple.any()) is training
    assert decode_qr(display.last.path) == receipt.text()  # readable off the screen too
    assert "screen.log" in {p.name for p in tmp_path.iterdir()}


def test_framebuffer_pixels_and_geometry(tmp_path):
    image = np.array([[[255, 0, 0], [0, 0, 255]]], np.uint8)
    assert to_pixels(image, 16) == bytes([0x00, 0xF8, 0x1F, 0x00])  # RGB565 little-endian
    assert to_pixels(image, 32)[:4] == bytes([0, 0, 255, 255])  # BGRX
    sysfs = tmp_path / "graphics" / "fb0"
    sysfs.mkdir(parents=True)
    (sysfs / "virtual_size").write_text("800,480\n")
    (sysfs / "bits_per_pixel").write_text("16\n")
    assert fb_geometry(tmp_path / "fb0", tmp_path / "graphics") == (800, 480, 16, 1600)
    assert to_pixels(image, 16, stride=6) == bytes([0x00, 0xF8, 0x1F, 0x00, 0, 0])
