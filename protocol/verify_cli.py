"""``tps-verify``: anyone's check of a signed result, with only the region's CA certificate."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from cryptography import x509

from protocol import certs, result
from protocol.errors import ProtocolError


@dataclass
class Report:
    """Each check's outcome, in order; the result holds only if every one passed."""

    checks: list[tuple[str, str | None]] = field(default_factory=list)  # (name, error or None)
    facts: dict[str, Any] = field(default_factory=dict)

    def run(self, name: str, step: Callable[[], Any]) -> Any:
        try:
            value = step()
        except ProtocolError as e:
            self.checks.append((name, f"{type(e).__name__}: {e}"))
            return None
        self.checks.append((name, None))
        return value

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(error is None for _, error in self.checks)


def check(
    data: bytes,
    ca_cert: x509.Certificate,
    crl: x509.CertificateRevocationList | None,
    at: dt.datetime,
) -> Report:
    """Run every check that can run, so the reader sees all that holds and all that fails."""
    report = Report()
    parsed = report.run("envelope", lambda: result.parse_bundle(data))
    if parsed is None:
        return report
    envelope, cert = parsed
    signer = report.run(
        "certificate chain",
        lambda: certs.verify_issued(cert, ca_cert, role="kit", at=at, crl=None),
    )
    if crl is not None:
        report.run("not revoked", lambda: certs.check_not_revoked(cert, crl, ca_cert, at))
    payload = report.run("signature", lambda: result.check_signature(envelope, cert))
    if payload is None:
        return report
    document = report.run("document", lambda: result.parse_payload(payload))
    if document is not None:
        report.facts["document"] = document
        report.facts["sha256"] = result.sha256_hex(payload)
    if document is not None and signer is not None:
        report.run("binding (kit, TPS, election)", lambda: result.check_binding(document, signer))
    if signer is not None:
        report.facts["signer"] = signer
    return report


def _print(report: Report, crl_given: bool) -> None:
    document = report.facts.get("document")
    signer = report.facts.get("signer")
    if signer is not None:
        click.echo(f"signed by kit {signer.name}, bound to TPS {signer.tps}, {signer.election}")
    if document is not None:
        click.echo(
            f"document: {document.form} v{document.form_version}, TPS {document.tps}, "
            f"seq {document.seq}, captured {document.captured_at}"
        )
        click.echo(f"sha256:   {report.facts['sha256']}")
        for field_id, value in document.fields.items():
            evidence = document.evidence[field_id]
            click.echo(f"  {field_id:<14} {value:>5}   {evidence.decision}")
    for name, error in report.checks:
        click.echo(
            f"[{'ok' if error is None else 'FAIL'}] {name}" + (f": {error}" if error else "")
        )
    if not crl_given:
        click.echo("[--] revocation not checked (no --crl given)")
    click.echo("VERDICT: " + ("VALID" if report.ok else "NOT VALID"))


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("signed_result", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--ca",
    "ca_path",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The region CA certificate (PEM).",
)
@click.option(
    "--crl",
    "crl_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The region's revocation list (PEM).",
)
@click.option(
    "--at", "at_text", help="Judge validity at this UTC time (YYYY-MM-DDTHH:MM:SSZ); default now."
)
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
def main(
    signed_result: Path, ca_path: Path, crl_path: Path | None, at_text: str | None, as_json: bool
) -> None:
    """Check a signed TPS result: who signed it, for which TPS and election, and whether the
    signature, the certificate chain, the revocation list and the binding all hold.

    Exits 0 only when every check holds."""
    try:
        ca_cert = certs.load_certificate(ca_path.read_bytes())
        crl = certs.load_crl(crl_path.read_bytes()) if crl_path else None
    except ProtocolError as e:
        raise click.ClickException(str(e)) from e
    at = _parse_time(at_text) if at_text else dt.datetime.now(dt.UTC)
    report = check(signed_result.read_bytes(), ca_cert, crl, at)
    if as_json:
        click.echo(json.dumps(_as_json(report), indent=2))
    else:
        _print(report, crl is not None)
    sys.exit(0 if report.ok else 1)


def _parse_time(text: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError as e:
        raise click.BadParameter(f"{text!r} is not YYYY-MM-DDTHH:MM:SSZ", param_hint="--at") from e


def _as_json(report: Report) -> dict[str, Any]:
    document = report.facts.get("document")
    signer = report.facts.get("signer")
    return {
        "valid": report.ok,
        "checks": [{"check": n, "ok": e is None, "error": e} for n, e in report.checks],
        "signer": None
        if signer is None
        else {"kit": signer.name, "tps": signer.tps, "election": signer.election},
        "document": None if document is None else document.to_json_value(),
        "sha256": report.facts.get("sha256"),
    }
