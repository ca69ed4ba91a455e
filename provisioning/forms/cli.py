"""``tps-provision forms``: print blank forms (PDF) and list the shipped templates."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tqdm import tqdm

from protocol import certs
from protocol import tps as tps_codes
from protocol.errors import FieldError
from protocol.forms import loader
from protocol.ids import check_id
from protocol.manifest import Manifest
from provisioning.errors import ProvisioningError
from provisioning.manifests import read_manifest_for
from provisioning.rows import (
    BadRow,
    Row,
    progress_bar,
    read_tps_table,
    report,
    run_rows,
    tps_of,
    tps_table,
)


@click.group()
def forms() -> None:
    """Print blank Form C.Hasil pages and synthesize filled, photographed ones."""


@forms.command("list")
def list_forms() -> None:
    """Every shipped template: id, version, pages, SHA-256."""
    for item in loader.load_all():
        t = item.template
        mark = "  (example)" if t.example else ""
        click.echo(f"{t.id:<20} v{t.version:<3} {t.page_count} pages  {item.sha256}{mark}")


@forms.command("print")
@click.option("--form", "form_id", required=True, help="Template id (see `forms list`).")
@click.option("--election", help="Election id, e.g. pemilu-2024 (or the manifest's).")
@click.option("--tps", "tps_list", multiple=True, help="TPS code PP.KK.CC.DDDD.TTT (repeat).")
@click.option(
    "--tps-csv",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="CSV with a `tps` column: every TPS of a region (or a failed-rows file).",
)
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The signed election manifest: names in the header, and only TPS it lists.",
)
@click.option(
    "--all",
    "every",
    is_flag=True,
    help="With --manifest: every TPS whose contests use this form.",
)
@click.option(
    "--ca",
    "ca_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="TPS_CA_DIR",
    help="The region's CA directory: checks the manifest, refuses TPS outside the region.",
)
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="PDF to write."
)
@click.option(
    "--size",
    type=click.Choice(["plano", "a4"]),
    default="plano",
    show_default=True,
    help="plano: the form's own size; a4: shrunk onto A4 (proofs only).",
)
@click.option(
    "--qr/--no-qr",
    default=None,
    help="Print a QR code naming election, form, page and TPS on every page: an extra check "
    "the kit makes where it finds one. Default: off on plano sheets (KPU prints none), on A4.",
)
@click.option(
    "--failed",
    "failed_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where failed rows go (default: beside the CSV, NAME.failed.csv).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def print_forms(
    form_id: str,
    election: str | None,
    tps_list: tuple[str, ...],
    tps_csv: Path | None,
    manifest_path: Path | None,
    every: bool,
    ca_dir: Path | None,
    out: Path,
    size: str,
    qr: bool | None,
    failed_out: Path | None,
    quiet: bool,
) -> None:
    """Print every page of a form for each TPS given, into one PDF, in KPU's print: its corner
    marks, box borders and writing guides, frame and fold line; the TPS's names and codes on
    the header lines. Bad rows of --tps-csv are listed and left out, and written to a file
    to print them from once fixed (exit 1)."""
    from provisioning.forms.pdf import write_pdf  # reportlab only when printing

    template = loader.load_template(form_id)
    if sum((bool(tps_list), tps_csv is not None, every)) != 1:
        raise click.UsageError("give --tps (one or more), --tps-csv FILE or --all")
    if manifest_path is not None and ca_dir is None:
        raise click.UsageError("--manifest is checked against the CA: give --ca (or TPS_CA_DIR)")
    manifest = read_manifest_for(manifest_path, ca_dir).manifest if manifest_path else None
    if manifest is not None:
        if election not in (None, manifest.election.id):
            raise click.UsageError(f"--election {election}: the manifest is of another election")
        election = manifest.election.id
    elif every:
        raise click.UsageError("--all prints every TPS of the manifest: give --manifest")
    if election is None:
        raise click.UsageError("give --election (or --manifest)")
    check_id(election, "--election")
    region = _region(ca_dir) if ca_dir is not None else None
    table = None
    if tps_list:
        codes = [str(tps_codes.parse(c, field="--tps")) for c in tps_list]
        for code in codes:
            _check_tps(code, form_id, region, manifest)
    else:
        if tps_csv is not None:
            table = read_tps_table(tps_csv)
        else:
            assert manifest is not None
            covered = [t for t in manifest.tps if form_id in _forms_of(manifest, t)]
            table = tps_table(covered, out.with_name(f"{out.stem}.csv"))

        def check(row: Row) -> str:
            code = tps_of(row)
            _check_tps(code, form_id, region, manifest, column="tps")
            return code

        outcome = run_rows(table.rows, check, key=tps_of, key_column="tps")
        codes = [code for _, code in outcome.done]
    if not codes:
        raise ProvisioningError("no TPS to print")
    with progress_bar(len(codes), form_id, "TPS", quiet=quiet) as bar:
        pages = write_pdf(
            template,
            codes,
            election,
            out,
            size=size,  # type: ignore[arg-type]
            qr=template.sheet == "a4" if qr is None else qr,
            progress=bar.update,
            names=manifest.names_of if manifest is not None else lambda _: None,
        )
    click.echo(f"wrote {out}: {pages} pages for {len(codes)} TPS ({form_id} v{template.version})")
    if table is not None and not report(table, outcome, _stderr, failed_out=failed_out):
        sys.exit(1)


def _stderr(message: str) -> None:
    click.echo(message, err=True)


def _region(ca_dir: Path) -> str:
    try:
        return certs.region_of(certs.load_certificate((ca_dir / "ca.cert.pem").read_bytes()))
    except OSError as e:
        raise ProvisioningError(f"{ca_dir} holds no CA certificate: {e.strerror}") from e


def _forms_of(manifest: Manifest, tps: str) -> list[str]:
    return [c.form for c in manifest.contests_for(tps)]


def _check_tps(
    code: str,
    form_id: str,
    region: str | None,
    manifest: Manifest | None,
    *,
    column: str | None = None,
) -> None:
    """A TPS outside the CA's region, not in the manifest, or not voting with this form is
    refused (as a bad row, where it is one)."""
    if region is not None and not code.startswith(region + "."):
        raise BadRow(f"TPS {code} is outside this CA's region {region}", column)
    if manifest is None:
        return
    if code not in manifest.tps:
        raise BadRow(f"TPS {code} is not in the manifest of {manifest.election.id}", column)
    forms = _forms_of(manifest, code)
    if form_id not in forms:
        raise BadRow(f"TPS {code} votes with {', '.join(forms) or 'no form'}, not {form_id}")


@forms.command("synth")
@click.option(
    "--digits",
    "digits_prefix",
    required=True,
    help="IDX prefix: PREFIX-images-idx3-ubyte.gz and PREFIX-labels-idx1-ubyte.gz.",
)
@click.option("--forms", "count", type=click.IntRange(1, 100_000), required=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--form",
    "form_ids",
    multiple=True,
    help="Template id (repeat); default: every real (non-example) form, in turn.",
)
@click.option(
    "--tps",
    default="31.71.01.1001.001",
    show_default=True,
    help="First TPS code; form n goes to TPS number n of the same village.",
)
@click.option("--election", help="Election id (default pemilu-2024 or pilkada-2024 by form).")
@click.option(
    "--fold",
    is_flag=True,
    help="Photograph folded, curled sheets: a fold crease a few mm high and edges or a corner "
    "lifted a few mm, as KPU's plano sheet lies on the table.",
)
@click.option(
    "--qr",
    is_flag=True,
    help="Print the optional QR code (election, form, page, TPS) on every page; "
    "KPU's sheet has none.",
)
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The signed election manifest: each form's rows I.A hold its TPS's official DPT "
    "(every TPS must be in it), and its election is the default.",
)
@click.option(
    "--ca",
    "ca_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="TPS_CA_DIR",
    help="The region's CA directory, to check --manifest against.",
)
def synth(
    digits_prefix: str,
    count: int,
    seed: int,
    out: Path,
    form_ids: tuple[str, ...],
    tps: str,
    election: str | None,
    fold: bool,
    qr: bool,
    manifest_path: Path | None,
    ca_dir: Path | None,
) -> None:
    """Fill forms with real handwriting and photograph them as the kit would, keeping the
    truth: DIR/NNNN-p.jpg and DIR/NNNN-p.json for form n, page p. With --manifest, each
    form's voter rows I.A are its TPS's official DPT, so a kit bundled from the same
    manifest confirms them."""
    from protocol.idx import IdxError, load_digits
    from provisioning.synth.dataset import tps_for, write_set
    from provisioning.synth.handwriting import DigitBank

    if manifest_path is not None and ca_dir is None:
        raise click.UsageError("--manifest is checked against the CA: give --ca (or TPS_CA_DIR)")
    manifest = read_manifest_for(manifest_path, ca_dir).manifest if manifest_path else None
    try:
        tps = str(tps_codes.parse(tps))
        registers = None
        if manifest is not None:
            if election not in (None, manifest.election.id):
                raise click.UsageError(
                    f"--election {election}: the manifest is of another election"
                )
            election = manifest.election.id
            codes = {tps_for(tps, n) for n in range(1, count + 1)}
            missing = sorted(codes - set(manifest.tps))
            if missing:
                raise ProvisioningError(
                    f"{len(missing)} of the forms' TPS are not in the manifest of "
                    f"{election} (first: {missing[0]}): give --tps a TPS it lists, or fewer "
                    "--forms"
                )
            registers = {code: manifest.official_dpt(code) for code in codes}
        if election:
            check_id(election, "election")
        templates = (
            [loader.load_template(f) for f in form_ids]
            if form_ids
            else [t.template for t in loader.load_all() if not t.template.example]
        )
        bank = DigitBank(*load_digits(digits_prefix))
    except (FieldError, IdxError, ValueError) as e:
        raise ProvisioningError(str(e)) from e
    with tqdm(total=count, unit="form", desc="synthesizing", file=sys.stderr) as bar:
        written = write_set(
            out,
            templates,
            bank,
            forms=count,
            seed=seed,
            tps=tps,
            election=election,
            fold=fold,
            qr=qr,
            registers=registers,
            progress=lambda: bar.update(1),
        )
    click.echo(f"{count} forms, {len(written)} pages written to {out}")
