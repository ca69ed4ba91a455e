"""`tps-kit selftest`: the bench check, with MockFactory pins, the files camera and screen.

A simulated technician presses what the prompt asks for (and answers the lamp and buzzer
questions with KONFIRMASI or PINDAI), a moment later, from another thread, as a person would.
"""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from gpiozero.pins.mock import MockPin

from firmware.camera.files import FileCamera
from firmware.cli import main
from firmware.screen.files import FileDisplay
from firmware.screen.framebuffer import FramebufferError
from firmware.selftest import Bench
from protocol.kitconfig import GpioSettings

GPIO = GpioSettings()  # kit.toml's defaults: scan 17, confirm 27, LEDs 22/23/24, buzzer 25
LEDS = {"green": GPIO.green, "amber": GPIO.amber, "red": GPIO.red}


class Technician:
    """Does what each prompt asks, unless told to be absent or to answer no."""

    def __init__(self, pins, *, absent=(), no=()) -> None:
        self.pins = pins
        self.absent, self.no = set(absent), set(no)
        self.heard: list[tuple[str, str]] = []
        self.lit: dict[str, set[str]] = {}
        self._threads: list[threading.Thread] = []

    def __call__(self, step: str, words: str) -> None:
        self.heard.append((step, words))
        self.lit[step] = {n for n, pin in LEDS.items() if self.pins.pin(pin).state}
        if step in self.absent:
            return
        if step in ("scan", "confirm"):
            pin = GPIO.scan if step == "scan" else GPIO.confirm
        else:
            pin = GPIO.scan if step in self.no else GPIO.confirm
        thread = threading.Thread(target=self._press, args=(pin,))
        self._threads.append(thread)
        thread.start()

    def _press(self, pin: int) -> None:
        time.sleep(0.05)
        self.pins.pin(pin).drive_low()
        time.sleep(0.08)
        self.pins.pin(pin).drive_high()


def photo(path: Path, mean: int = 150) -> Path:
    """A page-like still: paper with dark ink strokes."""
    image = np.full((480, 640), mean, np.uint8)
    for y in range(40, 440, 40):
        cv2.line(image, (40, y), (600, y), max(mean - 120, 0), 3)
    cv2.imwrite(str(path), image)
    return path


def bench(tmp_path, technician, *, camera_files=None, open_display=None, timeout=2.0) -> Bench:
    files = camera_files if camera_files is not None else [photo(tmp_path / "page.png")]
    display = FileDisplay(tmp_path / "screen")
    return Bench(
        GPIO,
        open_camera=lambda: FileCamera(files),
        open_display=open_display or (lambda: display),
        prompt=technician,
        timeout_s=timeout,
    )


def test_a_working_kit_passes_every_part_in_order(mock_pins, tmp_path):
    technician = Technician(mock_pins)
    results = bench(tmp_path, technician).run()
    assert [r.passed for r in results] == [True] * 8, [r.line() for r in results]
    parts = [r.part.split(" (")[0] for r in results]
    assert parts == [
        "kamera",
        "layar",
        "tombol PINDAI",
        "tombol KONFIRMASI",
        "lampu hijau",
        "lampu kuning",
        "lampu merah",
        "buzzer",
    ]
    assert "640 x 480" in results[0].detail
    # each lamp alone is lit while the technician is asked about it, and off afterwards
    assert technician.lit["green"] == {"green"}
    assert technician.lit["amber"] == {"amber"}
    assert technician.lit["red"] == {"red"}
    assert not any(mock_pins.pin(p).state for p in LEDS.values())
    beeps = mock_pins.pin(GPIO.buzzer).states
    assert sum(1 for a, b in itertools.pairwise(beeps) if b.state and not a.state) == 3
    # the screen drew its four colours, then showed every instruction after it
    shown = (tmp_path / "screen" / "screen.log").read_text()
    assert shown.index("Uji layar: HIJAU") < shown.index("Uji layar: BIRU")
    assert "Tekan PINDAI sekali" in shown and "Lampu MERAH menyala?" in shown
    assert all(line.startswith("LULUS (pass)") for line in (r.line() for r in results))


def test_a_button_nobody_presses_fails_naming_its_pin_and_no_lamp_passes_unanswered(
    mock_pins, tmp_path
):
    technician = Technician(mock_pins, absent={"confirm"})
    results = {r.part: r for r in bench(tmp_path, technician, timeout=0.4).run()}
    assert results["tombol PINDAI (scan button, GPIO17)"].passed
    confirm = results["tombol KONFIRMASI (confirm button, GPIO27)"]
    assert not confirm.passed and "GPIO27" in confirm.detail and "0.4 s" in confirm.detail
    for part in ("lampu hijau (green LED)", "buzzer (GPIO25)"):
        assert not results[part].passed
        assert "tidak ada jawaban" in results[part].detail


class ShortedPin(MockPin):
    """A pin wired straight to ground: the pull-up never lifts it."""

    def _set_pull(self, value):
        super()._set_pull(value)
        self.drive_low()


def test_a_button_shorted_to_ground_fails_before_anyone_touches_it(mock_pins, tmp_path):
    mock_pins.pin(GPIO.scan, pin_class=ShortedPin)
    results = bench(tmp_path, Technician(mock_pins), timeout=0.4).run(["buttons"])
    assert not results[0].passed and "tertekan terus" in results[0].detail
    assert results[1].passed


def test_a_lamp_the_technician_did_not_see_fails_naming_its_pin(mock_pins, tmp_path):
    technician = Technician(mock_pins, no={"amber"})
    results = bench(tmp_path, technician).run(["buttons", "leds"])
    amber = results[3]
    assert amber.part == "lampu kuning (amber LED)" and not amber.passed
    assert "GPIO23" in amber.detail and "menjawab tidak" in amber.detail
    assert results[2].passed and results[4].passed


@pytest.mark.parametrize(
    ("mean", "words"), [(5, "terlalu gelap"), (252, "terlalu terang"), (150, None)]
)
def test_the_camera_check_judges_the_still(mock_pins, tmp_path, mean, words):
    still = photo(tmp_path / "still.png", mean)
    if mean == 252:
        cv2.imwrite(str(still), np.full((480, 640), 252, np.uint8))
    (result,) = bench(tmp_path, Technician(mock_pins), camera_files=[still]).run(["camera"])
    assert result.passed is (words is None)
    if words:
        assert words in result.detail


def test_a_camera_that_gives_no_picture_fails_and_the_rest_still_run(mock_pins, tmp_path):
    missing = tmp_path / "no-such.jpg"
    results = bench(tmp_path, Technician(mock_pins), camera_files=[missing]).run(
        ["camera", "screen"]
    )
    assert not results[0].passed and "no-such.jpg" in results[0].detail
    assert "Kamera bermasalah" in results[0].detail
    assert results[1].passed


def test_a_screen_that_cannot_draw_fails_and_instructions_still_reach_the_terminal(
    mock_pins, tmp_path
):
    def broken():
        raise FramebufferError("cannot open /dev/fb0: No such file or directory")

    technician = Technician(mock_pins)
    results = bench(tmp_path, technician, open_display=broken).run(["screen", "buttons"])
    assert not results[0].passed and "/dev/fb0" in results[0].detail
    assert [r.passed for r in results[1:]] == [True, True]
    assert [step for step, _ in technician.heard] == ["scan", "confirm"]


def test_selftest_command_prints_each_part_and_fails_the_exit_status(kit_config, tmp_path):
    still = photo(tmp_path / "still.png")
    config = kit_config(camera={"files": [str(still)]}, gpio={"pin_factory": "mock"})
    runner = CliRunner()
    good = runner.invoke(
        main, ["selftest", "--config", str(config), "--only", "camera", "--only", "screen"]
    )
    assert good.exit_code == 0, good.output
    assert "LULUS (pass)  kamera (camera): 640 x 480" in good.output
    assert "SEMUA LULUS (all passed): 2" in good.output
    alone = runner.invoke(
        main, ["selftest", "--config", str(config), "--only", "buttons", "--timeout", "1"]
    )
    assert alone.exit_code == 1
    assert ">>> Tekan PINDAI sekali" in alone.output
    assert "GAGAL (fail)  tombol PINDAI (scan button, GPIO17)" in alone.output
    assert "jangan kirim kit ini" in alone.output
