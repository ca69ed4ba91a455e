"""``tps-hub``: the regional hub's command line."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import click

from hub.broker_config import BrokerConfigError, render_broker_config
from hub.config import HubConfig, load_hub_config
from hub.errors import HubError


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


# --- the hub itself: run, migrate, import -------------------------------------------------

_CONFIG = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="TPS_HUB_CONFIG",
    default=Path("/etc/tps/hub.toml"),
    show_default=True,
    help="The hub's hub.toml (env TPS_HUB_CONFIG).",
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _load_config(config_path: Path) -> HubConfig:
    try:
        return load_hub_config(config_path)
    except HubError as e:
        raise click.ClickException(str(e)) from e


@main.command("run")
@_CONFIG
@click.option(
    "--validate-config",
    is_flag=True,
    help="Check hub.toml and every file it names, then exit (0: good).",
)
def run(config_path: Path, validate_config: bool) -> None:
    """Receive kits' results over MQTT: verify, store, log, acknowledge."""
    from hub import service

    config = _load_config(config_path)
    if validate_config:
        try:
            trust, signer = service.check_config(config, _now())
        except HubError as e:
            raise click.ClickException(str(e)) from e
        if config.broker is None:
            raise click.ClickException("broker: `tps-hub run` needs a [broker] section")
        click.echo(
            f"{config_path}: valid; hub {signer.hub_id}, region {trust.region}, "
            f"{len(trust.kits)} kits in the registry, {len(trust.revoked_serials)} revoked, "
            f"database {'postgresql' if config.database.is_postgres else config.database.url}, "
            f"broker {config.broker.host}:{config.broker.port}"
        )
        return
    if config.broker is None:
        raise click.ClickException("broker: `tps-hub run` needs a [broker] section")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from hub.worker import TlsFiles, Worker

    try:
        hub = service.open_hub(config, _now())
    except HubError as e:
        raise click.ClickException(str(e)) from e
    paths = config.paths
    worker = Worker(
        hub.ingestor,
        config.broker,
        TlsFiles(paths.ca_certificate, paths.certificate, paths.key),
        client_id=config.hub.id,
    )
    try:
        worker.run_forever()
    finally:
        hub.close()


@main.command("migrate")
@_CONFIG
def migrate(config_path: Path) -> None:
    """Bring the database's schema up to date (`run` and `import` also do this)."""
    from hub.store import LATEST, Database, migrations

    config = _load_config(config_path)
    try:
        db = Database.open(config.database.url)
        try:
            applied = migrations.migrate(db, _now().strftime("%Y-%m-%dT%H:%M:%SZ"))
        finally:
            db.close()
    except HubError as e:
        raise click.ClickException(str(e)) from e
    done = f"applied {applied}" if applied else "nothing to apply"
    click.echo(f"database schema at version {LATEST}: {done}")


@main.command("import")
@_CONFIG
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
def import_command(config_path: Path, directory: Path) -> None:
    """Ingest a kit's USB export (manifest.json and its files) as if it came over MQTT.

    Prints what happened to each file; exits non-zero if anything was rejected or missing.
    Accepted files stay stored whatever happens later in the export.
    """
    from hub import service
    from hub.usbimport import import_export

    config = _load_config(config_path)
    try:
        hub = service.open_hub(config, _now())
    except HubError as e:
        raise click.ClickException(str(e)) from e
    try:
        report = import_export(directory, hub.ingestor, _now, click.echo)
    except HubError as e:
        raise click.ClickException(str(e)) from e
    finally:
        hub.close()
    summary = ", ".join(f"{n} {what}" for what, n in sorted(report.counts.items()))
    click.echo(f"summary: {summary or 'nothing to import'}")
    if report.failed:
        raise SystemExit(1)
