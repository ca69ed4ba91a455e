"""Every screen the kit can show (`tps-kit screens`), rendered once from synthesized scans
by the kit's own state machine, and checked: the handwriting's size in each look, the
value's type size, the band's colour per state, no text under 24 px, nothing cut off."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from firmware import gallery
from firmware.cli import main
from firmware.screen.base import TONES, TRAINING, Tone
from firmware.screen.draw import MIN_CAPS, Rect
from firmware.screen.look import MIN_INTERIOR_PX, VALUE_CAPS, VALUE_INK
from protocol.receipt import parse_receipt
from tests.firmware.conftest import DIGITS
from tests.firmware.test_screen import decode_qr

STROKE_MM = 1.06  # the plano's printed box border

TONE_OF = {
    Tone.READY: (
        "siap halaman-terbaca semua-cocok ditandatangani diterima-server dibatalkan "
        "sudah-dicek latihan-siap latihan-ditandatangani"
    ),
    Tone.BUSY: "memotret membaca menandatangani",
    Tone.LOOK: (
        "cek-bacaan-kit cek-bacaan-lain cek-pindai-ulang pindai-ulang-halaman cek-kedua "
        "cek-bulatan cek-jumlah latihan-cek"
    ),
    Tone.STOP: (
        "tolak-tanpa-kode tolak-tanda-sudut tolak-gelap tolak-kabur tolak-miring "
        "tolak-tidak-rata tolak-sudah-dipindai tolak-pemilihan-lain tolak-kamera "
        "ditolak-server salah-jumlah tidak-bisa-ditandatangani salah-bulatan"
    ),
}
LOOKS_OF_A_REAL_KIT = (
    "cek-bacaan-kit",
    "cek-bacaan-lain",
    "cek-kedua",
    "cek-bulatan",
    "cek-jumlah",
)


@pytest.fixture(scope="session")
def shots(tmp_path_factory):
    return gallery.render(tmp_path_factory.mktemp("screens"), DIGITS)


def _rgb(shot):
    return cv2.cvtColor(cv2.imread(str(shot.path)), cv2.COLOR_BGR2RGB)


def test_every_screen_is_rendered_at_the_panels_size(shots):
    assert list(shots) == list(gallery.GALLERY)
    named = {n for names in TONE_OF.values() for n in names.split()}
    assert named == set(shots)  # every screen has its state's colour checked below
    for shot in shots.values():
        assert _rgb(shot).shape == (480, 800, 3)


def test_no_text_under_24_px_and_nothing_cut_off(shots):
    for name, shot in shots.items():
        assert shot.canvas.smallest >= MIN_CAPS, name
        assert shot.canvas.overflow == [], name


@pytest.mark.parametrize("tone", list(Tone))
def test_the_title_band_carries_the_state(shots, tone):
    """Green ready or accepted, orange a look, red a paper mistake or refusal, blue busy;
    a training kit's screens also carry the purple LATIHAN band, and only theirs."""
    for name in TONE_OF[tone].split():
        image = _rgb(shots[name])
        training = name.startswith("latihan-")
        x = 60 if training else 4
        assert tuple(image[4, x]) == TONES[tone], name
        assert bool(np.all(image[:, 5] == TRAINING, axis=1).mean() > 0.5) is training, name
        assert ("LATIHAN" in shots[name].shown.text) is training, name


def _boxes(shot):
    return [p for p in shot.canvas.pictures if p.name.startswith("box ")]


def test_each_look_shows_the_fields_boxes_large(shots):
    """A box's inside at least 200 px tall; the handwriting itself, measured on the screen,
    150 px or more for the tallest digit of the field."""
    for name in (*LOOKS_OF_A_REAL_KIT, "cek-pindai-ulang", "latihan-cek"):
        shot = shots[name]
        boxes = _boxes(shot)
        assert len(boxes) == 3, name
        for box in boxes:
            interior = box.rect.h - STROKE_MM * box.px_per_mm
            assert interior >= MIN_INTERIOR_PX, (name, interior)
        if name in LOOKS_OF_A_REAL_KIT:
            assert max(_ink_height(shot, box) for box in boxes) >= 150, name


def _ink_height(shot, box):
    """The height of the handwriting inside a box on the saved screen, in pixels."""
    grey = cv2.imread(str(shot.path), cv2.IMREAD_GRAYSCALE)
    inset = round(STROKE_MM * box.px_per_mm) + 4  # clear of the printed border
    r = box.rect
    inside = grey[r.y + inset : r.bottom - inset, r.x + inset : r.right - inset]
    rows = np.flatnonzero((inside < 110).sum(axis=1) >= 2)
    return int(rows.max() - rows.min() + 1) if len(rows) else 0


def test_each_look_shows_the_value_in_large_type_and_what_the_buttons_do(shots):
    for name in (*LOOKS_OF_A_REAL_KIT, "latihan-cek"):
        shot = shots[name]
        values = [t for t in shot.canvas.texts if t.colour == VALUE_INK]
        assert len(values) == 1 and values[0].caps >= VALUE_CAPS, name
        words = shot.shown.text
        assert f": {values[0].text}" in words, name
        assert "[PINDAI] tidak sama" in words and "[KONFIRMASI] sama" in words, name
        assert " = " in words, name  # the rule, with its numbers
    assert "Kit membaca: 3" in shots["cek-bacaan-kit"].shown.text
    assert "Bacaan lain: 8" in shots["cek-bacaan-lain"].shown.text
    assert "Pemilih disabilitas: L + P = 8," in shots["cek-bacaan-lain"].shown.text
    rescan = shots["cek-pindai-ulang"].shown.text
    assert "Pindai ulang halaman 1?" in rescan and "[KONFIRMASI] ya" in rescan
    assert shots["pindai-ulang-halaman"].shown.text.startswith("Pindai ulang halaman 1")


def test_a_look_on_page_2_shows_the_bubble_columns(shots):
    pictures = {p.name for p in shots["cek-bulatan"].canvas.pictures}
    assert {"bubbles 1", "bubbles 2", "bubbles 3"} <= pictures


def test_refusals_say_what_happened_to_which_page(shots):
    assert shots["tolak-sudah-dipindai"].shown.text.startswith(
        "Halaman 1 sudah dipindai: pindai halaman 2"
    )
    assert shots["tolak-tanda-sudut"].shown.text.startswith("Halaman 2 tidak terbaca")
    assert "kanan bawah" in shots["tolak-tanda-sudut"].shown.text
    assert shots["tolak-tanpa-kode"].shown.text.startswith("Halaman tidak terbaca")
    for name in TONE_OF[Tone.STOP].split():
        assert "[PINDAI]" in shots[name].shown.text, name  # the way on, always


def test_a_paper_mistake_names_the_page_and_the_broken_rule_in_large_type(shots):
    shot = shots["salah-jumlah"]
    words = shot.shown.text.splitlines()
    assert shot.shown.kind == "mistake"
    assert words[0].startswith("Salah di kertas: periksa halaman")
    assert words[1].startswith("Halaman") and words[3].startswith("tetapi ")
    assert "=" in words[2] and "=" in words[3]
    rule = [t for t in shot.canvas.texts if t.text in (words[2], words[3])]
    assert rule and min(t.caps for t in rule) >= 32
    assert "KONFIRMASI" not in shot.shown.text  # nothing to confirm on a mistake
    bubble = shots["salah-bulatan"].shown.text
    assert "kotak ke-" in bubble and "tetapi bulatan" in bubble
    refused = shots["tidak-bisa-ditandatangani"].shown.text
    assert refused.startswith("Tidak bisa ditandatangani")


def test_receipts_read_off_the_screen(shots):
    real = parse_receipt(decode_qr(shots["ditandatangani"].path))
    assert not real.training and real.seq == 1
    training = parse_receipt(decode_qr(shots["latihan-ditandatangani"].path))
    assert training.training


def test_screens_command_needs_digits_and_names_each_file(tmp_path, monkeypatch):
    runner = CliRunner()
    done = runner.invoke(main, ["screens", "--out", str(tmp_path)])
    assert done.exit_code == 2 and "give --digits PREFIX" in done.output
    done = runner.invoke(main, ["screens", "--out", str(tmp_path), "--digits", "nowhere"])
    assert done.exit_code == 1 and "--digits nowhere" in done.output

    def fake(out, digits, *, seed, only, compact):
        assert only == ("cek-bulatan",) and compact
        return [out / f"{name}.png" for name in only]

    monkeypatch.setattr(gallery, "render_screens", fake)
    options = ["--digits", str(DIGITS), "--only", "cek-bulatan", "--compact"]
    done = runner.invoke(main, ["screens", "--out", str(tmp_path), *options])
    assert done.exit_code == 0, done.output
    assert f"{tmp_path / 'cek-bulatan.png'}  look: a bubble against" in done.output


def _hash_marks(canvas) -> list[Rect]:  # type: ignore[no-untyped-def]
    """Where a receipt's QR code and code are drawn. Both come from the signed document's
    hash, and the document carries the reader's confidences, whose last digit differs
    between CPUs (scripts/check-arm64): the gallery pins the words, layout and colours
    around them; the marks themselves are checked against the document they name
    (tests/firmware/test_kit.py)."""
    marks = [p.rect for p in canvas.pictures if p.name == "qr"]
    for t in canvas.texts:
        if t.text.startswith("Kode "):
            # A text's box spans its capitals; the ascenders of b, d, f rise above them.
            pad = t.caps // 3
            top = max(0, t.rect.y - pad)
            marks.append(Rect(t.rect.x, top, canvas.width - t.rect.x, t.rect.bottom + pad - top))
    return marks


def test_the_readmes_gallery_is_what_the_kit_shows_now(shots, tmp_path):
    """docs/screens holds screens as `tps-kit screens --compact` writes them today; after a
    change to a screen, run the command in the README again. The photo's crops are resampled
    by OpenCV, whose rounding differs between x86 and arm64 (scripts/check-arm64): a pixel may
    fall one of the 16 levels apart, never more, and only a few do; any change of words,
    layout or colour moves pixels by many levels."""
    committed = sorted((Path(__file__).resolve().parents[2] / "docs" / "screens").glob("*.png"))
    assert len(committed) >= 8
    for path in committed:
        fresh = tmp_path / path.name
        gallery.write_compact(shots[path.stem].path, fresh)
        a, b = cv2.imread(str(fresh)), cv2.imread(str(path))
        off = np.abs(a.astype(int) - b.astype(int)).max(axis=2) if a.shape == b.shape else None
        if off is not None:
            for mark in _hash_marks(shots[path.stem].canvas):
                off[mark.y : mark.bottom, mark.x : mark.right] = 0
        same = off is not None and off.max() <= 17 and (off > 0).mean() < 0.01
        assert same, f"{path.name} is out of date: render the README's gallery again"
