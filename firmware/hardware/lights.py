"""Three LEDs and a buzzer playing the pattern of a signal (see patterns.py)."""

from __future__ import annotations

from typing import Any

from gpiozero import LED, Buzzer

from firmware.hardware.patterns import BEEP_GAP, BLINK, PATTERNS, Led, Pattern, Signal


class Lights:
    """Green, amber, red and the buzzer; :meth:`show` switches them to a signal."""

    def __init__(
        self, green: int, amber: int, red: int, buzzer: int, *, pin_factory: Any = None
    ) -> None:
        self.green = LED(green, pin_factory=pin_factory)
        self.amber = LED(amber, pin_factory=pin_factory)
        self.red = LED(red, pin_factory=pin_factory)
        self.buzzer = Buzzer(buzzer, pin_factory=pin_factory)
        self.signal: Signal | None = None

    def show(self, signal: Signal) -> None:
        self.signal = signal
        self.play(PATTERNS[signal])

    def play(self, pattern: Pattern) -> None:
        for led, mode in zip((self.green, self.amber, self.red), pattern.lights, strict=True):
            _set(led, mode)
        _beep(self.buzzer, pattern.beeps)

    def close(self) -> None:
        for device in (self.green, self.amber, self.red, self.buzzer):
            device.close()


def _set(led: LED, mode: Led) -> None:
    if mode is Led.ON:
        led.on()
    elif mode is Led.OFF:
        led.off()
    else:
        on, off = BLINK[mode]
        led.blink(on_time=on, off_time=off, background=True)


def _beep(buzzer: Buzzer, beeps: tuple[float, ...]) -> None:
    """Play the beeps in gpiozero's background thread: a signal never waits for its sound.

    gpiozero's blink takes one on/off pair, so a signal's beeps share one length (a test
    keeps PATTERNS that way).
    """
    if not beeps:  # a silent signal lets the previous signal's beeps finish
        return
    buzzer.blink(on_time=beeps[0], off_time=BEEP_GAP, n=len(beeps), background=True)
