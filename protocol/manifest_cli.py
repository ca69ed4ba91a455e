"""What ``tps-verify`` says of a signed election manifest (it tells one from a result)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import click
from cryptography import x509

from protocol.errors import BindingError
from protocol.forms.loader import load_template
from protocol.manifest_sign import VerifiedManifest, is_signed_manifest, verify_manifest
from protocol.verify_cli import (
    Report,
    Unchecked,
    ca_origin,
    not_checked_json,
    print_verdict,
)

__all__ = ["check_manifest", "is_signed_manifest", "manifest_unchecked", "print_manifest"]


def check_manifest(
    data: bytes, ca_cert: x509.Certificate, at: dt.datetime, election: str | None = None
) -> Report:
    """With ``election`` (the one asked of a hub), the manifest must be that election's: a
    hub could answer with another election's, validly signed all the same."""
    report = Report()
    verified = report.run(
        "election manifest signed by the region's CA, for its region, every form known",
        lambda: verify_manifest(data, ca_cert, at=at, load_template=load_template),
    )
    if verified is not None:
        report.facts["manifest"] = verified
        if election is not None:
            report.run("the election asked for", lambda: _is_election(verified, election))
    return report


def _is_election(verified: VerifiedManifest, election: str) -> None:
    served = verified.manifest.election.id
    if served != election:
        raise BindingError(f"the hub was asked for election {election!r} and served {served!r}")


def manifest_unchecked(report: Report, ca_fingerprint: str | None) -> list[Unchecked]:
    """What a VALID manifest would not cover: a signature carries no version, so whether the
    CA signed a later manifest for the same election cannot be told from this one."""
    missing = [] if ca_fingerprint is None else [ca_origin(ca_fingerprint)]
    verified: VerifiedManifest | None = report.facts.get("manifest")
    if verified is not None:
        missing.append(
            Unchecked(
                "latest version",
                "that the region's CA signed no later manifest for this election: compare its "
                f"sha256 {verified.sha256} with the one the hub lists "
                f"(GET /api/v1/elections/{verified.manifest.election.id})",
            )
        )
    return missing


def print_manifest(report: Report, missing: list[Unchecked], as_json: bool) -> None:
    verified: VerifiedManifest | None = report.facts.get("manifest")
    if as_json:
        click.echo(json.dumps(_as_json(report, verified, missing), indent=2))
        return
    if verified is not None:
        m = verified.manifest
        e = m.election
        click.echo(f"election: {e.id} ({e.kind}), {e.name}, {e.date}")
        click.echo(f"region:   {m.region} {m.regions.get(m.region, '')} (names: {m.region_source})")
        for c in m.contests:
            where = m.regions.get(c.region, "nationwide")
            names = "; ".join(f"{o.number}. {' / '.join(o.names)}" for o in c.options)
            click.echo(f"contest:  {c.form} in {where}: {names or '(no options listed)'}")
        voters = sum(v.dpt_l + v.dpt_p for v in m.tps.values())
        click.echo(f"TPS:      {len(m.tps)}, {voters} registered voters (DPT)")
        click.echo(f"sha256:   {verified.sha256}")
    for name, error in report.checks:
        click.echo(f"[FAIL] {name}: {error}" if error else f"[ok] {name}")
    print_verdict(report.ok, missing)


def _as_json(
    report: Report, verified: VerifiedManifest | None, missing: list[Unchecked]
) -> dict[str, Any]:
    return {
        "valid": report.ok,
        "not_checked": not_checked_json(missing),
        "checks": [{"check": n, "ok": e is None, "error": e} for n, e in report.checks],
        "manifest": None if verified is None else verified.manifest.to_json_value(),
        "sha256": None if verified is None else verified.sha256,
    }
