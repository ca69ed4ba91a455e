"""Helpers for the state machine's tests: a kit assembled on MockFactory pins."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from firmware.assemble import AssembledKit, assemble
from firmware.camera.files import FileCamera
from firmware.screen.files import FileDisplay

SCAN, CONFIRM, GREEN, AMBER, RED = 17, 27, 22, 23, 24


def build(
    config: Path, images: Sequence[Path], *, settle_s: float = 0.0, **options: Any
) -> AssembledKit:
    """The kit of ``config`` with the files camera, the file screen and the panel on the
    default (Mock) pin factory; no uplink unless ``uplink=True`` is given. Presses follow
    each other at once here, so a KONFIRMASI is not held back after a new screen unless
    ``settle_s`` says so."""
    options.setdefault("uplink", False)
    display = FileDisplay(config.parent / "screen")
    assembled = assemble(config, camera=FileCamera(list(images)), display=display, **options)
    assembled.kit.settle_s = settle_s
    assembled.kit.start()
    return assembled


def press(pins: Any, number: int, kit: Any) -> None:
    """Press and release a button, then let the kit handle what it queued."""
    pins.pin(number).drive_low()
    pins.pin(number).drive_high()
    kit.drain()


def screens(assembled: AssembledKit) -> list[Any]:
    return assembled.screen.display.shown  # type: ignore[attr-defined]


def led(pins: Any, number: int) -> bool:
    return bool(pins.pin(number).state)
