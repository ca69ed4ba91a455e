"""Putting a kit together from its kit.toml: identity, reader, outbox, camera, screen,
panel and uplink. The daemon and the one-shot scan both start here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from edge.outbox import Outbox
from edge.read.page import Expectation, PageReader
from firmware.camera.base import Camera
from firmware.hardware.patterns import Signal
from firmware.identity import KitIdentity, StartupError, load_identity
from firmware.kit import Kit, Press
from firmware.screen.compose import ComposedScreen
from protocol.errors import ProtocolError
from protocol.kitconfig import KitConfig, load_kit_config
from protocol.manifest import OfficialDpt
from protocol.tpsslice import SLICE_FILE, load_official_dpt

log = logging.getLogger(__name__)

OUTBOX_FILE = "outbox.sqlite3"  # the same file `tps-kit outbox` opens (firmware.cli)


def software_version() -> str:
    try:
        return f"tps-kit {version('tps-kit')}"
    except PackageNotFoundError:
        return "tps-kit (source)"


def load_config(path: Path) -> KitConfig:
    try:
        return load_kit_config(path)
    except ProtocolError as e:
        raise StartupError(f"{path}: {e}") from e


def build_reader(config: KitConfig, *, warm_up: bool = True) -> tuple[PageReader, dict[str, str]]:
    """The page reader for this kit's forms, TPS and election, and each template's hash.

    ``warm_up`` runs one batch through the model so the first scan of the night is as fast
    as the others (onnxruntime allocates on its first call).
    """
    from edge.recognition.model import DigitModel
    from protocol.forms.loader import load, load_all

    try:
        loaded = [load(form) for form in config.forms.ids]
    except ProtocolError as e:
        raise StartupError(f"forms.ids: {e}") from e
    model = DigitModel.load()
    if warm_up:
        model.warm_up()
    expect = Expectation(config.kit.election, config.kit.tps, tuple(config.forms.ids))
    others = [t.template for t in load_all()]
    reader = PageReader([t.template for t in loaded], model, expect=expect, others=others)
    return reader, {t.template.id: t.sha256 for t in loaded}


class QuietLights:
    """Lights for a kit without a panel (the one-shot scan): remembers what it would show."""

    def __init__(self) -> None:
        self.shown: list[Signal] = []

    def show(self, signal: Signal) -> None:
        self.shown.append(signal)


@dataclass
class AssembledKit:
    config: KitConfig
    base: Path
    identity: KitIdentity
    kit: Kit
    outbox: Outbox
    camera: Camera
    screen: ComposedScreen
    panel: Any = None
    uplink: Any = None
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Stop the uplink first (it reads the outbox), then everything else."""
        if self.uplink is not None:
            self.uplink.stop()
        for close in reversed(self.closers):
            try:
                close()
            except Exception:  # closing one part must not keep the others open
                log.exception("closing %r failed", close)


def assemble(
    config_path: Path,
    *,
    camera: Camera | None = None,
    display: Any = None,
    lights: Any = None,
    pin_factory: Any = None,
    uplink: bool = True,
    uplink_timers: dict[str, float] | None = None,
) -> AssembledKit:
    """A kit ready to :meth:`Kit.start`; the uplink (if any) is made but not started.

    ``camera``, ``display`` and ``lights`` replace what kit.toml names (the one-shot scan,
    tests); ``lights`` given means no panel (no buttons either).
    """
    base = config_path.parent
    config = load_config(config_path)
    identity = load_identity(config, base)
    dpt = load_dpt(base, tps=identity.tps, election=identity.election)
    reader, hashes = build_reader(config)
    closers: list[Callable[[], None]] = []
    state_dir = config.resolve(config.paths.state_dir, base)
    state_dir.mkdir(parents=True, exist_ok=True)
    outbox = Outbox.open(state_dir / OUTBOX_FILE)
    closers.append(outbox.close)
    try:
        parts = _devices(config, base, identity, camera, display, closers, dpt)
        kit_ref: list[Kit] = []
        panel = None
        if lights is None:
            from firmware.hardware.panel import Panel

            panel = Panel(
                config.gpio,
                on_capture=lambda: kit_ref[0].press(Press.SCAN),
                on_cancel=lambda: kit_ref[0].press(Press.CANCEL),
                on_confirm=lambda: kit_ref[0].press(Press.CONFIRM),
                pin_factory=pin_factory,
            )
            closers.append(panel.close)
            lights = panel
        kit = Kit(
            identity=identity,
            camera=parts[0],
            screen=parts[1],
            lights=lights,
            reader=reader,
            template_sha256=hashes,
            outbox=outbox,
            dpt=dpt,
            public_url=config.hub.public_url,
        )
        kit_ref.append(kit)
        link = _uplink(config, base, outbox, kit, reader, uplink_timers) if uplink else None
        kit.uplink = link
    except BaseException:
        for close in reversed(closers):
            close()
        raise
    return AssembledKit(
        config, base, identity, kit, outbox, parts[0], parts[1], panel, link, closers
    )


def _devices(
    config: KitConfig,
    base: Path,
    identity: KitIdentity,
    camera: Camera | None,
    display: Any,
    closers: list[Callable[[], None]],
    dpt: OfficialDpt | None,
) -> tuple[Camera, ComposedScreen]:
    if camera is None:
        from firmware.camera.select import open_camera

        camera = open_camera(config, base, dpt=dpt)
    closers.append(camera.close)
    if display is None:
        from firmware.screen.select import open_display

        display = open_display(config, base)
    closers.append(display.close)
    return camera, ComposedScreen(display, training=identity.training)


def _uplink(
    config: KitConfig,
    base: Path,
    outbox: Outbox,
    kit: Kit,
    reader: PageReader,
    timers: dict[str, float] | None,
) -> Any:
    from edge.uplink import Uplink, settings_from_config

    settings = settings_from_config(config, base, **(timers or {}))
    return Uplink(
        settings,
        outbox,
        software_version=software_version(),
        model_version=reader.model.sha256,
        on_event=kit.submit,
    )


def load_dpt(base: Path, *, tps: str, election: str) -> OfficialDpt | None:
    """The TPS's official voter list from the bundle's tps.json beside kit.toml; None for a
    bundle made without an election manifest. A tps.json for another TPS or election is a
    wrong bundle on this kit: refused at start, never read past."""
    try:
        return load_official_dpt(base, tps=tps, election=election)
    except (OSError, ProtocolError) as e:
        raise StartupError(f"{base / SLICE_FILE}: {e}: bundle this kit again") from e
