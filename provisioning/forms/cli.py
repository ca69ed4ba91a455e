"""``tps-provision forms``: print blank forms (PDF) and list the shipped templates."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tqdm import tqdm

from protocol import tps as tps_codes
from protocol.errors import FieldError
from protocol.forms import loader
from protocol.ids import check_id
from provisioning.errors import ProvisioningError
from provisioning.tpscsv import read_tps_csv


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
@click.option("--election", required=True, help="Election id, e.g. pemilu-2024.")
@click.option("--tps", "tps_list", multiple=True, help="TPS code PP.KK.CC.DDDD.TTT (repeat).")
@click.option(
    "--tps-csv",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="CSV with a `tps` column: every TPS of a region.",
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
def print_forms(
    form_id: str,
    election: str,
    tps_list: tuple[str, ...],
    tps_csv: Path | None,
    out: Path,
    size: str,
    qr: bool | None,
) -> None:
    """Print every page of a form for each TPS given, into one PDF, in KPU's print: its corner
    marks, box borders and writing guides, frame and fold line."""
    from provisioning.forms.pdf import write_pdf  # reportlab only when printing

    template = loader.load_template(form_id)
    check_id(election, "--election")
    codes = _codes(tps_list, tps_csv)
    with tqdm(total=len(codes), unit="TPS", desc=form_id, disable=None) as bar:
        pages = write_pdf(
            template,
            codes,
            election,
            out,
            size=size,  # type: ignore[arg-type]
            qr=template.sheet == "a4" if qr is None else qr,
            progress=bar.update,
        )
    click.echo(f"wrote {out}: {pages} pages for {len(codes)} TPS ({form_id} v{template.version})")


def _codes(tps_list: tuple[str, ...], tps_csv: Path | None) -> list[str]:
    if bool(tps_list) == bool(tps_csv):
        raise ProvisioningError("give either --tps (one or more) or --tps-csv, not both or neither")
    codes = [str(tps_codes.parse(c, field="--tps")) for c in tps_list]
    return codes or _read_csv(tps_csv)  # type: ignore[arg-type]


def _read_csv(path: Path) -> list[str]:
    codes = []
    for line, text in read_tps_csv(path):
        try:
            codes.append(str(tps_codes.parse(text, field=f"{path.name} row {line}")))
        except FieldError as e:
            raise ProvisioningError(str(e)) from e
    return codes


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
) -> None:
    """Fill forms with real handwriting and photograph them as the kit would, keeping the
    truth: DIR/NNNN-p.jpg and DIR/NNNN-p.json for form n, page p."""
    from protocol.idx import IdxError, load_digits
    from provisioning.synth.dataset import write_set
    from provisioning.synth.handwriting import DigitBank

    try:
        tps = str(tps_codes.parse(tps))
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
            progress=lambda: bar.update(1),
        )
    click.echo(f"{count} forms, {len(written)} pages written to {out}")
