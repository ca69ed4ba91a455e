"""``tps-hub`` operator commands: decisions recorded with who and why (a kit declared
compromised, a held result released or kept out) and citizens' reports."""

from __future__ import annotations

from pathlib import Path

import click

from hub.cli_common import CONFIG, load_config, now, open_store
from hub.errors import HubError


@click.group("reports")
def reports_group() -> None:
    """Citizens' reports that a TPS's photo and numbers disagree (kept apart, never counted)."""


def _reports(config_path: Path):  # -> hub.reports.ReportStore
    from hub.reports import ReportStore

    config = load_config(config_path)
    if config.paths.citizen_reports is None:
        raise click.ClickException(
            "hub.toml [paths] citizen_reports is not set: this hub takes no citizens' reports"
        )
    return ReportStore(config.paths.citizen_reports)


@reports_group.command("list")
@CONFIG
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
@CONFIG
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


# -- operator decisions: recorded with who and why, never deleted ------------------------------

_BY = click.option("--by", "decided_by", required=True, help="Who decides (name, role).")
_REASON = click.option("--reason", required=True, help="Why, for the record.")


@click.command("declare-compromised")
@CONFIG
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

    store = open_store(load_config(config_path))
    try:
        moved = declare_compromised(store, kit, decided_by, reason, utc_text(now()))
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


@click.command("hold")
@CONFIG
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

    store = open_store(load_config(config_path))
    try:
        counting = decide_held(store, document_sha256, release, decided_by, reason, utc_text(now()))
    except HubError as e:
        raise click.ClickException(str(e)) from e
    finally:
        store.close()
    verb = "released into" if release else "kept out of"
    moved = "; the recapitulation was rebuilt" if counting and release else ""
    click.echo(f"document {document_sha256[:12]} {verb} the totals{moved}")
