"""``tps-kit run --validate-config``: kit.toml and every file it names, before election night.

Each check adds one line; a problem says what is wrong and where. Nothing is started: no
camera is opened and no pin is driven, so it runs on the technician's laptop too (where
the picamera2 check reports what a Pi would need).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

from firmware.identity import StartupError, load_identity
from protocol import boom, certs
from protocol.errors import ProtocolError
from protocol.kitconfig import KitConfig, load_kit_config


@dataclass
class Report:
    ok: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def check(self, passed: bool, good: str, bad: str) -> bool:
        (self.ok if passed else self.problems).append(good if passed else bad)
        return passed


def validate(config_path: Path) -> Report:
    report = Report()
    try:
        config = load_kit_config(config_path)
    except ProtocolError as e:
        report.problems.append(f"{config_path}: {e}")
        return report
    report.ok.append(f"{config_path}: valid ({config.kit.id}, TPS {config.kit.tps})")
    base = config_path.parent
    _identity(config, base, report)
    _dpt(config, base, report)
    _forms(config, report)
    _state_dir(config, base, report)
    _camera(config, base, report)
    _screen(config, base, report)
    _gpio(config, report)
    _receipt(config, report)
    _ack_log(config, report)
    return report


def _identity(config: KitConfig, base: Path, report: Report) -> None:
    try:
        identity = load_identity(config, base)
    except StartupError as e:
        report.problems.append(str(e))
        return
    mode = "TRAINING (LATIHAN)" if identity.training else "real election"
    report.ok.append(f"key and certificate match kit.toml ({identity.election}: {mode})")
    ca_path = config.resolve(config.paths.ca_certificate, base)
    try:
        ca_cert = certs.load_certificate(ca_path.read_bytes())
        certs.verify_issued(identity.certificate, ca_cert, role="kit", at=dt.datetime.now(dt.UTC))
    except OSError as e:
        report.problems.append(f"cannot read {ca_path}: {e.strerror}")
    except ProtocolError as e:
        report.problems.append(f"the kit's certificate does not hold under {ca_path}: {e}")
    else:
        report.ok.append(f"certificate chains to {ca_path.name} and is valid now")


def _dpt(config: KitConfig, base: Path, report: Report) -> None:
    from firmware.assemble import load_dpt

    tps, election = config.kit.tps, config.kit.election
    try:
        dpt = load_dpt(base, tps=tps, election=election)
    except StartupError as e:
        report.problems.append(str(e))
        return
    if dpt is None:
        report.ok.append("no tps.json: the voter rows are checked by the form's rules alone")
    else:
        report.ok.append(f"official DPT of TPS {tps}: {dpt.men} L + {dpt.women} P")


def _forms(config: KitConfig, report: Report) -> None:
    from protocol.forms.loader import load

    for form in config.forms.ids:
        try:
            load(form)
        except ProtocolError as e:
            report.problems.append(f"forms.ids: {form}: {e}")
        else:
            report.ok.append(f"form template {form}")


def _state_dir(config: KitConfig, base: Path, report: Report) -> None:
    state = config.resolve(config.paths.state_dir, base)
    target = state if state.exists() else state.parent
    report.check(
        os.access(target, os.W_OK),
        f"state_dir {state} is writable",
        f"state_dir {state}: {target} is not writable by this user",
    )


def _camera(config: KitConfig, base: Path, report: Report) -> None:
    camera = config.camera
    if camera.backend == "files":
        from firmware.camera.files import expand

        paths = expand([config.resolve(p, base) for p in camera.files])
        missing = [str(p) for p in paths if not p.is_file()]
        report.check(
            bool(paths) and not missing,
            f"camera: {len(paths)} image file(s)",
            f"camera.files: missing {missing}" if missing else "camera.files names no image",
        )
    elif camera.backend == "synth":
        digits = config.resolve(Path(camera.digits or "."), base)
        found = camera.digits and list(digits.parent.glob(f"{digits.name}-images-idx3-ubyte*"))
        missing = f"camera.digits: no {digits}" if camera.digits else "camera.digits: none named"
        report.check(bool(found), f"camera: synth with {digits}", missing)
    else:
        _boom(config, report)
        try:
            import picamera2  # noqa: F401
        except ImportError:
            from firmware.camera.picamera import INSTALL_HINT

            report.problems.append(f"camera: {INSTALL_HINT}")
        else:
            report.ok.append("camera: picamera2 available")


# The aligner reads a page between 2 and 14 px/mm; below 3 a 10 mm box is under 30 px and
# the digits lose their strokes.
MIN_PX_PER_MM = 3.0


def _boom(config: KitConfig, report: Report) -> None:
    """What the camera on the boom will see of each form's pages, and its fixed settings."""
    from protocol.forms.loader import load

    camera = config.camera
    report.ok.append(
        f"camera: {camera.width} x {camera.height} px, {camera.boom_height_mm:g} mm above the "
        f"table, focus {camera.focus:g} dioptres"
        + ("" if camera.lens_position is not None else " (1000 / boom_height_mm)")
    )
    period = boom.flicker_period_us(camera.mains_hz)
    report.check(
        camera.exposure_us % period == 0,
        f"camera: exposure {camera.exposure_us} us = {camera.exposure_us // period} flicker "
        f"period(s) of lamps on {camera.mains_hz} Hz mains",
        f"camera.exposure_us {camera.exposure_us} is not a multiple of {period} (the flicker "
        f"of lamps on {camera.mains_hz} Hz mains): bands of light would cross the sheet",
    )
    sizes = set()
    for form in config.forms.ids:
        try:
            template = load(form).template
        except ProtocolError:
            continue  # _forms reports it
        sizes |= {(page.width, page.height) for page in template.pages}
    for sheet in sorted(sizes):
        px_mm, across, along = boom.sheet_in_frame(
            sheet, camera.boom_height_mm, camera.lens_hfov_deg, camera.size
        )
        what = f"a {max(sheet):g} x {min(sheet):g} mm page"
        if max(across, along) > 0.95:
            report.problems.append(
                f"camera: {what} fills {across:.0%} x {along:.0%} of the frame: raise the boom "
                "(boom_height_mm) so the whole page and its corner marks fit with a margin"
            )
        elif px_mm < MIN_PX_PER_MM:
            report.problems.append(
                f"camera: {what} is {px_mm:.1f} px/mm (a 10 mm box {10 * px_mm:.0f} px): lower "
                f"the boom or use a narrower lens; the reader needs {MIN_PX_PER_MM:g} px/mm"
            )
        else:
            report.ok.append(
                f"camera: {what} at {px_mm:.1f} px/mm (a 10 mm box {10 * px_mm:.0f} px), "
                f"filling {across:.0%} x {along:.0%} of the frame"
            )


def _screen(config: KitConfig, base: Path, report: Report) -> None:
    screen = config.screen
    if screen.backend == "files":
        directory = config.resolve(screen.directory, base)
        target = directory if directory.exists() else directory.parent
        report.check(
            os.access(target, os.W_OK),
            f"screen: files in {directory}",
            f"screen.directory {directory} is not writable",
        )
    else:
        from firmware.screen.framebuffer import FramebufferError, describe

        if not report.check(
            os.access(screen.device, os.W_OK),
            f"screen: {screen.device} is writable",
            f"screen.device {screen.device} is missing or not writable (group video?)",
        ):
            return
        try:
            report.ok.append(f"screen: {describe(screen.device, (screen.width, screen.height))}")
        except FramebufferError as e:
            report.problems.append(f"screen: {e}")


def _gpio(config: KitConfig, report: Report) -> None:
    gpio = config.gpio
    pins = [gpio.scan, gpio.confirm, gpio.green, gpio.amber, gpio.red, gpio.buzzer]
    distinct = len(set(pins)) == len(pins)
    report.check(distinct, "gpio: six distinct pins", f"gpio: a pin is used twice: {pins}")
    if gpio.pin_factory:
        names = {e.name.lower() for e in entry_points(group="gpiozero_pin_factories")}
        report.check(
            gpio.pin_factory.lower() in names,
            f"gpio: pin factory {gpio.pin_factory}",
            f"gpio.pin_factory {gpio.pin_factory!r} is unknown (known: {sorted(names)})",
        )


def _receipt(config: KitConfig, report: Report) -> None:
    from protocol.receipt import RECEIPT_PAGE

    url = config.hub.public_url
    if url:
        report.ok.append(f"receipt QR code: opens {url.rstrip('/')}{RECEIPT_PAGE}?tps=...")
    else:
        report.ok.append("receipt QR code: the receipt's text (no hub.public_url)")


def _ack_log(config: KitConfig, report: Report) -> None:
    from protocol.ids import log_of

    if config.hub.log_id:
        log = log_of(config.hub.log_id, config.kit.election)
        report.ok.append(f"acks: an accepted result must be proved in log {log}")
    else:
        report.ok.append(
            "acks: proved in any log a hub of the region signs (no hub.log_id: "
            "tps-provision kit bundle --log-id pins it)"
        )
