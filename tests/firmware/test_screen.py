"""The screen: views drawn at the panel's size, type no smaller than 24 px capitals, tones
that read, the LATIHAN band on every view of a training kit, receipts and their QR, the
framebuffer backend."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from firmware.screen.base import (
    TONES,
    TRAINING,
    Buttons,
    MistakeView,
    NumbersView,
    ReceiptView,
    StatusView,
    Tone,
)
from firmware.screen.compose import ComposedScreen, qr_image
from firmware.screen.crop import FieldPhoto
from firmware.screen.draw import MIN_CAPS, Canvas
from firmware.screen.files import FileDisplay
from firmware.screen.framebuffer import FramebufferDisplay, describe, fb_geometry, to_pixels
from firmware.screen.look import LookView
from protocol.forms.schema import Rect
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


def test_the_smallest_text_has_capitals_24_px_tall():
    """Measured on the pixels: a capital H at the minimum size is at least 24 px of ink."""
    canvas = Canvas(200, 100)
    canvas.text("H", 10, 70, MIN_CAPS)
    ink = np.flatnonzero((canvas.image.min(axis=2) < 128).any(axis=1))
    assert ink.max() - ink.min() + 1 >= 24
    with pytest.raises(ValueError, match="below the screen's minimum"):
        canvas.text("kecil", 10, 90, MIN_CAPS - 1)


def _luminance(rgb):
    linear = [(c / 255 / 12.92) if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@pytest.mark.parametrize("tone", list(Tone))
def test_white_titles_read_on_every_tone(tone):
    """WCAG's contrast of white text on each band colour: at least 4.5:1."""
    assert 1.05 / (_luminance(TONES[tone]) + 0.05) >= 4.5
    assert len(set(TONES.values())) == len(TONES) and TRAINING not in TONES.values()


def _photo():
    """A field of three 18 mm boxes on a plain sheet, photographed square-on at 4 px/mm."""
    frame = np.full((200, 400), 235, np.uint8)
    boxes = tuple(Rect(x=10 + 23 * i, y=10, w=18, h=18) for i in range(3))
    for b in boxes:
        corners = [round(v * 4) for v in (b.x, b.y, b.x + b.w, b.y + b.h)]
        cv2.rectangle(frame, corners[:2], corners[2:], 20, 4)
    scale = np.diag([4.0, 4.0, 1.0])
    return FieldPhoto(frame, scale, boxes, (), 0.0, 1.06)


def _views():
    receipt = Receipt("31.71.01.1001.001", 3, SHA)
    keys = Buttons(scan="tidak sama", confirm="sama")
    return [
        StatusView(Tone.READY, "Siap: letakkan halaman 1", ["Letakkan halaman 1."]),
        NumbersView(Tone.READY, "Semua cocok", [("Paslon 1", "12")], ["Periksa."], keys),
        MistakeView("Salah di kertas", "Halaman 3:", ["A + B = 3", "tetapi C = 4"]),
        ReceiptView(receipt, "Ditandatangani", ["Saksi: foto kode QR ini."]),
        LookView("Cek 1 dari 1: Paslon 1", _photo(), "Kit membaca", "12", "halaman 2", [], keys),
    ]


@pytest.mark.parametrize("training", [True, False])
def test_latihan_on_every_view_of_a_training_kit_only(tmp_path, training):
    display = FileDisplay(tmp_path)
    screen = ComposedScreen(display, training=training)
    for view in _views():
        screen.show(view)
        assert screen.last is not None and screen.last.overflow == []
        assert screen.last.smallest >= MIN_CAPS
    assert [s.kind for s in display.shown] == ["status", "review", "mistake", "receipt", "look"]
    for shown, view in zip(display.shown, _views(), strict=True):
        assert ("LATIHAN" in shown.text) is training
        image = cv2.cvtColor(cv2.imread(str(shown.path)), cv2.COLOR_BGR2RGB)
        assert image.shape == (480, 800, 3)
        band_x = 60 if training else 4
        assert tuple(image[4, band_x]) == TONES[view.tone]  # the title band, in its tone
        purple = np.all(image[:, 5] == TRAINING, axis=1)  # the band down the left edge
        assert bool(purple.mean() > 0.5) is training
    assert "screen.log" in {p.name for p in tmp_path.iterdir()}


def test_receipt_qr_reads_off_the_screen(tmp_path):
    display = FileDisplay(tmp_path)
    receipt = Receipt("31.71.01.1001.001", 3, SHA, training=True)
    ComposedScreen(display, training=True).show(ReceiptView(receipt, "Ditandatangani"))
    assert decode_qr(display.last.path) == receipt.text()
    assert "TPS 31.71.01.1001.001" in display.last.text


def test_buttons_name_what_they_do_and_a_button_without_a_use_is_not_named(tmp_path):
    display = FileDisplay(tmp_path)
    screen = ComposedScreen(display, training=False)
    screen.show(StatusView(Tone.BUSY, "Membaca angka: tunggu sebentar"))
    assert "PINDAI" not in display.last.text and "KONFIRMASI" not in display.last.text
    screen.show(StatusView(Tone.READY, "Siap", [], Buttons(scan="potret halaman 1")))
    assert "[PINDAI] potret halaman 1" in display.last.text
    assert "KONFIRMASI" not in display.last.text
    assert screen.last is not None
    assert {t.text for t in screen.last.texts} >= {"PINDAI", "potret halaman 1"}


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


def test_more_numbers_than_fit_are_counted_not_cut(tmp_path):
    screen = ComposedScreen(FileDisplay(tmp_path), training=True)
    numbers = [(f"Calon {i}", str(i * 7)) for i in range(40)]
    screen.show(NumbersView(Tone.READY, "Semua cocok", numbers, ["Periksa."], Buttons("a", "b")))
    assert screen.last is not None and screen.last.overflow == []
    counted = [t.text for t in screen.last.texts if t.text.startswith("... dan ")]
    shown = sum(t.text.startswith("Calon ") for t in screen.last.texts)
    assert counted == [f"... dan {40 - shown} angka lain."]


def fake_kms_fb(tmp_path, width=1920, height=1080, bpp=32, pad=64):
    """A framebuffer as Bookworm's KMS emulation shows it in sysfs, backed by a plain file."""
    sysfs = tmp_path / "graphics"
    (sysfs / "fb0").mkdir(parents=True)
    stride = width * bpp // 8 + pad
    (sysfs / "fb0" / "virtual_size").write_text(f"{width},{height}\n")
    (sysfs / "fb0" / "bits_per_pixel").write_text(f"{bpp}\n")
    (sysfs / "fb0" / "stride").write_text(f"{stride}\n")
    (sysfs / "fb0" / "name").write_text("vc4drmfb\n")
    device = tmp_path / "fb0"
    device.write_bytes(bytes(stride * height))
    return device, sysfs, stride


def test_kms_framebuffer_shows_the_screen_letterboxed_never_stretched(tmp_path):
    device, sysfs, stride = fake_kms_fb(tmp_path)
    display = FramebufferDisplay(device, (800, 480), sysfs=sysfs)
    ComposedScreen(display, training=False).show(
        StatusView(Tone.READY, "Siap: letakkan halaman 1", ["uji"])
    )
    display.close()
    pixels = np.frombuffer(device.read_bytes(), np.uint8).reshape(1080, stride)
    pixels = pixels[:, : 1920 * 4].reshape(1080, 1920, 4)
    # 800 x 480 scaled 2.25 times is 1800 x 1080: 60 px of black on each side
    assert not pixels[:, :59, :3].any() and not pixels[:, -59:, :3].any()
    r, g, b = TONES[Tone.READY]
    assert tuple(pixels[5, 960, :3]) == (b, g, r)  # the title band, in BGRX
    line = describe(device, (800, 480), sysfs)
    assert "vc4drmfb: the KMS driver's framebuffer emulation" in line
    assert "1920 x 1080 at 32 bits" in line and "shown at 1800 x 1080" in line


def test_a_framebuffer_of_the_screens_own_size_is_written_as_is(tmp_path):
    device, sysfs, stride = fake_kms_fb(tmp_path, 800, 480, 16, pad=0)
    display = FramebufferDisplay(device, (800, 480), sysfs=sysfs)
    image = np.zeros((480, 800, 3), np.uint8)
    image[:, :, 0] = 255
    display.present(image, "", "status")
    assert device.read_bytes() == to_pixels(image, 16, stride)
    assert "shown at" not in describe(device, (800, 480), sysfs)


@pytest.mark.parametrize("letter", "0123456789abcdef")
def test_a_receipts_code_fits_beside_its_qr_whatever_letters_the_hash_has(tmp_path, letter):
    """The hash's first twelve letters are written out for the saksi; OpenCV's letters differ
    in width, so the widest must fit too, on a training kit's narrower screen as well."""
    display = FileDisplay(tmp_path)
    screen = ComposedScreen(display, training=True)
    receipt = Receipt("31.71.01.1001.001", 123, letter * 64, training=True)
    lines = ["Belum ada jaringan: hasil tersimpan dan dikirim nanti."]  # the kit's longest
    buttons = Buttons(scan="mulai formulir baru")
    screen.show(ReceiptView(receipt, "Ditandatangani: saksi, foto kode QR ini", lines, buttons))
    assert screen.last is not None and screen.last.overflow == []
    assert decode_qr(display.last.path) is not None
