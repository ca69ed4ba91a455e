"""``tps-hub`` recapitulation commands: totals, the rebuild, the D.HASIL CSV, anomalies and
the training debrief."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hub.cli_common import CONFIG, expected_tps, load_config, now, open_store, registry
from hub.errors import HubError

if TYPE_CHECKING:
    from hub.recap import Contest, RegionTotals


def _percent(value: float | None) -> str:
    return "?" if value is None else f"{100 * value:.1f}%"


def _count_line(totals: RegionTotals) -> str:
    expected = "?" if totals.tps_expected is None else str(totals.tps_expected)
    return f"{totals.tps_reported}/{expected} TPS ({_percent(totals.completeness)})"


@click.command("recap")
@CONFIG
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

    config = load_config(config_path)
    kits = registry(config)
    expected = expected_tps(config, kits)
    store = open_store(config)
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


@click.command("recap-rebuild")
@CONFIG
@click.option("--election", help="Only this election (default: all).")
def recap_rebuild_command(config_path: Path, election: str | None) -> None:
    """Recompute the recapitulation from the counting versions (after an upgrade from a
    hub without it, or when an export finds totals that do not add up)."""
    from hub.recap import rebuild

    store = open_store(load_config(config_path))
    try:
        count = rebuild(store, election)
    except HubError as e:
        raise click.ClickException(str(e)) from e
    finally:
        store.close()
    click.echo(f"recapitulation rebuilt from {count} counting versions")


@click.command("export-csv")
@CONFIG
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

    config = load_config(config_path)
    kits = registry(config)
    expected = expected_tps(config, kits)
    store = open_store(config)
    partial = out.with_name(out.name + ".part")
    try:
        with partial.open("w", newline="", encoding="utf-8") as handle:
            info = export_csv(
                store,
                handle,
                election=election,
                form=form,
                region=region,
                now=now(),
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


@click.command("anomalies")
@CONFIG
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

    from hub.recap import RegistryIndex, election_filter, list_anomalies, silent_kits
    from hub.recap.oddities import missing_images, unregistered

    config = load_config(config_path)
    if silent_after is None:
        silent_after = config.api.silent_after
    kits = registry(config)
    if images_after is None:
        images_after = config.api.images_after
    store = open_store(config)
    try:
        found = list_anomalies(store.db, election=election, open_only=not show_all)
        silent = silent_kits(
            store.db,
            RegistryIndex.of(kits),
            now(),
            dt.timedelta(minutes=silent_after),
            election_filter(election),
        ).kits
        pages = missing_images(
            store.db, now(), dt.timedelta(minutes=images_after), election=election
        )
        strangers = unregistered(
            store.db, kits, expected=expected_tps(config, kits), election=election
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
        what = (
            "kit not in the registry"
            if u.reason == "kit"
            else "TPS neither the registry nor the manifest expects"
        )
        click.echo(f"not-in-registry {u.kit} {u.election} {u.tps}: {what}")
    click.echo(f"{len(found)} anomalies, {len(silent)} kits silent over {silent_after} min")
    if pages or strangers:
        click.echo(
            f"{len(pages)} page images missing over {images_after} min, "
            f"{len(strangers)} kits not in the registry or reporting for a TPS nothing expects"
        )


@click.command("debrief")
@CONFIG
@click.option("--election", required=True, help="The training election (latihan-...).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def debrief_command(config_path: Path, election: str, as_json: bool) -> None:
    """The trainer's per-kit view of a training election: scans, rescans, doubts raised,
    corrections, and paper mistakes caught where kits report them."""
    import json

    from hub.recap import RecapError, debrief

    config = load_config(config_path)
    kits = registry(config)
    store = open_store(config)
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
