"""A region's kits in one sitting: enrolling and bundling them row by row.

Each row (of a CSV, or a TPS of the election manifest) is done or fails on its own
(provisioning/rows.py says how a failure is reported and kept for a rerun); a rerun does
again only what is left, since a TPS that already has its kit is passed over when the list
is the manifest's, and bundling a kit again writes the same bundle.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from protocol.kitconfig import KitConfig
from protocol.manifest_sign import VerifiedManifest
from provisioning.authority import Authority
from provisioning.bundle import write_bundle
from provisioning.enrol import EnrolledKit, active_kits, enrol_kit
from provisioning.rows import BadRow, Outcome, Row, Table, run_rows, tps_of


def enrol_rows(
    authority: Authority,
    table: Table,
    *,
    election: str,
    out: Path,
    days: int,
    progress: Callable[[], None] = lambda: None,
) -> Outcome[EnrolledKit]:
    """One kit per row, made in ``out``."""
    holders = active_kits(authority)

    def handle(row: Row) -> EnrolledKit:
        code = tps_of(row)
        return enrol_kit(
            authority, tps=code, election=election, out=out, days=days, holders=holders
        )

    return run_rows(table.rows, handle, key=tps_of, key_column="tps", progress=progress)


def without_kits(authority: Authority, codes: Sequence[str], election: str) -> list[str]:
    """The TPS of ``codes`` that no active kit of ``election`` serves yet."""
    served = {tps for tps, e in active_kits(authority) if e == election}
    return [c for c in codes if c not in served]


def bundle_rows(
    authority: Authority,
    table: Table,
    *,
    kits: Path,
    broker: str,
    forms: Sequence[str],
    manifest: VerifiedManifest,
    progress: Callable[[], None] = lambda: None,
    public_url: str = "",
    log_id: str = "",
) -> Outcome[KitConfig]:
    """The bundle of each row's TPS's active kit, whose directory is under ``kits``."""
    election = manifest.manifest.election.id
    active = active_kits(authority)

    def handle(row: Row) -> KitConfig:
        code = tps_of(row)
        kit_id = active.get((code, election))
        if kit_id is None:
            raise BadRow(f"no kit is enrolled for TPS {code} in {election}: enrol one", "tps")
        kit_dir = kits / kit_id
        if not kit_dir.is_dir():
            raise BadRow(f"{kit_id}'s directory is not in {kits}: give the --kits it was made in")
        return write_bundle(
            authority,
            kit_dir,
            broker=broker,
            forms=forms,
            manifest=manifest,
            public_url=public_url,
            log_id=log_id,
        )

    return run_rows(table.rows, handle, key=tps_of, key_column="tps", progress=progress)
