"""``tps-kit``: the kit's command line (the appliance daemon and one-shot tools)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import click
from cryptography.hazmat.primitives.serialization import Encoding

from edge.errors import PageRefusedError
from protocol import keys
from protocol.errors import ProtocolError


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
    help="A kit.toml: refuse pages of another TPS, election or form than this kit's.",
)
@click.option("--tps", help="Refuse pages of any other TPS.")
@click.option("--election", help="Refuse pages of any other election.")
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

    A page that cannot be read safely (another TPS or election, a covered corner mark, too
    dark or blurred, a page given twice) is refused: the message says why and what to do,
    and the exit status is 2.
    """
    from firmware.reading import format_report, read_pages  # heavy: OpenCV, onnxruntime

    try:
        report = read_pages(
            list(pages), config=config, tps=tps, election=election, model=model, card=card
        )
    except ProtocolError as e:
        raise click.ClickException(str(e)) from e
    except PageRefusedError as e:
        click.echo(f"refused: {e}", err=True)
        click.echo(f"screen: {e.pesan}", err=True)
        raise SystemExit(2) from e
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        click.echo(format_report(report))
