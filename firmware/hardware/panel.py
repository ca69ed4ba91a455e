"""All of the kit's front panel, wired from kit.toml's [gpio] section."""

from __future__ import annotations

from typing import Any

from firmware.hardware.buttons import Action, ConfirmButton, ScanButton
from firmware.hardware.lights import Lights
from firmware.hardware.patterns import Signal
from firmware.hardware.pins import choose_pin_factory
from protocol.kitconfig import GpioSettings


class Panel:
    """Buttons wired to the kit's actions, and the lights it shows."""

    def __init__(
        self,
        settings: GpioSettings,
        *,
        on_capture: Action,
        on_cancel: Action,
        on_confirm: Action,
        pin_factory: Any = None,
    ) -> None:
        factory = choose_pin_factory(settings.pin_factory, override=pin_factory)
        self.lights = Lights(
            settings.green, settings.amber, settings.red, settings.buzzer, pin_factory=factory
        )
        self.scan = ScanButton(
            settings.scan,
            on_capture=on_capture,
            on_cancel=on_cancel,
            hold_s=settings.hold_cancel_s,
            pin_factory=factory,
        )
        self.confirm = ConfirmButton(settings.confirm, on_confirm=on_confirm, pin_factory=factory)

    def show(self, signal: Signal) -> None:
        self.lights.show(signal)

    def close(self) -> None:
        self.scan.close()
        self.confirm.close()
        self.lights.close()
