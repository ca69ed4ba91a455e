"""``tps-kit``: the kit's command line (the appliance daemon and one-shot tools)."""

from __future__ import annotations

import socket
from pathlib import Path

import click
from cryptography.hazmat.primitives.serialization import Encoding

from protocol import keys


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
