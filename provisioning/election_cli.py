"""``tps-provision election``: the region's signed election manifest."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from protocol.forms.loader import load_template
from protocol.manifest_sign import sign_manifest, verify_manifest
from provisioning import election as making
from provisioning.authority import utc_now
from provisioning.cli import ca_dir_option, passphrase_option, quiet_option, unlock
from provisioning.files import write_atomic
from provisioning.regions import Kemendagri
from provisioning.rows import progress_bar, read_table, report

_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)


def _stderr(message: str) -> None:
    click.echo(message, err=True)


@click.group("election")
def election() -> None:
    """The election manifest: contests, candidates, region names and each TPS's DPT."""


@election.command("make")
@ca_dir_option
@passphrase_option
@click.option("--id", "election_id", required=True, help="Election id, e.g. pilkada-2024.")
@click.option("--name", required=True, help='Its name, e.g. "Pemilihan Serentak 2024".')
@click.option("--date", required=True, help="Voting day, YYYY-MM-DD.")
@click.option("--contests", "contests_path", required=True, type=_FILE, help="Contests (TOML).")
@click.option("--dpt", "dpt_path", required=True, type=_FILE, help="TPS and DPT L/P (CSV).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--failed",
    "failed_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where bad rows go (default: beside the CSV, NAME.failed.csv).",
)
@quiet_option
def make(
    ca_dir: Path,
    passphrase_file: Path | None,
    election_id: str,
    name: str,
    date: str,
    contests_path: Path,
    dpt_path: Path,
    out: Path,
    failed_out: Path | None,
    quiet: bool,
) -> None:
    """Make and sign the manifest (with the CA's key). A bad row of the DPT list fails the
    whole manifest: every bad row is listed, and written to a file to fix it in."""
    authority = unlock(ca_dir, passphrase_file)
    details = making.election_of(election_id, name, date)
    contests = making.read_contests(contests_path, load_template)
    table = read_table(dpt_path, ("dpt_l", "dpt_p"), making.DPT_COLUMNS)
    names = Kemendagri()
    with progress_bar(len(table.rows), "reading DPT", "TPS", quiet=quiet) as bar:
        outcome = making.read_dpt(table, authority.region, names, progress=bar.update)
    if not report(table, outcome, _stderr, failed_out=failed_out, whole=True):
        click.echo("no manifest written: every TPS must be in it", err=True)
        sys.exit(1)
    tps = dict(voters for _, voters in outcome.done)
    manifest = making.build_manifest(details, authority.region, contests, tps, names, load_template)
    signed = sign_manifest(manifest, authority.key, authority.cert)
    digest = verify_manifest(signed, authority.cert, at=utc_now(), load_template=load_template)
    write_atomic(out, signed)
    voters = sum(v.dpt_l + v.dpt_p for v in tps.values())
    click.echo(
        f"manifest of {election_id} for {manifest.regions.get(authority.region, '')} "
        f"({authority.region}): {len(contests)} contests, {len(tps)} TPS, {voters:,} voters "
        f"-> {out}\n  sha256 {digest.sha256}; check it with: tps-verify {out} --ca "
        f"{ca_dir / 'ca.cert.pem'}"
    )
