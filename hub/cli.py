"""``tps-hub``: the regional hub's command line."""

from __future__ import annotations

from pathlib import Path

import click

from hub.broker_config import BrokerConfigError, render_broker_config


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tps-kit")
def main() -> None:
    """The regional hub: verify kits' signed results, store them, recapitulate, prove."""


@main.command("broker-config")
@click.option("--port", default=8883, show_default=True, help="TLS port kits connect to.")
@click.option("--bind", "bind_address", default=None, help="Address to listen on (default all).")
@click.option(
    "--identity",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    required=True,
    help="The broker identity directory from `tps-provision broker enroll`.",
)
@click.option(
    "--hub-id",
    "hub_ids",
    multiple=True,
    required=True,
    help="Each hub worker's identity (its certificate CN); repeat per worker.",
)
@click.option(
    "--crl",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The region's CRL; the broker then refuses revoked kits at TLS (keep it fresh).",
)
@click.option(
    "--persistence",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("/var/lib/mosquitto"),
    show_default=True,
)
@click.option("--user", default="mosquitto", show_default=True, help="User mosquitto runs as.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
def broker_config(
    port: int,
    bind_address: str | None,
    identity: Path,
    hub_ids: tuple[str, ...],
    crl: Path | None,
    persistence: Path,
    user: str,
    out: Path,
) -> None:
    """Write the hub site's mosquitto.conf and ACL (TLS with client certificates)."""
    out.mkdir(parents=True, exist_ok=True)
    acl_file = out / "tps-hub.acl"
    try:
        conf, acl = render_broker_config(
            port=port,
            ca_file=identity / "ca.cert.pem",
            cert_file=identity / "broker.cert.pem",
            key_file=identity / "broker.key.pem",
            acl_file=acl_file,
            persistence_dir=persistence,
            hub_ids=hub_ids,
            bind_address=bind_address,
            crl_file=crl,
            run_as_user=user,
        )
    except BrokerConfigError as e:
        raise click.ClickException(str(e)) from e
    (out / "tps-hub.conf").write_text(conf)
    acl_file.write_text(acl)
    click.echo(
        f"wrote {out / 'tps-hub.conf'} and {acl_file}; run: mosquitto -c {out / 'tps-hub.conf'}"
    )
