"""``tps-provision``: the technician's tools (regional CA, kit enrolment, forms)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from protocol.errors import ProtocolError
from provisioning import authority as ca
from provisioning import batch, bundle, enrol, inventory, registry, services
from provisioning.errors import ProvisioningError
from provisioning.files import write_atomic
from provisioning.manifests import read_manifest, read_manifest_for
from provisioning.rows import progress_bar, read_tps_table, report, tps_table

PASSPHRASE_ENV = "TPS_CA_PASSPHRASE"

ca_dir_option = click.option(
    "--ca",
    "ca_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="TPS_CA_DIR",
    required=True,
    help="The region's CA directory (or set TPS_CA_DIR).",
)
passphrase_option = click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help=f"Read the CA passphrase from this file (else ${PASSPHRASE_ENV}, else a prompt).",
)
quiet_option = click.option(
    "--quiet", "-q", is_flag=True, help="No progress bar (there is none when not on a terminal)."
)


def _passphrase(path: Path | None, *, confirm: bool = False) -> bytes:
    if path is not None:
        return path.read_text(encoding="utf-8").rstrip("\r\n").encode()
    if PASSPHRASE_ENV in os.environ:
        return os.environ[PASSPHRASE_ENV].encode()
    if not sys.stdin.isatty():
        raise ProvisioningError(f"no CA passphrase: give --passphrase-file or set {PASSPHRASE_ENV}")
    return click.prompt("CA passphrase", hide_input=True, confirmation_prompt=confirm).encode()


def unlock(ca_dir: Path, passphrase_file: Path | None) -> ca.Authority:
    return ca.load_ca(ca_dir, _passphrase(passphrase_file))


class _Group(click.Group):
    """Turns every ProvisioningError into one clear line on stderr and exit status 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (ProvisioningError, ProtocolError) as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tps-kit")
def main() -> None:
    """Prepare a region's kits before they ship: CA, enrolment, bundles, forms, revocation."""


@main.group("ca")
def ca_group() -> None:
    """The region's certificate authority (kept offline on this laptop)."""


@ca_group.command("init")
@ca_dir_option
@passphrase_option
@click.option("--region", required=True, help="Region code the CA serves, e.g. 31.71.")
@click.option("--name", required=True, help='Organisation, e.g. "KPU Kota Jakarta Selatan".')
@click.option("--days", default=730, show_default=True, help="CA certificate validity.")
def ca_init(ca_dir: Path, passphrase_file: Path | None, region: str, name: str, days: int) -> None:
    """Create the region's CA: an Ed25519 key encrypted with a passphrase, and its certificate."""
    authority = ca.init_ca(
        ca_dir,
        region=region,
        name=name,
        passphrase=_passphrase(passphrase_file, confirm=True),
        days=days,
    )
    click.echo(f"CA for region {authority.region} created in {ca_dir}")
    click.echo(f"  certificate: {ca_dir / ca.CERT_FILE} (give this to the hub and to verifiers)")
    click.echo(f"  key:         {ca_dir / ca.KEY_FILE} (encrypted; keep this laptop offline)")


@ca_group.command("show")
@ca_dir_option
def ca_show(ca_dir: Path) -> None:
    """Print the CA's region, validity and what it has issued and revoked (no passphrase)."""
    from protocol import certs

    try:
        cert = certs.load_certificate((ca_dir / ca.CERT_FILE).read_bytes())
        crl = certs.load_crl((ca_dir / ca.CRL_FILE).read_bytes())
    except OSError as e:
        raise ProvisioningError(f"{ca_dir} holds no CA: {e.strerror}") from e
    issued = list((ca_dir / ca.ISSUED_DIR).glob("*.cert.pem"))
    click.echo(f"region:   {certs.region_of(cert)}")
    click.echo(f"subject:  {cert.subject.rfc4514_string()}")
    click.echo(
        f"valid:    {cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d}"
    )
    click.echo(f"issued:   {len(issued)} certificates, {len(list(crl))} revoked")
    click.echo(f"CRL next update: {crl.next_update_utc:%Y-%m-%d}")


@main.group("kit")
def kit_group() -> None:
    """Enrol kits and write their configuration bundles."""


manifest_option = click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The region's signed election manifest (tps-provision election make).",
)
failed_option = click.option(
    "--failed",
    "failed_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where failed rows go (default: beside the CSV, or in the kits directory).",
)


@kit_group.command("enroll")
@ca_dir_option
@passphrase_option
@click.option("--election", help="Election id the kits are bound to (or the manifest's).")
@click.option("--tps", help="Enrol one kit for this TPS code.")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Enrol one kit per row of this CSV (a 'tps' column).",
)
@manifest_option
@click.option(
    "--csr",
    "csr_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Certify a kit's own CSR (made on the kit by `tps-kit keygen`); needs --tps.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for kit directories (or, with --csr, the certificate file to write).",
)
@click.option("--days", default=enrol.DEFAULT_DAYS, show_default=True, help="Validity.")
@failed_option
@quiet_option
def kit_enroll(
    ca_dir: Path,
    passphrase_file: Path | None,
    election: str | None,
    tps: str | None,
    csv_path: Path | None,
    manifest_path: Path | None,
    csr_path: Path | None,
    out: Path,
    days: int,
    failed_out: Path | None,
    quiet: bool,
) -> None:
    """Enrol kits: each makes its own key; the CA binds it to one TPS and the election.

    With --manifest alone, a kit for every TPS of the manifest that has none yet (so a
    rerun does only what is left)."""
    sources = [x for x in (tps, csv_path) if x is not None]
    if len(sources) > 1 or (not sources and manifest_path is None) or (csr_path and not tps):
        raise click.UsageError("give --tps CODE [--csr FILE], --csv FILE, or --manifest FILE")
    authority = unlock(ca_dir, passphrase_file)
    manifest = read_manifest(manifest_path, authority.cert) if manifest_path else None
    if manifest is not None:
        in_manifest = manifest.manifest.election.id
        if election not in (None, in_manifest):
            raise click.UsageError(f"--election {election} but the manifest is of {in_manifest}")
        election = in_manifest
    if election is None:
        raise click.UsageError("give --election (or --manifest)")
    if csr_path is not None:
        _enroll_csr(authority, csr_path, tps or "", election, out, days)
        return
    _make_out_dir(out)
    if tps is not None:
        kit = enrol.enrol_kit(authority, tps=tps, election=election, out=out, days=days)
        click.echo(f"{kit.kit_id}  TPS {kit.tps}  {election}  -> {kit.directory}")
        return
    if csv_path is not None:
        table = read_tps_table(csv_path)
    else:
        assert manifest is not None
        codes = list(manifest.manifest.tps)
        todo = batch.without_kits(authority, codes, election)
        if len(todo) < len(codes):
            click.echo(f"{len(codes) - len(todo)} TPS of the manifest already have a kit")
        table = tps_table(todo, out / "enroll.csv")
    with progress_bar(len(table.rows), "enrolling", "kit", quiet=quiet) as bar:
        outcome = batch.enrol_rows(
            authority, table, election=election, out=out, days=days, progress=bar.update
        )
    click.echo(f"enrolled {len(outcome.done)} of {len(table.rows)} kits into {out}")
    if not report(table, outcome, _stderr, failed_out=failed_out):
        sys.exit(1)


def _stderr(message: str) -> None:
    click.echo(message, err=True)


def _make_out_dir(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ProvisioningError(f"cannot create {out}: {e.strerror}") from e
    if not os.access(out, os.W_OK):
        raise ProvisioningError(f"{out} is not writable: choose another --out")


def _enroll_csr(
    authority: ca.Authority, csr_path: Path, tps: str, election: str, out: Path, days: int
) -> None:
    try:
        csr = x509.load_pem_x509_csr(csr_path.read_bytes())
    except ValueError as e:
        raise ProvisioningError(f"{csr_path} is not a PEM certificate request") from e
    kit = enrol.sign_request(authority, csr, tps=tps, election=election, days=days)
    write_atomic(out, kit.certificate.public_bytes(Encoding.PEM))
    click.echo(f"{kit.kit_id}  TPS {kit.tps}  {election}  certificate -> {out}")


@kit_group.command("bundle")
@ca_dir_option
@passphrase_option
@click.argument(
    "kit_dir", required=False, type=click.Path(file_okay=False, exists=True, path_type=Path)
)
@click.option("--broker", required=True, help="The hub site's broker as HOST:PORT.")
@click.option(
    "--public-url",
    default="",
    callback=lambda _ctx, _param, value: _public_url(value),
    help="The hub's public web address (https://...): the kit's receipt QR code then opens "
    "its /tanda-terima page for that receipt. Without it the QR code holds the receipt's text.",
)
@click.option(
    "--log-id",
    default="",
    callback=lambda _ctx, _param, value: _log_id(value),
    help="The hub's transparency log (hub.toml's [hub] log_id): the kit then takes an "
    "accepted ack only if it proves the result in that log (its -latihan log for a training "
    "election). Without it, a proof in any log a hub of the region signs is taken.",
)
@click.option(
    "--form",
    "forms",
    multiple=True,
    help="Form template id (repeat); with --manifest, only narrows its contests' forms.",
)
@manifest_option
@click.option("--all", "every", is_flag=True, help="Every TPS of the manifest (needs --kits).")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The TPS of this CSV ('tps' column; a failed-rows file); needs --kits, --manifest.",
)
@click.option(
    "--kits",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The directory kit enroll wrote the kit directories into.",
)
@failed_option
@quiet_option
def kit_bundle(
    ca_dir: Path,
    passphrase_file: Path | None,
    kit_dir: Path | None,
    broker: str,
    public_url: str,
    log_id: str,
    forms: tuple[str, ...],
    manifest_path: Path | None,
    every: bool,
    csv_path: Path | None,
    kits: Path | None,
    failed_out: Path | None,
    quiet: bool,
) -> None:
    """Complete enrolled kit directories into configuration bundles (kit.toml, the CA
    certificate and, with --manifest, the TPS's slice of it: names, DPT, forms).

    One KIT_DIR, or with --manifest and --kits: --all (every TPS of the manifest) or
    --csv FILE (a failed-rows file of an earlier run)."""
    if (kit_dir is not None) + every + (csv_path is not None) != 1:
        raise click.UsageError("give one KIT_DIR, --all or --csv FILE")
    if kit_dir is None and (kits is None or manifest_path is None):
        raise click.UsageError("--all and --csv need --kits DIR and --manifest FILE")
    authority = unlock(ca_dir, passphrase_file)
    manifest = read_manifest(manifest_path, authority.cert) if manifest_path else None
    if kit_dir is not None:
        config = bundle.write_bundle(
            authority,
            kit_dir,
            broker=broker,
            forms=forms,
            manifest=manifest,
            public_url=public_url,
            log_id=log_id,
        )
        click.echo(
            f"bundle for {config.kit.id} (TPS {config.kit.tps}; {', '.join(config.forms.ids)}) "
            f"written to {kit_dir}"
        )
        return
    assert kits is not None and manifest is not None
    if csv_path is not None:
        table = read_tps_table(csv_path)
    else:
        table = tps_table(list(manifest.manifest.tps), kits / "bundle.csv")
    with progress_bar(len(table.rows), "bundling", "kit", quiet=quiet) as bar:
        outcome = batch.bundle_rows(
            authority,
            table,
            kits=kits,
            broker=broker,
            forms=forms,
            manifest=manifest,
            progress=bar.update,
            public_url=public_url,
            log_id=log_id,
        )
    click.echo(f"bundled {len(outcome.done)} of {len(table.rows)} kits in {kits}")
    if not report(table, outcome, _stderr, failed_out=failed_out):
        sys.exit(1)


def _public_url(value: str) -> str:
    from protocol.errors import FieldError
    from protocol.receipt import check_public_url

    try:
        return value and check_public_url(value, "--public-url")
    except FieldError as e:
        raise click.BadParameter(e.reason) from e


def _log_id(value: str) -> str:
    from protocol.errors import FieldError
    from protocol.ids import TRAINING_LOG_SUFFIX, check_id

    if not value:
        return value
    try:
        check_id(value, "--log-id")
        check_id(value + TRAINING_LOG_SUFFIX, "--log-id (with its training suffix)")
        return value
    except FieldError as e:
        raise click.BadParameter(e.reason) from e


@main.group("kits")
def kits_group() -> None:
    """The region's kits: which kit serves which TPS."""


@kits_group.command("list")
@ca_dir_option
@manifest_option
@click.option(
    "--csv",
    "csv_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the inventory as CSV here instead of printing it.",
)
def kits_list(ca_dir: Path, manifest_path: Path | None, csv_out: Path | None) -> None:
    """Every kit the CA enrolled: its TPS, election, certificate serial, revoked or not (no
    passphrase). With --manifest, the TPS's names too, and each TPS with no kit yet."""
    manifest = read_manifest_for(manifest_path, ca_dir).manifest if manifest_path else None
    records = inventory.kit_records(ca_dir, manifest)
    if csv_out is not None:
        write_atomic(csv_out, inventory.records_csv(records))
    else:
        for r in records:
            place = f"  {r.desa}, {r.kecamatan}" if r.desa else ""
            click.echo(
                f"{r.tps}  {r.kit or '-':<24} {r.election:<16} {r.serial or '-':<40} "
                f"{r.status}{place}"
            )
    counts = {s: sum(r.status == s for r in records) for s in ("active", "revoked", "missing")}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n or s != "missing")
    click.echo(f"{summary}" + (f" -> {csv_out}" if csv_out else ""), err=csv_out is None)


@main.group("registry")
def registry_group() -> None:
    """What the hub needs to know the region's kits."""


@registry_group.command("export")
@ca_dir_option
@passphrase_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def registry_export(ca_dir: Path, passphrase_file: Path | None, out: Path) -> None:
    """Write the region's registry (CA, revocation list, every kit) as JSON for the hub."""
    authority = unlock(ca_dir, passphrase_file)
    data = registry.registry_bytes(authority)
    write_atomic(out, data)
    summary = json.loads(data)
    click.echo(f"registry of {len(summary['kits'])} kits for region {authority.region} -> {out}")


@main.command("revoke")
@ca_dir_option
@passphrase_option
@click.argument("name")
def revoke(ca_dir: Path, passphrase_file: Path | None, name: str) -> None:
    """Revoke a lost or replaced kit (or hub): re-sign the CRL; give the hub the new one."""
    authority = unlock(ca_dir, passphrase_file)
    cert = ca.revoke(authority, name)
    click.echo(f"revoked {name} (serial {cert.serial_number:x}); new CRL: {ca_dir / ca.CRL_FILE}")
    click.echo("export the registry again and load it on the hub so it refuses this kit")


@main.group("crl")
def crl_group() -> None:
    """The region's certificate revocation list."""


@crl_group.command("refresh")
@ca_dir_option
@passphrase_option
def crl_refresh(ca_dir: Path, passphrase_file: Path | None) -> None:
    """Re-sign the CRL with a new validity window (do this before it expires)."""
    crl = ca.refresh_crl(unlock(ca_dir, passphrase_file))
    click.echo(f"CRL valid until {crl.next_update_utc:%Y-%m-%d}")


def _service_command(role: str, help_text: str) -> click.Command:
    @click.command("enroll", help=help_text)
    @ca_dir_option
    @passphrase_option
    @click.option("--name", required=True, help="Its name (CN); for a broker, its host name.")
    @click.option("--dns", multiple=True, help="DNS name in the certificate (repeat).")
    @click.option("--ip", "ips", multiple=True, help="IP address in the certificate (repeat).")
    @click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
    @click.option("--days", default=400, show_default=True)
    def command(
        ca_dir: Path,
        passphrase_file: Path | None,
        name: str,
        dns: tuple[str, ...],
        ips: tuple[str, ...],
        out: Path,
        days: int,
    ) -> None:
        authority = unlock(ca_dir, passphrase_file)
        services.enrol_service(
            authority,
            role=role,
            name=name,
            out=out,
            days=days,
            dns=dns,
            ips=ips,  # type: ignore[arg-type]
        )
        click.echo(f"{role} {name}: key, certificate and CA certificate in {out}")

    return command


@main.group("hub")
def hub_group() -> None:
    """The hub's own identity (signs acknowledgements and transparency-log tree heads)."""


@main.group("broker")
def broker_group() -> None:
    """The hub site's MQTT broker TLS identity."""


hub_group.add_command(_service_command("hub", "Make the hub's key and certificate."))
broker_group.add_command(_service_command("broker", "Make the broker's TLS key and certificate."))


def _register_groups() -> None:
    # Their modules take this module's options: imported once it is complete.
    from provisioning.election_cli import election
    from provisioning.forms.cli import forms

    main.add_command(forms)
    main.add_command(election)


_register_groups()
