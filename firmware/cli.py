"""``tps-kit``: the kit's command line (the appliance daemon and one-shot tools)."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click
from cryptography.hazmat.primitives.serialization import Encoding

from protocol import keys
from protocol.errors import ProtocolError

if TYPE_CHECKING:
    from edge.outbox import Outbox


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tps-kit")
def main() -> None:
    """The TPS kit: scan Form C.Hasil, read it, sign it, send it to the hub."""


@main.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The kit's configuration directory (e.g. /etc/tps-kit).",
)
@click.option("--name", default=None, help="Name to put in the CSR (default: host name).")
def keygen(directory: Path, name: str | None) -> None:
    """Make this kit's own key (never leaves the kit) and a CSR for the technician's CA."""
    directory.mkdir(parents=True, exist_ok=True)
    try:
        key = keys.write_new_key(directory / "kit.key.pem")
    except keys.KeyFileError as e:
        raise click.ClickException(str(e)) from e
    csr = keys.make_csr(key, name or socket.gethostname())
    (directory / "kit.csr.pem").write_bytes(csr.public_bytes(Encoding.PEM))
    click.echo(f"key:  {directory / 'kit.key.pem'} (mode 0600, stays on this kit)")
    click.echo(f"CSR:  {directory / 'kit.csr.pem'} -> give it to the technician:")
    click.echo("  tps-provision kit enroll --tps CODE --election ID --csr kit.csr.pem \\")
    click.echo("      --out kit.cert.pem")


@main.command()
@click.argument("pages", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the reading as JSON.")
@click.option(
    "--config",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A kit.toml: its TPS and election name the form; pages of another form are refused.",
)
@click.option("--tps", help="The TPS the form is from; a sheet whose QR names another is refused.")
@click.option(
    "--election", help="The election the form is for; a sheet whose QR names another is refused."
)
@click.option(
    "--model",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Digit model (default: the one shipped with the kit).",
)
@click.option(
    "--card",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the review card PNG (OUT-1.png, OUT-2.png... for a form of several pages).",
)
def read(
    pages: tuple[Path, ...],
    as_json: bool,
    config: Path | None,
    tps: str | None,
    election: str | None,
    model: Path | None,
    card: Path | None,
) -> None:
    """Read the photos of one form's pages and print every field's value and probability.

    Each page is read on its own. A page that cannot be read safely (another TPS or election,
    a covered corner mark, too dark or blurred, a page given twice) is refused and named,
    saying why and what to do; the other pages are still read, so only it needs scanning
    again. The exit status is 2 when any page was refused, 0 otherwise; with --json the
    report (each page's outcome among it) is printed either way.
    """
    from firmware.reading import format_report, read_pages  # heavy: OpenCV, onnxruntime

    try:
        report = read_pages(
            list(pages), config=config, tps=tps, election=election, model=model, card=card
        )
    except ProtocolError as e:
        raise click.ClickException(str(e)) from e
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        click.echo(format_report(report))
    if any(p["outcome"] == "refused" for p in report["pages"]):
        raise SystemExit(2)


# --- outbox ---------------------------------------------------------------------------------

# The daemon's outbox file inside the kit's state_dir (as edge/outbox's docstring names it).
OUTBOX_FILE = "outbox.sqlite3"


def _open_outbox(config: Path | None, outbox: Path | None) -> Outbox:
    """The outbox named by --outbox, or the one in the state_dir of --config's kit.toml."""
    from edge.outbox import Outbox, OutboxError
    from protocol.kitconfig import load_kit_config

    if (config is None) == (outbox is None):
        raise click.UsageError("give exactly one of --config KIT.TOML or --outbox PATH")
    if outbox is None:
        assert config is not None
        try:
            settings = load_kit_config(config)
        except ProtocolError as e:
            raise click.ClickException(f"{config}: {e}") from e
        outbox = settings.resolve(settings.paths.state_dir, config.parent) / OUTBOX_FILE
    if not outbox.exists():
        # Opening would create an empty outbox: never do that from a reading command.
        raise click.ClickException(f"no outbox at {outbox}")
    try:
        return Outbox.open(outbox)
    except OutboxError as e:
        raise click.ClickException(str(e)) from e


_outbox_source = [
    click.option(
        "--config",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        help="The kit's kit.toml: the outbox in its state_dir.",
    ),
    click.option(
        "--outbox",
        "outbox_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="An outbox file directly (e.g. a copy taken from a broken kit).",
    ),
]


def _with_outbox_source(command: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(_outbox_source):
        command = option(command)
    return command


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


@main.group()
def outbox() -> None:
    """The kit's outbox: signed results waiting for (or answered by) the hub."""


@outbox.command("list")
@_with_outbox_source
def outbox_list(config: Path | None, outbox_path: Path | None) -> None:
    """One line per stored result: seq, hash, form, state, publish attempts, age."""
    import time

    with _open_outbox(config, outbox_path) as opened:
        entries = opened.documents()
        stats = opened.stats()
    now = time.time()
    click.echo(f"{'SEQ':>5}  {'SHA256':<12}  {'FORM':<16}  {'STATE':<12}  {'TRIES':>5}  AGE")
    for e in entries:
        line = (
            f"{e.seq:>5}  {e.sha256[:12]:<12}  {e.form:<16}  {e.state.value:<12}  "
            f"{e.attempts:>5}  {_age(now - e.created_at)}"
        )
        problem = e.reason or e.last_error
        click.echo(f"{line}  {problem}" if problem else line)
    click.echo(
        f"{len(entries)} stored, {stats.pending_documents} waiting for the hub "
        f"({stats.unsent_documents} not yet with the broker), "
        f"{stats.pending_images} image(s) to send"
    )


@outbox.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@_with_outbox_source
def outbox_export(directory: Path, config: Path | None, outbox_path: Path | None) -> None:
    """Write every signed result and page image to DIRECTORY (a USB stick) for the hub.

    Each result is the exact signed bytes (check one with `tps-verify FILE --ca CA`); the
    manifest, written last, lists them all.
    """
    from edge.outbox import OutboxError

    with _open_outbox(config, outbox_path) as opened:
        try:
            manifest = opened.export(directory)
        except OutboxError as e:
            raise click.ClickException(str(e)) from e
        count = len(opened.documents())
    click.echo(f"exported {count} result(s) to {directory} (manifest: {manifest.name})")


# --- the appliance ---------------------------------------------------------------------------

_config_option = click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="The kit's kit.toml.",
)


def _startup_errors() -> tuple[type[BaseException], ...]:
    from edge.outbox import OutboxError
    from firmware.camera.base import CameraError
    from firmware.hardware.pins import PinFactoryError
    from firmware.identity import StartupError

    return (StartupError, OutboxError, CameraError, PinFactoryError, ProtocolError)


@main.command()
@_config_option
@click.option(
    "--validate-config",
    is_flag=True,
    help="Check kit.toml and every file it names, print what was checked, and exit.",
)
def run(config: Path, validate_config: bool) -> None:
    """The appliance: buttons, camera, screen, signing and the uplink (systemd runs this)."""
    import logging

    if validate_config:
        from firmware.validate import validate

        report = validate(config)
        for line in report.ok:
            click.echo(f"ok       {line}")
        for line in report.problems:
            click.echo(f"PROBLEM  {line}", err=True)
        raise SystemExit(1 if report.problems else 0)
    from firmware.daemon import run as run_daemon

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        run_daemon(config)
    except _startup_errors() as e:
        raise click.ClickException(str(e)) from e


@main.command()
@click.option(
    "--image",
    "images",
    multiple=True,
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A photo of one page (repeat for each page of the form).",
)
@_config_option
@click.option("--yes", is_flag=True, help="Confirm: sign and queue the result (KONFIRMASI).")
def scan(images: tuple[Path, ...], config: Path, yes: bool) -> None:
    """One form through the whole path: read, judge, and with --yes sign and queue it.

    Prints what the kit's screen would show and the receipt. Exit status: 0 signed,
    1 read but not confirmed, 2 a page refused or missing, 3 a paper mistake (never signed).
    """
    from firmware.oneshot import scan_once

    try:
        outcome, receipt = scan_once(config, list(images), confirm=yes, echo=click.echo)
    except _startup_errors() as e:
        raise click.ClickException(str(e)) from e
    if receipt is not None:
        click.echo(f"receipt: {receipt.text()}")
    raise SystemExit(int(outcome))


@main.command()
@_config_option
def status(config: Path) -> None:
    """The outbox, the last delivery and this kit's configuration."""
    from firmware.status import config_lines, outbox_lines
    from protocol.kitconfig import load_kit_config

    try:
        settings = load_kit_config(config)
    except ProtocolError as e:
        raise click.ClickException(f"{config}: {e}") from e
    state_dir = settings.resolve(settings.paths.state_dir, config.parent)
    for line in config_lines(settings) + outbox_lines(state_dir / OUTBOX_FILE):
        click.echo(line)


@main.command()
@_config_option
@click.option(
    "--only",
    "only",
    multiple=True,
    type=click.Choice(["camera", "screen", "buttons", "leds", "buzzer"]),
    help="Check only this part (repeat for more); default: all, in order.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(1, 600),
    default=15.0,
    show_default=True,
    help="Seconds to wait for each press or answer.",
)
@click.option(
    "--photo",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the camera's still here (JPEG), to check focus and framing.",
)
def selftest(config: Path, only: tuple[str, ...], timeout: float, photo: Path | None) -> None:
    """Bench check before a kit ships: camera, screen, buttons, LEDs and buzzer in turn.

    Each part is reported LULUS (pass) or GAGAL (fail) with the reason. The technician
    presses each button when asked, then answers whether each lamp lit and the buzzer
    sounded with KONFIRMASI (yes) or PINDAI (no). Stop the kit's service first
    (sudo systemctl stop tps-kit): it holds the camera and the pins. Exit status 0 when
    every check passed, 1 otherwise.
    """
    from firmware.camera.select import open_camera
    from firmware.screen.select import open_display
    from firmware.selftest import PARTS, Bench, summary
    from protocol.kitconfig import load_kit_config

    try:
        settings = load_kit_config(config)
    except ProtocolError as e:
        raise click.ClickException(f"{config}: {e}") from e
    base = config.parent
    bench = Bench(
        settings.gpio,
        open_camera=lambda: open_camera(settings, base),
        open_display=lambda: open_display(settings, base),
        prompt=lambda step, words: click.echo(f">>> {words}"),
        timeout_s=timeout,
        lamp_s=0.5,
        photo=photo,
    )
    results = bench.run(only or PARTS)
    for result in results:
        click.echo(result.line())
    click.echo(summary(results))
    raise SystemExit(0 if all(r.passed for r in results) else 1)


@main.command()
def patterns() -> None:
    """Print the light-and-sound table (markdown) for trainers to print."""
    from firmware.hardware.patterns import pattern_table

    click.echo(pattern_table())


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Where to write the screens (NAME.png each).",
)
@click.option(
    "--digits",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Handwritten digits to fill the forms with: an IDX set's base path (PREFIX for "
    "PREFIX-images-idx3-ubyte[.gz]), e.g. tests/fixtures/digits/heldout-300 in a clone.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the forms.")
@click.option(
    "--only",
    "only",
    multiple=True,
    metavar="NAME",
    help="Write only this screen (repeat for more); all are rendered either way.",
)
@click.option("--compact", is_flag=True, help="Write small PNGs (16 levels a channel), to commit.")
def screens(
    out: Path, digits: Path | None, seed: int, only: tuple[str, ...], compact: bool
) -> None:
    """Render every screen the kit can show, from synthesized scans, as PNGs.

    Each state, each refusal, each kind of look, a paper mistake and a training kit, drawn by
    the kit's own state machine and screen at the screen's size (kit.toml's default,
    800 x 480), each file named for what it shows. The digits are not part of the installed
    package: give --digits.
    """
    from protocol.idx import IdxError, load_digits

    if digits is None:
        raise click.UsageError(
            "give --digits PREFIX: handwritten digits in IDX format to fill the forms with "
            "(in a clone of the repository: --digits tests/fixtures/digits/heldout-300)"
        )
    try:
        load_digits(digits)
    except (OSError, IdxError) as e:
        raise click.ClickException(f"--digits {digits}: {e}") from e
    import logging

    from firmware.gallery import GALLERY, GalleryError, render_screens

    logging.getLogger("firmware.kit").setLevel(logging.ERROR)  # its refusals are the point
    try:
        written = render_screens(out, digits, seed=seed, only=only, compact=compact)
    except GalleryError as e:
        raise click.ClickException(str(e)) from e
    for path in written:
        click.echo(f"{path}  {GALLERY[path.stem]}")
