"""``tps-kit selftest``: the technician's bench check of one kit before it ships.

Camera, screen, buttons, LEDs and buzzer, in that order, each reported as passed or failed
with the reason, Indonesian first and English in brackets (as ``tps-kit patterns`` prints).
The order matters: the screen shows every instruction after its own check, and the buttons
are checked before the LEDs and the buzzer because a person must say whether a lamp lit or
a beep sounded, and answers with those buttons (KONFIRMASI yes, PINDAI no). A lamp's pin
can be driven without the lamp lighting (a reversed LED, a broken wire), so only the
technician's eyes and ears can pass it.

Devices are opened from kit.toml by the caller and passed in (openers, so a camera that does
not start fails its own check and the rest still run); ``prompt`` tells the technician what
to do (the terminal, and the screen once it works).
"""

from __future__ import annotations

import contextlib
import queue
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware.camera.base import Camera, CameraError
from firmware.hardware.patterns import BEEP_GAP, SHORT_BEEP
from firmware.hardware.pins import PinFactoryError, choose_pin_factory
from firmware.screen.base import StatusView, Tone
from protocol.kitconfig import GpioSettings

PARTS = ("camera", "screen", "buttons", "leds", "buzzer")

# A still this dark or this flat is a lens cap, a lamp that is off, or no picture at all.
MIN_MEAN, MAX_MEAN, MIN_SPREAD = 30.0, 245.0, 4.0
BEEPS = 3

# Steps the prompt names, so a caller (or a test) knows which button is wanted.
Prompt = Callable[[str, str], None]  # (step, words to the technician)


@dataclass(frozen=True)
class Result:
    part: str  # "kamera (camera)"
    passed: bool
    detail: str  # why, Indonesian (English)

    def line(self) -> str:
        mark = "LULUS (pass)" if self.passed else "GAGAL (fail)"
        return f"{mark:<13} {self.part}: {self.detail}"


@dataclass(frozen=True)
class Lamp:
    step: str
    part: str
    question: str


LAMPS = (
    Lamp("green", "lampu hijau (green LED)", "Lampu HIJAU menyala? (is the green LED on?)"),
    Lamp("amber", "lampu kuning (amber LED)", "Lampu KUNING menyala? (is the amber LED on?)"),
    Lamp("red", "lampu merah (red LED)", "Lampu MERAH menyala? (is the red LED on?)"),
)
ANSWER = "KONFIRMASI = ya, PINDAI = tidak (confirm = yes, scan = no)"


class Bench:
    """One bench check. ``open_camera``/``open_display`` start the configured devices;
    ``timeout_s`` is how long each press or answer is waited for."""

    def __init__(
        self,
        gpio: GpioSettings,
        *,
        open_camera: Callable[[], Camera],
        open_display: Callable[[], Any],
        prompt: Prompt,
        pin_factory: Any = None,
        timeout_s: float = 15.0,
        lamp_s: float = 0.0,
        photo: Path | None = None,
    ) -> None:
        self.gpio = gpio
        self._open_camera = open_camera
        self._open_display = open_display
        self._prompt = prompt
        self._pin_factory = pin_factory
        self.timeout_s = timeout_s
        self.lamp_s = lamp_s  # a lamp stays lit at least this long before an answer counts
        self.photo = photo
        self.screen: Any = None
        self._buttons: dict[str, Any] = {}
        self._lights_open: Any = None
        self._closers: list[Callable[[], None]] = []

    def run(self, parts: Sequence[str] = PARTS) -> list[Result]:
        results: list[Result] = []
        try:
            for part in PARTS:
                if part in parts:
                    results += getattr(self, f"check_{part}")()
        finally:
            for close in reversed(self._closers):
                # a device that failed its check may fail to close too
                with contextlib.suppress(Exception):
                    close()
        return results

    def tell(self, step: str, words: str) -> None:
        """Say what to do: on the screen when it works, and to the caller."""
        if self.screen is not None:
            title, _, rest = words.partition(". ")
            self.screen.show(StatusView(Tone.BUSY, title, [rest] if rest else []))
        self._prompt(step, words)

    # --- camera ---------------------------------------------------------------------------

    def check_camera(self) -> list[Result]:
        part = "kamera (camera)"
        try:
            camera = self._open_camera()
            self._closers.append(camera.close)
            capture = camera.capture()
        except CameraError as e:
            return [Result(part, False, f"{e.pesan} ({e})")]
        frame = capture.frame
        if self.photo is not None:
            self.photo.write_bytes(capture.data)
        height, width = frame.shape[:2]
        mean, spread = float(frame.mean()), float(frame.std())
        size = f"{width} x {height} piksel ({width} x {height} px)"
        if mean < MIN_MEAN:
            return [
                Result(
                    part,
                    False,
                    f"gambar terlalu gelap (kecerahan {mean:.0f}): lepas tutup lensa, nyalakan "
                    f"lampu (too dark, mean {mean:.0f}: lens cap on? lamp off?)",
                )
            ]
        if mean > MAX_MEAN:
            return [
                Result(
                    part,
                    False,
                    f"gambar terlalu terang (kecerahan {mean:.0f}): kurangi exposure_us di "
                    f"kit.toml (overexposed, mean {mean:.0f}: lower [camera] exposure_us)",
                )
            ]
        if spread < MIN_SPREAD:
            return [
                Result(
                    part,
                    False,
                    "gambar rata tanpa isi: periksa kabel kamera dan letakkan kertas "
                    "(a flat picture: check the camera cable, lay a page under it)",
                )
            ]
        saved = f"; foto: {self.photo} (photo saved)" if self.photo else ""
        return [Result(part, True, f"{size}, kecerahan {mean:.0f} (mean brightness){saved}")]

    # --- screen ---------------------------------------------------------------------------

    def check_screen(self) -> list[Result]:
        from firmware.screen.compose import ComposedScreen

        part = "layar (screen)"
        try:
            display = self._open_display()
            self._closers.append(display.close)
            screen = ComposedScreen(display, training=False)
            for tone, colour in (
                (Tone.READY, "HIJAU (green)"),
                (Tone.LOOK, "ORANYE (orange)"),
                (Tone.STOP, "MERAH (red)"),
                (Tone.BUSY, "BIRU (blue)"),
            ):
                screen.show(StatusView(tone, f"Uji layar: {colour}", ["Tes layar kit TPS"]))
        except Exception as e:  # a panel fails in many ways (device, permissions, geometry)
            return [
                Result(
                    part,
                    False,
                    f"tidak bisa menggambar: {e} (cannot draw; check the panel's cable, "
                    "[screen] in kit.toml and group video)",
                )
            ]
        self.screen = screen
        width, height = display.size
        return [
            Result(
                part,
                True,
                f"4 warna digambar pada {width} x {height}; lihat bahwa judulnya hijau, "
                f"oranye, merah lalu biru (4 colours drawn at {width} x {height})",
            )
        ]

    # --- buttons, LEDs, buzzer -------------------------------------------------------------

    def _factory(self) -> Any:
        return choose_pin_factory(self.gpio.pin_factory, override=self._pin_factory)

    def check_buttons(self) -> list[Result]:
        from gpiozero import Button
        from gpiozero.exc import GPIOZeroError

        results = []
        for step, name, pin in (
            ("scan", "PINDAI", self.gpio.scan),
            ("confirm", "KONFIRMASI", self.gpio.confirm),
        ):
            part = f"tombol {name} ({step} button, GPIO{pin})"
            try:
                button = Button(pin, bounce_time=0.03, pin_factory=self._factory())
            except (GPIOZeroError, PinFactoryError) as e:
                results.append(Result(part, False, _pin_problem(pin, e)))
                continue
            self._closers.append(button.close)
            results.append(self._press(part, step, name, pin, button))
        return results

    def _press(self, part: str, step: str, name: str, pin: int, button: Any) -> Result:
        if button.is_pressed:
            return Result(
                part,
                False,
                f"tertekan terus sebelum disentuh: periksa apakah GPIO{pin} terhubung ke "
                f"ground (pressed before anyone touched it: GPIO{pin} shorted to ground?)",
            )
        self.tell(step, f"Tekan {name} sekali. (press {name} once)")
        if not button.wait_for_press(timeout=self.timeout_s):
            return Result(
                part,
                False,
                f"tidak ditekan dalam {self.timeout_s:g} detik: periksa kabel tombol ke "
                f"GPIO{pin} dan ground (no press within {self.timeout_s:g} s: check the "
                f"button's wires to GPIO{pin} and ground)",
            )
        if not button.wait_for_release(timeout=self.timeout_s):
            return Result(
                part,
                False,
                "tidak kembali setelah ditekan: tombol macet (never released: a stuck button)",
            )
        self._buttons[step] = button
        return Result(part, True, "ditekan dan dilepas (pressed and released)")

    def _lights(self) -> Any:
        from firmware.hardware.lights import Lights

        g = self.gpio
        lights = Lights(g.green, g.amber, g.red, g.buzzer, pin_factory=self._factory())
        self._closers.append(lights.close)
        return lights

    def _answer(self, step: str, question: str) -> bool | None:
        """The technician's answer by button: True yes, False no, None nothing in time."""
        if set(self._buttons) != {"scan", "confirm"}:
            return None
        answers: queue.Queue[bool] = queue.Queue()
        self._buttons["confirm"].when_pressed = lambda: answers.put(True)
        self._buttons["scan"].when_pressed = lambda: answers.put(False)
        try:
            self.tell(step, f"{question}. {ANSWER}")
            try:
                return answers.get(timeout=self.timeout_s)
            except queue.Empty:
                return None
        finally:
            for button in self._buttons.values():
                button.when_pressed = None
            for button in self._buttons.values():  # the answer's release, before the next
                button.wait_for_release(timeout=self.timeout_s)

    def check_leds(self) -> list[Result]:
        from gpiozero.exc import GPIOZeroError

        g = self.gpio
        pins = {"green": g.green, "amber": g.amber, "red": g.red}
        try:
            lights = self._lights()
        except (GPIOZeroError, PinFactoryError) as e:
            return [Result(lamp.part, False, _pin_problem(pins[lamp.step], e)) for lamp in LAMPS]
        results = []
        for lamp in LAMPS:
            led = getattr(lights, lamp.step)
            led.on()
            time.sleep(self.lamp_s)
            answer = self._answer(lamp.step, lamp.question)
            led.off()
            results.append(_judged(lamp.part, answer, pins[lamp.step], "menyala (lit)"))
        self._lights_open = lights
        return results

    def check_buzzer(self) -> list[Result]:
        from gpiozero.exc import GPIOZeroError

        part = f"buzzer (GPIO{self.gpio.buzzer})"
        try:
            lights = self._lights_open or self._lights()
        except (GPIOZeroError, PinFactoryError) as e:
            return [Result(part, False, _pin_problem(self.gpio.buzzer, e))]
        lights.buzzer.blink(on_time=SHORT_BEEP, off_time=BEEP_GAP, n=BEEPS, background=False)
        answer = self._answer("buzzer", f"Terdengar {BEEPS} bip? (did you hear {BEEPS} beeps?)")
        return [_judged(part, answer, self.gpio.buzzer, f"{BEEPS} bip terdengar (beeps heard)")]


def _judged(part: str, answer: bool | None, pin: int, good: str) -> Result:
    if answer is None:
        return Result(
            part,
            False,
            "tidak ada jawaban (no answer): tombol gagal atau tidak ditekan "
            "(the buttons failed or nobody answered)",
        )
    if not answer:
        return Result(
            part,
            False,
            f"teknisi menjawab tidak: periksa kabel ke GPIO{pin}, arah LED/buzzer dan "
            f"resistornya (answered no: check the wiring to GPIO{pin}, polarity, resistor)",
        )
    return Result(part, True, f"{good}, dijawab dengan KONFIRMASI (confirmed)")


def _pin_problem(pin: int, error: Exception) -> str:
    return (
        f"GPIO{pin} tidak bisa dipakai: {error}; jika layanan kit berjalan, hentikan dulu: "
        f"sudo systemctl stop tps-kit (pin unusable; stop the kit's service first)"
    )


def summary(results: Sequence[Result]) -> str:
    failed = [r for r in results if not r.passed]
    if not failed:
        return f"SEMUA LULUS (all passed): {len(results)} pemeriksaan (checks)"
    return (
        f"{len(failed)} GAGAL dari {len(results)} (failed of {len(results)}): perbaiki lalu "
        "ulangi tps-kit selftest; jangan kirim kit ini (fix, run it again; do not ship)"
    )
