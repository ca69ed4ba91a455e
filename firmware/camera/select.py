"""The camera kit.toml's [camera] section names."""

from __future__ import annotations

from pathlib import Path

from firmware.camera.base import Camera, CameraError
from protocol.kitconfig import KitConfig
from protocol.manifest import OfficialDpt


def open_camera(config: KitConfig, base: Path, *, dpt: OfficialDpt | None = None) -> Camera:
    """The configured backend, started. Relative paths are relative to ``base``; ``dpt``,
    the TPS's official register, is what the synth camera's KPPS copies onto rows I.A."""
    settings = config.camera
    if settings.backend == "files":
        from firmware.camera.files import FileCamera

        sources = [config.resolve(p, base) for p in settings.files]
        return FileCamera(sources, loop=settings.loop)
    if settings.backend == "synth":
        from firmware.camera.synth import SynthCamera, load_page_source

        if not settings.digits:
            raise CameraError("the synth camera needs [camera] digits: an IDX digit set")
        form, tps, election = config.forms.ids[0], config.kit.tps, config.kit.election
        digits = config.resolve(Path(settings.digits), base)
        pages = load_page_source(form=form, tps=tps, election=election, digits=digits, dpt=dpt)
        return SynthCamera(form=form, tps=tps, election=election, pages=pages, seed=settings.seed)
    from firmware.camera.picamera import PiCamera

    return PiCamera(settings)
