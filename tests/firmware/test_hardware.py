"""Buttons, LEDs and buzzer through gpiozero's MockFactory; the patterns as data."""

from __future__ import annotations

import itertools
import time

import pytest

from firmware.hardware.buttons import ConfirmButton, ScanButton
from firmware.hardware.lights import Lights
from firmware.hardware.patterns import (
    BLINK,
    PATTERNS,
    Led,
    Signal,
    pattern_table,
    rest_signal,
)
from firmware.hardware.pins import PinFactoryError, choose_pin_factory

HOLD = 0.15


def wait_for(condition, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@pytest.fixture
def scan(mock_pins):
    events: list[str] = []
    button = ScanButton(
        17,
        on_capture=lambda: events.append("capture"),
        on_cancel=lambda: events.append("cancel"),
        hold_s=HOLD,
    )
    yield mock_pins.pin(17), events
    button.close()


def test_a_press_captures_on_release(scan):
    pin, events = scan
    pin.drive_low()
    assert events == []  # nothing until it is known not to be a hold
    pin.drive_high()
    assert events == ["capture"]


def test_holding_cancels_and_never_captures(scan):
    pin, events = scan
    pin.drive_low()
    wait_for(lambda: events == ["cancel"])
    pin.drive_high()
    time.sleep(0.05)
    assert events == ["cancel"]
    pin.drive_low()  # the next short press captures again
    pin.drive_high()
    assert events == ["cancel", "capture"]


def test_confirm_press(mock_pins):
    pressed: list[int] = []
    button = ConfirmButton(27, on_confirm=lambda: pressed.append(1))
    mock_pins.pin(27).drive_low()
    mock_pins.pin(27).drive_high()
    assert pressed == [1]
    button.close()


def test_lights_follow_each_signal(mock_pins):
    lights = Lights(22, 23, 24, 25)
    pins = [mock_pins.pin(n) for n in (22, 23, 24)]
    lights.show(Signal.ERROR)
    assert [p.state for p in pins] == [False, False, True]
    lights.show(Signal.REVIEW_OK)  # green steady, amber slow blink
    time.sleep(0.05)
    assert pins[0].state is True and pins[2].state is False
    assert any(s.state for s in pins[1].states[-3:])  # amber has been switched on by blink
    buzzer = mock_pins.pin(25)
    wait_for(lambda: sum(1 for s in buzzer.states if s.state) >= 2)  # two beeps for review-ok
    lights.close()


def test_blinking_uses_the_patterns_timing(mock_pins):
    lights = Lights(22, 23, 24, 25)
    try:
        lights.show(Signal.READING)  # amber fast
        time.sleep(0.5)
        states = mock_pins.pin(23).states  # each timestamp: seconds since the change before
    finally:
        lights.close()
    on_time, off_time = BLINK[Led.FAST]
    lit = [b.timestamp for a, b in itertools.pairwise(states) if a.state and not b.state]
    dark = [b.timestamp for a, b in itertools.pairwise(states) if b.state and not a.state]
    assert len(lit) >= 2
    assert all(abs(t - on_time) < 0.05 for t in lit)
    assert all(abs(t - off_time) < 0.05 for t in dark[1:])


def test_every_signal_has_its_own_lights_except_cancel():
    assert set(PATTERNS) == set(Signal)
    lights = {s: p.lights for s, p in PATTERNS.items() if s != Signal.CANCELLED}
    assert len(set(lights.values())) == len(lights)  # tell them apart without the screen
    for pattern in PATTERNS.values():
        assert len(set(pattern.beeps)) <= 1  # one beep length per signal (gpiozero's blink)


def test_training_has_its_own_rest_pattern():
    assert rest_signal(training=True, online=False) == Signal.TRAINING
    assert rest_signal(training=True, online=True) == Signal.TRAINING
    assert rest_signal(training=False, online=True) == Signal.IDLE
    assert rest_signal(training=False, online=False) == Signal.OFFLINE


def test_pattern_table_lists_every_signal():
    table = pattern_table()
    rows = [line for line in table.splitlines() if line.startswith("| ")][1:]
    states = [r.split("|")[1].strip() for r in rows]
    assert states == [f"{p.name} ({s.value})" for s, p in PATTERNS.items()]
    assert "kedip cepat (fast blink)" in table and "LATIHAN" in table
    # The legend in Indonesian, English beside it, from the timings the lights use.
    assert "- kedip lambat (slow blink): 1 detik nyala, 1 detik mati (1 s on, 1 s off)" in table
    assert "- bip panjang (long beep): 0,8 detik (0.8 s)" in table
    assert all(len(r.split("|")) == 9 for r in rows)


def test_pin_factory_choice(monkeypatch):
    sentinel = object()
    assert choose_pin_factory("lgpio", override=sentinel) is sentinel
    assert choose_pin_factory("", environ={}) is None  # gpiozero decides
    from gpiozero.pins.mock import MockFactory

    chosen = choose_pin_factory("nonsense", environ={"GPIOZERO_PIN_FACTORY": "mock"})
    assert isinstance(chosen, MockFactory)  # the environment wins over kit.toml
    chosen.close()
    with pytest.raises(PinFactoryError, match="unknown pin factory 'nonsense'"):
        choose_pin_factory("nonsense", environ={})
