"""``tps-hub``: the regional hub's command line."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hub.broker_config import ACCESS_FILE, BrokerConfigError, render_broker_config
from hub.cli_common import CONFIG, load_config, now, registry
from hub.cli_operator import declare_compromised_command, hold_command, reports_group
from hub.cli_recap import (
    anomalies_command,
    debrief_command,
    export_csv_command,
    recap_command,
    recap_rebuild_command,
)
from hub.config import HubConfig
from hub.errors import HubError
from hub.witness_cli import cosign_command, witness_command, witness_refusals_command
from protocol.utctime import format_utc

if TYPE_CHECKING:  # the recap commands import their modules when run
    from hub.api.serve import BackgroundServer
    from hub.trust import RegistryKit


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
    "--registry",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="The registry (`tps-provision registry export`): only its kits may publish.",
)
@click.option(
    "--crl",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The region's CRL; the broker then refuses revoked kits at TLS (keep it fresh).",
)
@click.option(
    "--dynsec-plugin",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="mosquitto_dynamic_security.so, if not where Debian's mosquitto puts it.",
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
    registry: Path,
    crl: Path | None,
    dynsec_plugin: Path | None,
    persistence: Path,
    user: str,
    out: Path,
) -> None:
    """Write the hub site's mosquitto.conf and access file (who may publish and subscribe).

    Run it again after every registry export (a new or replacement kit) and restart
    mosquitto: a kit the access file does not list may neither publish nor subscribe.
    """
    from hub.trust import load_trust

    ca_file = identity / "ca.cert.pem"
    try:
        # The same checks as the hub's: the registry must be for this broker's CA.
        kits = load_trust(ca_file, None, registry).kits
    except HubError as e:
        raise click.ClickException(str(e)) from e
    out.mkdir(parents=True, exist_ok=True)
    access_file = out / ACCESS_FILE
    try:
        conf, access = render_broker_config(
            port=port,
            ca_file=ca_file,
            cert_file=identity / "broker.cert.pem",
            key_file=identity / "broker.key.pem",
            access_file=access_file,
            persistence_dir=persistence,
            hub_ids=hub_ids,
            kit_ids=[kit.kit for kit in kits],
            bind_address=bind_address,
            crl_file=crl,
            run_as_user=user,
            dynsec_plugin=dynsec_plugin,
        )
    except BrokerConfigError as e:
        raise click.ClickException(str(e)) from e
    (out / "tps-hub.conf").write_text(conf)
    access_file.write_text(access)
    click.echo(
        f"wrote {out / 'tps-hub.conf'} and {access_file} ({len(kits)} kits, {len(hub_ids)} "
        f"hub ids); run: mosquitto -c {out / 'tps-hub.conf'}"
    )


# --- the hub itself: run, migrate, import -------------------------------------------------


@main.command("run")
@CONFIG
@click.option(
    "--validate-config",
    is_flag=True,
    help="Check hub.toml and every file it names, then exit (0: good).",
)
@click.option(
    "--serve",
    "with_api",
    is_flag=True,
    help="Also serve the HTTP API and dashboard in this process ([api] host and port).",
)
def run(config_path: Path, validate_config: bool, with_api: bool) -> None:
    """Receive kits' results over MQTT: verify, store, log, acknowledge."""
    from hub import service

    config = load_config(config_path)
    if validate_config:
        try:
            trust, signer = service.check_config(config, now())
            manifests = service.config_manifests(config, now())
        except HubError as e:
            raise click.ClickException(str(e)) from e
        if config.broker is None:
            raise click.ClickException("broker: `tps-hub run` needs a [broker] section")
        click.echo(
            f"{config_path}: valid; hub {signer.hub_id}, region {trust.region}, "
            f"{len(trust.kits)} kits in the registry, {len(trust.revoked_serials)} revoked, "
            f"{len(manifests)} election manifests, "
            f"database {'postgresql' if config.database.is_postgres else config.database.url}, "
            f"broker {config.broker.host}:{config.broker.port}"
        )
        return
    if config.broker is None:
        raise click.ClickException("broker: `tps-hub run` needs a [broker] section")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from hub.worker import TlsFiles, Worker

    try:
        hub = service.open_hub(config, now())
    except HubError as e:
        raise click.ClickException(str(e)) from e
    paths = config.paths
    worker = Worker(
        hub.ingestor,
        config.broker,
        TlsFiles(paths.ca_certificate, paths.certificate, paths.key),
        client_id=config.hub.id,
    )
    api = _start_api(config, hub.trust.kits) if with_api else None
    try:
        worker.run_forever()
    finally:
        if api is not None:
            api.stop()
        hub.close()


def _start_api(config: HubConfig, kits: tuple[RegistryKit, ...]) -> BackgroundServer:
    from hub.api.serve import BackgroundServer, app_from_config

    app = app_from_config(config, kits)
    api = BackgroundServer(app, config.api.host, config.api.port)
    try:
        api.start()
    except HubError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"dashboard and API at {api.address} (OpenAPI: {api.address}api/v1/openapi.json)")
    return api


@main.command("serve")
@CONFIG
@click.option("--host", help="Listen on this address instead of [api] host.")
@click.option("--port", type=click.IntRange(1, 65535), help="Listen on this port, not [api] port.")
def serve_command(config_path: Path, host: str | None, port: int | None) -> None:
    """Serve the HTTP JSON API and the dashboard page (read-only; the worker writes).

    The OpenAPI description is at /api/v1/openapi.json; the dashboard at /.
    """
    from hub.api.serve import app_from_config, serve

    config = load_config(config_path)
    try:
        app = app_from_config(config, registry(config))
    except HubError as e:
        raise click.ClickException(str(e)) from e
    host, port = host or config.api.host, port or config.api.port
    click.echo(f"dashboard and API at http://{host}:{port}/ (Ctrl-C to stop)")
    serve(app, host, port)


@main.command("migrate")
@CONFIG
def migrate(config_path: Path) -> None:
    """Bring the database's schema up to date (`run` and `import` also do this)."""
    from hub.store import LATEST, Database, migrations

    config = load_config(config_path)
    try:
        db = Database.open(config.database.url)
        try:
            applied = migrations.migrate(db, format_utc(now()))
        finally:
            db.close()
    except HubError as e:
        raise click.ClickException(str(e)) from e
    done = f"applied {applied}" if applied else "nothing to apply"
    click.echo(f"database schema at version {LATEST}: {done}")


@main.command("import")
@CONFIG
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
def import_command(config_path: Path, directory: Path) -> None:
    """Ingest a kit's USB export (manifest.json and its files) as if it came over MQTT.

    Prints what happened to each file; exits non-zero if anything was rejected or missing.
    Accepted files stay stored whatever happens later in the export.
    """
    from hub import service
    from hub.usbimport import import_export

    config = load_config(config_path)
    try:
        hub = service.open_hub(config, now())
    except HubError as e:
        raise click.ClickException(str(e)) from e
    try:
        report = import_export(directory, hub.ingestor, now, click.echo)
    except HubError as e:
        raise click.ClickException(str(e)) from e
    finally:
        hub.close()
    summary = ", ".join(f"{n} {what}" for what, n in sorted(report.counts.items()))
    click.echo(f"summary: {summary or 'nothing to import'}")
    if report.failed:
        raise SystemExit(1)


for command in (
    witness_command,
    witness_refusals_command,
    cosign_command,
    recap_command,
    recap_rebuild_command,
    export_csv_command,
    anomalies_command,
    debrief_command,
    reports_group,
    declare_compromised_command,
    hold_command,
):
    main.add_command(command)
