"""``tps-verify``: anyone's check of a signed result, with only the region's CA certificate.

With the hub's certificate (itself checked against the CA) it also checks the hub's proofs
(protocol/proofs.py): that the result is in the hub's transparency log, and that the log
only grew between two signed tree heads. Every check is printed on its own line.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from protocol import certs, checkpoint, proofs, result, treehead
from protocol import hubfetch as fetch
from protocol.errors import ProtocolError, VerificationError
from protocol.utctime import SHAPE, parse_utc
from protocol.witness_options import quorum as witness_quorum
from protocol.witness_options import witness_options
from protocol.witnessing import Quorum


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


@dataclass
class _Trust:
    """What the proofs are checked against; ``hub`` is set once the hub certificate holds."""

    ca_cert: x509.Certificate
    crl: x509.CertificateRevocationList | None
    at: dt.datetime
    log_id: str | None
    hub_cert: x509.Certificate
    kept_head: bytes | None = None  # the signed tree head the reader kept (--old-tree-head)
    hub: certs.Identity | None = None  # set once the hub certificate is checked

    def head(self, data: bytes) -> treehead.TreeHead:
        verified = proofs.verify_head(data, self.hub_cert, self.ca_cert, self.at, crl=self.crl)
        return verified.head


def check_inclusion(report: Report, entry: bytes, proof: bytes, trust: _Trust) -> None:
    """That the hub logged ``entry`` (the signed result's bytes), one check per line."""
    doc = report.run("inclusion proof document", lambda: proofs.parse_inclusion(proof))
    if doc is None or trust.hub is None:
        return  # a head signed by an untrusted certificate proves nothing
    report.run("inclusion proof is for this result", lambda: proofs.check_subject(doc, entry))
    head = report.run(
        f"tree head signed by hub {trust.hub.name}", lambda: trust.head(doc.tree_head)
    )
    if head is None:
        return
    report.facts["inclusion"] = {"leaf_index": doc.leaf_index, **_head_facts(head)}
    report.run(
        f"tree head is of log {doc.log_id}, size {doc.tree_size}",
        lambda: proofs.check_head_of_inclusion(doc, head, trust.log_id),
    )
    report.run(
        f"result included at leaf {doc.leaf_index} of {head.tree_size}",
        lambda: proofs.check_leaf(doc, head, entry),
    )
    document = report.facts.get("document")
    if document is not None:
        report.run(
            "log holds this kind of result (real or training)",
            lambda: proofs.check_log_kind(doc, document.election),
        )


def check_consistency(report: Report, proof: bytes, trust: _Trust) -> None:
    """That the hub's log at the newer head extends the log at the older one."""
    doc = report.run("consistency proof document", lambda: proofs.parse_consistency(proof))
    if doc is None or trust.hub is None:
        return
    old = report.run(
        f"old tree head signed by hub {trust.hub.name}", lambda: trust.head(doc.old_tree_head)
    )
    new = report.run(
        f"new tree head signed by hub {trust.hub.name}", lambda: trust.head(doc.new_tree_head)
    )
    if old is None or new is None:
        return
    report.facts["consistency"] = {"old": _head_facts(old), "new": _head_facts(new)}
    report.run(
        f"tree heads are of log {doc.log_id}, sizes {doc.old_size} and {doc.new_size}",
        lambda: proofs.check_heads_of_consistency(doc, old, new, trust.log_id),
    )
    report.run(
        f"head of size {new.tree_size} not dated before the head of size {old.tree_size}",
        lambda: proofs.check_time_order(old, new),
    )
    report.run(
        f"log at size {new.tree_size} extends the log at size {old.tree_size} (not rewritten)",
        lambda: proofs.check_extends(doc, old, new),
    )
    kept_bytes = trust.kept_head
    if kept_bytes is not None:
        kept = report.run(
            f"kept tree head signed by hub {trust.hub.name}",
            lambda: trust.head(_signed_head(kept_bytes)),
        )
        if kept is not None:
            report.run(
                "the proof starts from the tree head you kept",
                lambda: proofs.check_kept_head(kept, old),
            )


def _signed_head(data: bytes) -> bytes:
    """A kept tree head as the API gives it ({"tree_head": base64, ...}) or as the bare
    signed envelope; what is not recognisable goes on as-is and fails its signature check."""
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return data
    if isinstance(value, dict) and isinstance(value.get("tree_head"), str):
        try:
            return base64.b64decode(value["tree_head"], validate=True)
        except binascii.Error:
            return data
    return data


def _head_facts(head: treehead.TreeHead) -> dict[str, Any]:
    return {
        "log_id": head.log_id,
        "tree_size": head.tree_size,
        "root_hash": head.root_hash.hex(),
        "timestamp": head.timestamp,
    }


@dataclass(frozen=True)
class Unchecked:
    """Something tps-verify did not check, and why: printed before any VALID."""

    what: str  # short: "kit revocation", "logging", "CA origin"
    why: str


def ca_origin(fingerprint: str) -> Unchecked:
    return Unchecked(
        "CA origin",
        "the CA certificate came from the hub itself: compare its SHA-256 fingerprint "
        f"{fingerprint} with the one the region's KPU publishes",
    )


_NO_CRL = "no revocation list: give --crl, or --hub of a hub that publishes one"


def unchecked(
    report: Report,
    *,
    crl_given: bool,
    ca_fingerprint: str | None,
    consistency_given: bool = False,
    kept_head_given: bool = False,
) -> list[Unchecked]:
    """What a VALID would not cover, given what was checked."""
    missing = [] if ca_fingerprint is None else [ca_origin(ca_fingerprint)]
    result_checked = report.facts.get("document") is not None
    if not crl_given and result_checked:
        missing.append(
            Unchecked("kit revocation", f"the kit's certificate may have been revoked: {_NO_CRL}")
        )
    if not crl_given and report.facts.get("hub") is not None:
        missing.append(
            Unchecked(
                "hub revocation",
                f"the hub's certificate, which signs its tree heads, may have been revoked: "
                f"{_NO_CRL}",
            )
        )
    if result_checked and "inclusion" not in report.facts:
        missing.append(
            Unchecked(
                "logging",
                "that the hub logged this result: give --inclusion and --hub-cert, or --hub",
            )
        )
    if "inclusion" in report.facts and "witnessed" not in report.facts:
        missing.append(
            Unchecked(
                "witnesses",
                "that anyone but the hub vouches for the log this result is in: give --hub "
                "with --witness VKEY for the witnesses you trust (GET /api/v1/trust/witnesses "
                "lists those the hub asks)",
            )
        )
    if consistency_given and not kept_head_given:
        missing.append(
            Unchecked(
                "kept head",
                "that the proof starts from a tree head you kept, not one the hub chose: give "
                "--old-tree-head with the head you saved earlier (GET /api/v1/logs/LOG/tree-head)",
            )
        )
    return missing


def verdict(ok: bool, missing: list[Unchecked]) -> str:
    if not ok:
        return "VERDICT: NOT VALID"
    if not missing:
        return "VERDICT: VALID"
    return f"VERDICT: VALID (not checked: {', '.join(m.what for m in missing)})"


def print_verdict(ok: bool, missing: list[Unchecked]) -> None:
    """Each thing not checked on a line of its own, then the verdict that names them."""
    for m in missing:
        click.echo(f"[--] {m.what} not checked: {m.why}")
    click.echo(verdict(ok, missing))


def not_checked_json(missing: list[Unchecked]) -> list[dict[str, str]]:
    return [{"check": m.what, "why": m.why} for m in missing]


def _print(report: Report, missing: list[Unchecked]) -> None:
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
            click.echo(f"  {field_id:<14} {value:>5}   {evidence['decision']}")
    _print_log_facts(report)
    for name, error in report.checks:
        click.echo(
            f"[{'ok' if error is None else 'FAIL'}] {name}" + (f": {error}" if error else "")
        )
    print_verdict(report.ok, missing)


_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("signed_result", required=False)
@click.option(
    "--ca",
    "ca_path",
    type=_FILE,
    help="The region CA certificate (PEM), as the region's KPU publishes it; with --hub, "
    "the hub's copy is used if this is left out (and its fingerprint shown to compare).",
)
@click.option(
    "--hub",
    "hub_url",
    metavar="URL",
    help="Fetch from this hub what is not given by hand: the result (SIGNED_RESULT may be "
    "its document SHA-256), the CA certificate, the CRL, the hub's certificate and the "
    "result's inclusion proof.",
)
@click.option(
    "--election",
    metavar="ELECTION_ID",
    help="With --hub: check this election's signed manifest as the hub publishes it (its "
    "contests, candidates and every TPS's DPT), instead of a result.",
)
@click.option("--crl", "crl_path", type=_FILE, help="The region's revocation list (PEM).")
@click.option(
    "--inclusion",
    "inclusion_path",
    type=_FILE,
    metavar="PROOF.json",
    help="Also check that the hub logged SIGNED_RESULT: its inclusion proof (tps-inclusion/1).",
)
@click.option(
    "--consistency",
    "consistency_path",
    type=_FILE,
    metavar="PROOF.json",
    help="Check that the hub's log at a newer tree head extends the log at an older one "
    "(nothing removed or rewritten): a consistency proof (tps-consistency/1).",
)
@click.option(
    "--hub-cert",
    "hub_cert_path",
    type=_FILE,
    help="The hub's certificate (PEM), issued by the region CA; needed by --inclusion and "
    "--consistency.",
)
@click.option(
    "--old-tree-head",
    "kept_head_path",
    type=_FILE,
    metavar="HEAD.json",
    help="With --consistency: the signed tree head you kept earlier (as GET "
    "/api/v1/logs/LOG/tree-head gave it); the proof must start from exactly that head.",
)
@click.option(
    "--log",
    "log_id",
    metavar="LOG_ID",
    help="Require the proofs to be of this log (training results are in '<LOG_ID>-latihan').",
)
@click.option(
    "--at", "at_text", help="Judge validity at this UTC time (YYYY-MM-DDTHH:MM:SSZ); default now."
)
@witness_options("the checkpoint the result is in (with --hub)")
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
def main(
    signed_result: str | None,
    ca_path: Path | None,
    hub_url: str | None,
    election: str | None,
    crl_path: Path | None,
    inclusion_path: Path | None,
    consistency_path: Path | None,
    hub_cert_path: Path | None,
    kept_head_path: Path | None,
    log_id: str | None,
    at_text: str | None,
    witness_keys: tuple[str, ...],
    witnesses_required: int | None,
    as_json: bool,
) -> None:
    """Check a signed TPS result: who signed it, for which TPS and election, and whether the
    signature, the certificate chain, the revocation list and the binding all hold. Given
    the region's signed election manifest instead, check that the region's CA signed it.

    With --inclusion, also check that the hub logged this exact result in its transparency
    log. With --consistency (SIGNED_RESULT may then be left out), check that the hub's log
    only grew between two of its signed tree heads.

    With --hub URL, whatever is not given by hand is fetched from that hub (SIGNED_RESULT
    may then be a document's SHA-256, as a kit's receipt shows it), and the result's
    inclusion in the hub's log is checked too.
    With --witness (and --hub), also that the result is in the newest checkpoint those
    witnesses cosigned, so the log it is in is not the hub's word alone.

    It never says VALID without saying what it did not check (the kit's and the hub's
    revocation without a CRL, logging without a proof, a consistency proof from a head you
    did not keep, a CA certificate taken from the hub itself, a manifest's being the latest).

    `tps-verify recount --help`: recount a hub's whole log and compare with its published
    recapitulation.

    Exits 0 only when every check holds."""
    hub = _hub(hub_url)
    if ca_path is None and hub is None:
        raise click.UsageError("give --ca (the region CA certificate) or --hub URL")
    quorum = witness_quorum(witness_keys, witnesses_required)
    if quorum is not None and (hub is None or signed_result is None or election is not None):
        raise click.UsageError(
            "--witness checks the checkpoint a result is in, as a hub publishes it: give "
            "--hub URL and the result"
        )
    if election is not None:
        _check_election_usage(hub, signed_result, inclusion_path, consistency_path)
        where = fetch.manifest_url(election)
        data = _fetched(lambda: _need(hub, where, f"a manifest of election {election!r}"))
    else:
        _check_usage(signed_result, inclusion_path, consistency_path, hub_cert_path or hub)
        data = _fetched(lambda: _signed_bytes(signed_result, hub))
    if kept_head_path is not None and consistency_path is None:
        raise click.UsageError("--old-tree-head is checked against a --consistency proof")
    ca_pem = ca_path.read_bytes() if ca_path else _fetched(lambda: _need(hub, fetch.CA, "CA"))
    crl_pem = crl_path.read_bytes() if crl_path else _fetched(lambda: _get(hub, fetch.CRL))
    hub_pem = (
        hub_cert_path.read_bytes()
        if hub_cert_path
        else _fetched(lambda: _get(hub, fetch.HUB_CERTIFICATE))
    )
    ca_cert, crl, hub_cert = _load_trust(ca_pem, crl_pem, hub_pem)
    ca_from_hub = None if ca_path else certs.fingerprint_sha256(ca_cert)
    at = _parse_time(at_text) if at_text else dt.datetime.now(dt.UTC)
    from protocol.manifest_cli import (
        check_manifest,
        is_signed_manifest,
        manifest_unchecked,
        print_manifest,
    )

    if data is not None and (election is not None or is_signed_manifest(data)):
        report = check_manifest(data, ca_cert, at, election)
        print_manifest(report, manifest_unchecked(report, ca_from_hub), as_json)
        sys.exit(0 if report.ok else 1)
    report = check(data, ca_cert, crl, at) if data is not None else Report()
    asked = _asked_sha(signed_result)
    if asked is not None and data is not None:
        # A hub may not answer a receipt's hash with another signed result, however valid.
        report.run("document", lambda: _is_asked(asked, report.facts.get("sha256")))
    proof = inclusion_path.read_bytes() if inclusion_path else None
    sha = report.facts.get("sha256")
    if proof is None and hub is not None and sha is not None:
        proof = _fetched(lambda: _get(hub, fetch.inclusion_url(sha)))
    if hub_cert is not None:
        kept = kept_head_path.read_bytes() if kept_head_path else None
        trust = _Trust(ca_cert, crl, at, log_id, hub_cert, kept)
        _check_proofs(report, trust, data, proof, consistency_path)
        included = report.facts.get("inclusion")
        if quorum is not None and hub is not None and data is not None and included:
            _check_witnessed(report, trust, hub, quorum, data, sha, included)
    missing = unchecked(
        report,
        crl_given=crl is not None,
        ca_fingerprint=ca_from_hub,
        consistency_given=consistency_path is not None,
        kept_head_given=kept_head_path is not None,
    )
    if as_json:
        click.echo(json.dumps(_as_json(report, missing), indent=2))
    else:
        _print(report, missing)
    sys.exit(0 if report.ok else 1)


def _check_witnessed(
    report: Report,
    trust: _Trust,
    hub: fetch.HubSource,
    quorum: Quorum,
    entry: bytes,
    sha: str,
    included: dict[str, Any],
) -> None:
    from protocol.verify_witnessed import check_witnessed

    log = included["log_id"]
    # The inclusion was checked, so the hub certificate already held against the CA and CRL.
    public_key = trust.hub_cert.public_key()
    assert isinstance(public_key, Ed25519PublicKey)  # the hub profile, checked with it
    key = checkpoint.verifier_for(log, public_key)
    signed = _fetched(lambda: hub.get(fetch.witnessed_checkpoint_url(log)))
    check_witnessed(
        report,
        entry,
        included["leaf_index"],
        log,
        key,
        quorum,
        signed,
        lambda size: hub.get(fetch.inclusion_url(sha, tree_size=size)),
    )


def _hub(url: str | None) -> fetch.HubSource | None:
    if url is None:
        return None
    try:
        return fetch.HubSource(url)
    except fetch.HubFetchError as e:
        raise click.BadParameter(str(e), param_hint="--hub") from e


def _fetched(step: Callable[[], bytes | None]) -> bytes | None:
    try:
        return step()
    except fetch.HubFetchError as e:
        raise click.ClickException(str(e)) from e


def _get(hub: fetch.HubSource | None, path: str) -> bytes | None:
    return None if hub is None else hub.get(path)


def _need(hub: fetch.HubSource | None, path: str, what: str) -> bytes:
    assert hub is not None  # the usage check asked for --ca or --hub
    return hub.need(path, what)


def _asked_sha(signed_result: str | None) -> str | None:
    """The document SHA-256 SIGNED_RESULT names, or None when it is a file."""
    if signed_result is None or Path(signed_result).is_file():
        return None
    return signed_result.lower()


def _is_asked(asked: str, served: str | None) -> None:
    if served != asked:
        raise VerificationError(
            f"the hub was asked for document {asked} and served {served or 'an unreadable one'}"
        )


def _signed_bytes(signed_result: str | None, hub: fetch.HubSource | None) -> bytes | None:
    """The signed result: a file, or with --hub the hub's copy of the document whose
    SHA-256 is given."""
    if signed_result is None:
        return None
    path = Path(signed_result)
    if path.is_file():
        return path.read_bytes()
    sha = signed_result.lower()
    if hub is not None and len(sha) == 64 and all(c in "0123456789abcdef" for c in sha):
        return hub.need(fetch.signed_url(sha), f"a document {sha}")
    raise click.BadParameter(
        f"{signed_result!r} is not a file" + ("" if hub is None else " nor a document SHA-256"),
        param_hint="SIGNED_RESULT",
    )


def _check_proofs(
    report: Report,
    trust: _Trust,
    signed: bytes | None,
    inclusion: bytes | None,
    consistency_path: Path | None,
) -> None:
    hub_cert = trust.hub_cert
    trust.hub = report.run(
        "hub certificate from the CA",
        lambda: certs.verify_issued(
            hub_cert, trust.ca_cert, role="hub", at=trust.at, crl=trust.crl
        ),
    )
    report.facts["hub"] = None if trust.hub is None else trust.hub.name
    if inclusion is not None and signed is not None:
        check_inclusion(report, signed, inclusion, trust)
    if consistency_path is not None:
        check_consistency(report, consistency_path.read_bytes(), trust)


def _check_usage(
    signed_result: str | None,
    inclusion_path: Path | None,
    consistency_path: Path | None,
    hub_cert_source: object | None,
) -> None:
    if inclusion_path is not None and signed_result is None:
        raise click.UsageError("--inclusion proves that SIGNED_RESULT was logged: give it too")
    if signed_result is None and consistency_path is None:
        raise click.UsageError("give a SIGNED_RESULT to check, or a --consistency proof")
    if (inclusion_path or consistency_path) and hub_cert_source is None:
        raise click.UsageError(
            "--inclusion and --consistency check tree heads signed by the hub: give --hub-cert"
        )


def _check_election_usage(
    hub: fetch.HubSource | None,
    signed_result: str | None,
    inclusion_path: Path | None,
    consistency_path: Path | None,
) -> None:
    if hub is None:
        raise click.UsageError(
            "--election fetches the election's manifest from a hub: give --hub URL (or give "
            "the manifest file itself as SIGNED_RESULT)"
        )
    if signed_result or inclusion_path or consistency_path:
        raise click.UsageError(
            "--election checks a manifest: give no SIGNED_RESULT, --inclusion or "
            "--consistency with it"
        )


def _load_trust(
    ca_pem: bytes | None, crl_pem: bytes | None, hub_pem: bytes | None
) -> tuple[x509.Certificate, x509.CertificateRevocationList | None, x509.Certificate | None]:
    assert ca_pem is not None  # given by hand, or the hub's (fetched or refused before)
    try:
        ca_cert = certs.load_certificate(ca_pem)
        crl = certs.load_crl(crl_pem) if crl_pem else None
        hub_cert = certs.load_certificate(hub_pem) if hub_pem else None
    except ProtocolError as e:
        raise click.ClickException(str(e)) from e
    return ca_cert, crl, hub_cert


def _print_log_facts(report: Report) -> None:
    hub = report.facts.get("hub")
    logged = report.facts.get("inclusion")
    if logged is not None:
        click.echo(
            f"logged:   leaf {logged['leaf_index']} of {logged['tree_size']} in log "
            f"{logged['log_id']}, tree head of {logged['timestamp']}, by hub {hub}"
        )
    extended = report.facts.get("consistency")
    if extended is not None:
        old, new = extended["old"], extended["new"]
        click.echo(
            f"log:      {new['log_id']} from size {old['tree_size']} ({old['timestamp']}, "
            f"root {old['root_hash'][:16]}…) to {new['tree_size']} ({new['timestamp']}, "
            f"root {new['root_hash'][:16]}…)"
        )


def _parse_time(text: str) -> dt.datetime:
    try:
        return parse_utc(text)
    except ValueError as e:
        raise click.BadParameter(f"{text!r} is not {SHAPE}", param_hint="--at") from e


def _as_json(report: Report, missing: list[Unchecked]) -> dict[str, Any]:
    document = report.facts.get("document")
    signer = report.facts.get("signer")
    return {
        "valid": report.ok,
        "not_checked": not_checked_json(missing),
        "checks": [{"check": n, "ok": e is None, "error": e} for n, e in report.checks],
        "signer": None
        if signer is None
        else {"kit": signer.name, "tps": signer.tps, "election": signer.election},
        "document": None if document is None else document.to_json_value(),
        "sha256": report.facts.get("sha256"),
        "hub": report.facts.get("hub"),
        "inclusion": report.facts.get("inclusion"),
        "consistency": report.facts.get("consistency"),
        "witnessed": report.facts.get("witnessed"),
    }


def cli() -> None:
    """The ``tps-verify`` command: ``tps-verify recount ...`` recounts a hub's log
    (protocol/recount_cli.py); anything else checks a signed result (:func:`main`)."""
    if sys.argv[1:2] == ["recount"]:
        from protocol.recount_cli import recount_command

        recount_command(args=sys.argv[2:], prog_name="tps-verify recount")
    main()
