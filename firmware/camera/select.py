"""The camera kit.toml's [camera] section names."""

from __future__ import annotations

from pathlib import Path

from firmware.camera.base import Camera
from protocol.kitconfig import KitConfig


def open_camera(config: KitConfig, base: Path) -> Camera:
    """The configured backend, started. Relative paths are relative to ``base``."""
    settings = config.camera
    if settings.backend == "files":
        from firmware.camera.files import FileCamera

        sources = [config.resolve(p, base) for p in settings.files]
        return FileCamera(sources, loop=settings.loop)
    if settings.backend == "synth":
        from firmware.camera.synth import SynthCamera

        digits = config.resolve(Path(settings.digits), base) if settings.digits else None
        return SynthCamera(
            form=config.forms.ids[0],
            tps=config.kit.tps,
            election=config.kit.election,
            digits=digits,
            seed=settings.seed,
        )
    from firmware.camera.picamera import PiCamera

    return PiCamera(settings)
