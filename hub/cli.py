"""``tps-hub``: the regional hub's command line."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hub.broker_config import ACCESS_FILE, BrokerConfigError, render_broker_config
from hub.config import HubConfig, load_hub_config
from hub.errors import HubError
from hub.witness_cli import cosign_command, witness_command
from protocol.utctime import format_utc

if TYPE_CHECKING:  # the recap commands import their modules when run
    from hub.api.serve import BackgroundServer
    from hub.recap import Contest, RegionTotals
    from hub.recap.completeness import Expected
    from hub.store import ResultStore
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

_CONFIG = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="TPS_HUB_CONFIG",
    default=Path("/etc/tps-hub/hub.toml"),  # where the units and the README put it
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
@click.option(
    "--serve",
    "with_api",
    is_flag=True,
    help="Also serve the HTTP API and dashboard in this process ([api] host and port).",
)
def run(config_path: Path, validate_config: bool, with_api: bool) -> None:
    """Receive kits' results over MQTT: verify, store, log, acknowledge."""
    from hub import service

    config = _load_config(config_path)
    if validate_config:
        try:
            trust, signer = service.check_config(config, _now())
            manifests = service.config_manifests(config, _now())
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
@_CONFIG
@click.option("--host", help="Listen on this address instead of [api] host.")
@click.option("--port", type=click.IntRange(1, 65535), help="Listen on this port, not [api] port.")
def serve_command(config_path: Path, host: str | None, port: int | None) -> None:
    """Serve the HTTP JSON API and the dashboard page (read-only; the worker writes).

    The OpenAPI description is at /api/v1/openapi.json; the dashboard at /.
    """
    from hub.api.serve import app_from_config, serve

    config = _load_config(config_path)
    try:
        app = app_from_config(config, _registry(config))
    except HubError as e:
        raise click.ClickException(str(e)) from e
    host, port = host or config.api.host, port or config.api.port
    click.echo(f"dashboard and API at http://{host}:{port}/ (Ctrl-C to stop)")
    serve(app, host, port)


@main.command("migrate")
@_CONFIG
def migrate(config_path: Path) -> None:
    """Bring the database's schema up to date (`run` and `import` also do this)."""
    from hub.store import LATEST, Database, migrations

    config = _load_config(config_path)
    try:
        db = Database.open(config.database.url)
        try:
            applied = migrations.migrate(db, format_utc(_now()))
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


# --- the recapitulation: totals, exports, anomalies, the training debrief -----------------


def _open_store(config: HubConfig) -> ResultStore:
    from hub.store import ResultStore

    try:
        return ResultStore.open(config.database.url, now=_now())
    except HubError as e:
        raise click.ClickException(str(e)) from e


def _registry(config: HubConfig) -> tuple[RegistryKit, ...]:
    """The registry's kits, if hub.toml names a registry (for expected TPS and kits)."""
    from hub.trust import load_trust

    paths = config.paths
    if paths.registry is None:
        return ()
    try:
        return load_trust(paths.ca_certificate, paths.crl, paths.registry).kits
    except HubError as e:
        raise click.ClickException(str(e)) from e


def _expected(config: HubConfig, kits: tuple[RegistryKit, ...]) -> Expected | None:
    """The TPS the registry and the election manifests expect (None: neither says), as the
    API counts them."""
    from hub import service
    from hub.recap.completeness import expected_from

    try:
        manifests = service.config_manifests(config, _now())
    except HubError as e:
        raise click.ClickException(str(e)) from e
    return expected_from(kits, manifests)


def _percent(value: float | None) -> str:
    return "?" if value is None else f"{100 * value:.1f}%"


def _count_line(totals: RegionTotals) -> str:
    expected = "?" if totals.tps_expected is None else str(totals.tps_expected)
    return f"{totals.tps_reported}/{expected} TPS ({_percent(totals.completeness)})"


@main.command("recap")
@_CONFIG
@click.option("--election", help="Only this election (default: every one with results).")
@click.option("--form", help="Only this form (e.g. ppwp-plano).")
@click.option("--region", default="", help="Region code (PP, PP.KK, ...); default all.")
@click.option(
    "--level",
    type=click.Choice(["provinsi", "kabkota", "kecamatan", "desa", "tps"]),
    help="Also list every region at this level inside --region (default: one level down).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def recap_command(
    config_path: Path,
    election: str | None,
    form: str | None,
    region: str,
    level: str | None,
    as_json: bool,
) -> None:
    """Print the recapitulation's totals and completeness (TPS reported / expected).

    Training elections (latihan-...) are shown apart and never summed with real ones.
    """
    import json

    from hub.recap import RecapError, RecapReader
    from hub.recap.levels import check_level
    from hub.recap.oddities import stray_tps
    from protocol.limits import template_for

    config = _load_config(config_path)
    kits = _registry(config)
    expected = _expected(config, kits)
    store = _open_store(config)
    try:
        reader = RecapReader(store, expected, stray_tps(store.db, kits, expected))
        contests = [
            c
            for c in reader.contests()
            if (election is None or c.election == election) and (form is None or c.form == form)
        ]
        report = []
        for contest in contests:
            totals = reader.region(contest.election, contest.form, region)
            if totals is None:
                continue
            if level is None:
                parts = [] if totals.level == "tps" else reader.children(*_key(contest), region)
            else:
                parts = reader.level(*_key(contest), check_level(level), region)
            report.append((contest, totals, parts))
    except RecapError as e:
        raise click.ClickException(str(e)) from e
    finally:
        store.close()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "contests": [
                        {
                            "election": c.election,
                            "form": c.form,
                            "training": c.is_training,
                            "region": t.to_json_value(),
                            "regions": [p.to_json_value() for p in parts],
                        }
                        for c, t, parts in report
                    ]
                },
                sort_keys=True,
            )
        )
        return
    if not report:
        click.echo("no results recapitulated yet")
        return
    for contest, totals, parts in report:
        mark = " [LATIHAN: training, never in a real total]" if contest.is_training else ""
        where = totals.region or "(all)"
        click.echo(
            f"{contest.election} {contest.form} {where} ({totals.level}): "
            f"{_count_line(totals)}{mark}"
        )
        template = template_for(contest.form)
        labels = {f.id: f.label for _, f in template.fields()} if template else {}
        for field, value in totals.totals.items():
            click.echo(f"  {field:<10} {value:>12}  {labels.get(field, '')[:70]}")
        headline = [o.field for o in template.options] + ["V.C"] if template else []
        for part in parts:
            shown = " ".join(f"{f}={part.totals[f]}" for f in headline if f in part.totals)
            click.echo(f"  {part.level} {part.region}: {_count_line(part)}  {shown}")


def _key(contest: Contest) -> tuple[str, str]:
    return contest.election, contest.form


@main.command("recap-rebuild")
@_CONFIG
@click.option("--election", help="Only this election (default: all).")
def recap_rebuild_command(config_path: Path, election: str | None) -> None:
    """Recompute the recapitulation from the counting versions (after an upgrade from a
    hub without it, or when an export finds totals that do not add up)."""
    from hub.recap import rebuild

    store = _open_store(_load_config(config_path))
    try:
        count = rebuild(store, election)
    except HubError as e:
        raise click.ClickException(str(e)) from e
    finally:
        store.close()
    click.echo(f"recapitulation rebuilt from {count} counting versions")


@main.command("export-csv")
@_CONFIG
@click.option("--election", required=True)
@click.option("--form", required=True, help="The form, e.g. ppwp-plano.")
@click.option(
    "--region", required=True, help="Region code: desa PP.KK.CC.DDDD, kecamatan PP.KK.CC..."
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_csv_command(config_path: Path, election: str, form: str, region: str, out: Path) -> None:
    """Write a region's recapitulation as CSV in the D.HASIL layout (units as columns)."""
    from hub.recap import RecapError, export_csv
    from hub.recap.oddities import stray_tps

    config = _load_config(config_path)
    kits = _registry(config)
    expected = _expected(config, kits)
    store = _open_store(config)
    partial = out.with_name(out.name + ".part")
    try:
        with partial.open("w", newline="", encoding="utf-8") as handle:
            info = export_csv(
                store,
                handle,
                election=election,
                form=form,
                region=region,
                now=_now(),
                expected=expected,
                strays=stray_tps(store.db, kits, expected),
            )
        partial.replace(out)  # never leave half a form where the whole one is expected
    except RecapError as e:
        partial.unlink(missing_ok=True)
        raise click.ClickException(str(e)) from e
    finally:
        store.close()
    click.echo(
        f"wrote {out}: {election} {form} {region} ({info.level}), {len(info.columns)} columns, "
        f"{len(info.fields)} fields, log {info.log_name} size {info.tree_size}"
    )


@main.group("reports")
def reports_group() -> None:
    """Citizens' reports that a TPS's photo and numbers disagree (kept apart, never counted)."""


def _reports(config_path: Path):  # -> hub.reports.ReportStore
    from hub.reports import ReportStore

    config = _load_config(config_path)
    if config.paths.citizen_reports is None:
        raise click.ClickException(
            "hub.toml [paths] citizen_reports is not set: this hub takes no citizens' reports"
        )
    return ReportStore(config.paths.citizen_reports)


@reports_group.command("list")
@_CONFIG
@click.option("--all", "show_all", is_flag=True, help="Include resolved reports.")
def reports_list(config_path: Path, show_all: bool) -> None:
    """List the reports (open ones only, unless --all)."""
    store = _reports(config_path)
    try:
        found = store.listed(open_only=not show_all, limit=100_000)
    finally:
        store.close()
    for r in found:
        shown = "-" if r.shown_value is None else r.shown_value
        state = f" (resolved {r.resolved_at}: {r.resolution})" if r.resolved_at else ""
        click.echo(
            f"#{r.id} {r.created_at} {r.election} {r.form} {r.tps} {r.field}: hub shows "
            f"{shown}, the photo reads {r.read_value}; {r.note or '-'}{state}"
        )
    click.echo(f"{len(found)} reports")


@reports_group.command("resolve")
@_CONFIG
@click.argument("report_id", type=int)
@click.option("--note", required=True, help="What the operator found (shown to the public).")
def reports_resolve(config_path: Path, report_id: int, note: str) -> None:
    """Mark a report resolved, with what was found; the numbers stay as the kit signed them."""
    store = _reports(config_path)
    try:
        done = store.resolve(report_id, note)
    finally:
        store.close()
    if not done:
        raise click.ClickException(f"no open report #{report_id}")
    click.echo(f"report #{report_id} resolved")


@main.command("anomalies")
@_CONFIG
@click.option("--election", help="Only this election.")
@click.option(
    "--silent-after",
    type=click.IntRange(min=1),
    default=None,
    help="Minutes without a word from a kit before it is listed as silent "
    "(default: hub.toml's [api] silent_after, as the dashboard uses).",
)
@click.option(
    "--images-after",
    type=click.IntRange(min=1),
    help="Minutes after its result before a page image still missing is listed "
    "(default: hub.toml's [api] images_after, 60 unless set).",
)
@click.option("--all", "show_all", is_flag=True, help="Include resolved anomalies.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def anomalies_command(
    config_path: Path,
    election: str | None,
    silent_after: int | None,
    images_after: int | None,
    show_all: bool,
    as_json: bool,
) -> None:
    """List anomalies (broken rules, votes above the registered, numbers changed after the
    first report, a DPT other than the election manifest's, chain breaks, held results,
    clocks ahead), kits silent too long, page images still missing, and kits or TPS the
    registry does not know."""
    import dataclasses
    import json

    from hub.recap import list_anomalies, silent_kits
    from hub.recap.oddities import missing_images, unregistered

    config = _load_config(config_path)
    if silent_after is None:
        silent_after = config.api.silent_after
    kits = _registry(config)
    if images_after is None:
        images_after = config.api.images_after
    store = _open_store(config)
    try:
        found = list_anomalies(store.db, election=election, open_only=not show_all)
        silent = silent_kits(
            store.db,
            _now(),
            dt.timedelta(minutes=silent_after),
            registry=kits,
            election=election,
        )
        pages = missing_images(
            store.db, _now(), dt.timedelta(minutes=images_after), election=election
        )
        strangers = unregistered(
            store.db, kits, expected=_expected(config, kits), election=election
        )
    except HubError as e:
        raise click.ClickException(str(e)) from e
    finally:
        store.close()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "anomalies": [dataclasses.asdict(a) for a in found],
                    "silent_kits": [dataclasses.asdict(s) for s in silent],
                    "missing_images": [dataclasses.asdict(p) for p in pages],
                    "not_in_registry": [dataclasses.asdict(u) for u in strangers],
                },
                sort_keys=True,
            )
        )
        return
    for a in found:
        state = f" (resolved {a.resolved_at})" if a.resolved_at else ""
        click.echo(
            f"{a.detected_at} {a.kind} {a.election or '-'} {a.tps or '-'}: {a.detail}{state}"
        )
    for s in silent:
        since = f"last heard {s.last_seen}" if s.last_seen else "never heard from"
        click.echo(f"silent-kit {s.kit} {s.election or '-'} {s.tps or '-'}: {since}")
    for p in pages:
        click.echo(
            f"images-missing {p.election} {p.tps}: {p.form} seq {p.seq} of kit {p.kit} "
            f"(received {p.received_at}) names page {p.page} image {p.sha256[:12]}, not here"
        )
    for u in strangers:
        what = "kit not in the registry" if u.reason == "kit" else "TPS the registry lacks"
        click.echo(f"not-in-registry {u.kit} {u.election} {u.tps}: {what}")
    click.echo(f"{len(found)} anomalies, {len(silent)} kits silent over {silent_after} min")
    if pages or strangers:
        click.echo(
            f"{len(pages)} page images missing over {images_after} min, "
            f"{len(strangers)} kits not in the registry"
        )


@main.command("debrief")
@_CONFIG
@click.option("--election", required=True, help="The training election (latihan-...).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def debrief_command(config_path: Path, election: str, as_json: bool) -> None:
    """The trainer's per-kit view of a training election: scans, rescans, doubts raised,
    corrections, and paper mistakes caught where kits report them."""
    import json

    from hub.recap import RecapError, debrief

    config = _load_config(config_path)
    kits = _registry(config)
    store = _open_store(config)
    try:
        lines = debrief(store.db, election, registry=kits)
    except RecapError as e:
        raise click.ClickException(str(e)) from e
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps({"election": election, "kits": [x.to_json_value() for x in lines]}))
        return
    click.echo(f"{'kit':<24} {'tps':<18} scans rescans doubts entered corrections paper-mistakes")
    for x in lines:
        mistakes = "n/a" if x.paper_mistakes is None else str(x.paper_mistakes)
        click.echo(
            f"{x.kit:<24} {x.tps or '-':<18} {x.scans:>5} {x.rescans:>7} {x.doubts:>6} "
            f"{x.entered:>7} {x.corrections:>11} {mistakes:>14}"
        )
    click.echo(
        "paper mistakes: not in signed results (a kit never signs one); n/a until kits "
        "report the counter in their status heartbeat"
    )


# -- operator decisions: recorded with who and why, never deleted ------------------------------

_BY = click.option("--by", "decided_by", required=True, help="Who decides (name, role).")
_REASON = click.option("--reason", required=True, help="Why, for the record.")


@main.command("declare-compromised")
@_CONFIG
@click.option("--kit", required=True, help="The kit id (its certificate's CN).")
@_BY
@_REASON
def declare_compromised_command(config_path: Path, kit: str, decided_by: str, reason: str) -> None:
    """Declare a kit compromised: none of its results count, before or after its revocation.

    Revoke it as well (`tps-provision revoke`, then the new CRL on the hub and broker);
    revocation alone keeps what the hub received before it. Each TPS the kit counted for
    falls back to another kit's newest version, or to no count, and the recapitulation is
    rebuilt for the elections it touched.
    """
    from hub.decide import declare_compromised
    from hub.store.results import utc_text

    store = _open_store(_load_config(config_path))
    try:
        moved = declare_compromised(store, kit, decided_by, reason, utc_text(_now()))
    except HubError as e:
        raise click.ClickException(str(e)) from e
    finally:
        store.close()
    for f in moved:
        now_counts = "no count" if f.document_id is None else f"document {f.document_id}"
        click.echo(
            f"{f.election} {f.tps} {f.form}: was document {f.previous_document_id}, "
            f"now {now_counts}"
        )
    click.echo(f"kit {kit} declared compromised; {len(moved)} counting versions moved")


@main.command("hold")
@_CONFIG
@click.option("--document", "document_sha256", required=True, help="The document's SHA-256.")
@click.option(
    "--release/--keep-out",
    required=True,
    help="Add the held result to the totals, or record that it stays out.",
)
@_BY
@_REASON
def hold_command(
    config_path: Path, document_sha256: str, release: bool, decided_by: str, reason: str
) -> None:
    """Decide on a result held out of the totals as "perlu verifikasi" (its numbers break a
    hard limit of its form: a broken sum, above the TPS's size or its registered voters).

    Check it against the paper form first (its photo is on the dashboard). Releasing adds it
    to the totals; keeping it out leaves its TPS uncounted until a correct version arrives.
    """
    from hub.decide import decide_held
    from hub.store.results import utc_text

    store = _open_store(_load_config(config_path))
    try:
        counting = decide_held(
            store, document_sha256, release, decided_by, reason, utc_text(_now())
        )
    except HubError as e:
        raise click.ClickException(str(e)) from e
    finally:
        store.close()
    verb = "released into" if release else "kept out of"
    moved = "; the recapitulation was rebuilt" if counting and release else ""
    click.echo(f"document {document_sha256[:12]} {verb} the totals{moved}")


main.add_command(witness_command)
main.add_command(cosign_command)
