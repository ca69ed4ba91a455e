"""Which gpiozero pin factory drives the kit's pins.

Order: an explicit ``override`` (tests, the demo), then the ``GPIOZERO_PIN_FACTORY``
environment (a developer running the daemon on a laptop with ``mock``), then kit.toml's
[gpio] pin_factory, then gpiozero's own choice (lgpio on Raspberry Pi OS Bookworm).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

ENV = "GPIOZERO_PIN_FACTORY"


class PinFactoryError(Exception):
    """The configured pin factory is unknown or cannot start on this machine."""


def choose_pin_factory(
    configured: str = "",
    *,
    override: Any = None,
    environ: Mapping[str, str] | None = None,
) -> Any:
    """A gpiozero Factory, or None to leave gpiozero's default (Device.pin_factory)."""
    if override is not None:
        return override
    env = os.environ if environ is None else environ
    name = env.get(ENV) or configured
    if not name:
        return None
    return load_pin_factory(name)


def load_pin_factory(name: str) -> Any:
    """Instantiate a gpiozero pin factory by its entry-point name (case-insensitive)."""
    for entry in entry_points(group="gpiozero_pin_factories"):
        if entry.name.lower() == name.lower():
            try:
                return entry.load()()
            except Exception as e:  # gpiozero raises many kinds when the hardware is absent
                raise PinFactoryError(f"pin factory {name!r} cannot start here: {e}") from e
    known = sorted({e.name.lower() for e in entry_points(group="gpiozero_pin_factories")})
    raise PinFactoryError(f"unknown pin factory {name!r} (known: {', '.join(known)})")
