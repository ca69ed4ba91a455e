"""The screen kit.toml's [screen] section names."""

from __future__ import annotations

from pathlib import Path

from protocol.kitconfig import KitConfig


def open_display(config: KitConfig, base: Path) -> object:
    settings = config.screen
    size = (settings.width, settings.height)
    if settings.backend == "files":
        from firmware.screen.files import FileDisplay

        return FileDisplay(config.resolve(settings.directory, base), size)
    from firmware.screen.framebuffer import FramebufferDisplay

    return FramebufferDisplay(settings.device, size)
