"""CSV exports in the layout of the recapitulation forms (Model D.HASIL).

A region's form lists the units one level below it as columns (a desa's: its TPS; a
kecamatan's: its desa; and so on up), the form's fields as rows with their printed labels,
and a JUMLAH column. A header names the election, form, region, the time it was made and
the transparency log's size it reflects: everything in it was read in one transaction, so
every number is in the log up to that size and anyone can check it against the proofs.

JUMLAH is the region's pre-aggregated total, and the export refuses to write if it differs
from the sum of the columns: the two are kept by different code paths, and a paper that
does not add up must not leave the hub.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

from hub.recap.completeness import Expected
from hub.recap.errors import RecapError
from hub.recap.hold import LABEL as HELD_LABEL
from hub.recap.hold import held_tps
from hub.recap.levels import LEVEL_NAMES, LEVELS, RecapLevel, child_level, level_of
from hub.recap.read import RecapReader, RegionTotals
from hub.store.logstorage import DatabaseLogStorage
from hub.store.results import ResultStore, utc_text
from protocol.ids import is_training
from protocol.limits import template_for

TOTAL_COLUMN = "JUMLAH"


@dataclass(frozen=True)
class ExportInfo:
    election: str
    form: str
    region: str
    level: str
    columns: tuple[str, ...]
    fields: tuple[str, ...]
    log_name: str | None
    tree_size: int
    generated_at: str


def export_csv(
    store: ResultStore,
    out: TextIO,
    *,
    election: str,
    form: str,
    region: str,
    now: dt.datetime,
    expected: Expected | None = None,
    strays: Mapping[str, frozenset[str]] | None = None,
) -> ExportInfo:
    """Write the D.HASIL CSV of ``region`` (a desa, kecamatan, kabupaten/kota, provinsi or
    "" for the whole election) to ``out``; RecapError if there is nothing to export."""
    level = level_of(region)
    below = child_level(level)
    if below is None:
        raise RecapError(f"{region} is a TPS: its form is its C.HASIL; export its desa instead")
    reader = RecapReader(store, expected, strays)
    with store.db.transaction():  # one snapshot: totals, columns and log size agree
        total = reader.region(election, form, region)
        children = {c.region: c for c in reader.children(election, form, region)}
        log_name, tree_size = _log(store, election)
        held = held_tps(store, election, form, region)
    if total is None or total.tps_reported == 0:
        raise RecapError(f"no results for {election} {form} in region {region or '(all)'}")
    columns = sorted(set(children) | _expected_children(expected, election, region, below))
    fields = _field_order(form, total)
    _check_sums(total, list(children.values()), fields)
    template = template_for(form)
    labels = {f.id: f.label for _, f in template.fields()} if template else {}
    generated = utc_text(now)
    writer = csv.writer(out, lineterminator="\n")
    title = template.title if template else form
    writer.writerow([f"MODEL D.HASIL {LEVEL_NAMES[level]}", title])
    if is_training(election):
        writer.writerow(["LATIHAN", "hasil pelatihan (bimtek), bukan hasil pemilihan"])
    writer.writerow(["Pemilihan", election])
    writer.writerow(["Formulir", form, title, f"versi {template.version}" if template else ""])
    writer.writerow(["Wilayah", region or "(seluruh)", level])
    writer.writerow(["Dibuat", generated])
    writer.writerow(["Log transparansi", log_name or "", "ukuran pohon", tree_size])
    of = "" if total.tps_expected is None else total.tps_expected
    writer.writerow(["TPS dilaporkan", total.tps_reported, "dari", of])
    writer.writerow(["TPS perlu verifikasi", len(held), *held])
    writer.writerow([])
    writer.writerow(["Kode", "Uraian", *columns, TOTAL_COLUMN])
    for f in fields:
        cells = [_cell(children.get(c), f) for c in columns]
        writer.writerow([f, labels.get(f, f), *cells, total.totals.get(f, "")])
    reported = [children[c].tps_reported if c in children else "" for c in columns]
    writer.writerow(["TPS", "Jumlah TPS dilaporkan", *reported, total.tps_reported])
    return ExportInfo(
        election,
        form,
        region,
        level,
        tuple(columns),
        tuple(fields),
        log_name,
        tree_size,
        generated,
    )


def _cell(child: RegionTotals | None, field: str) -> int | str:
    if child is not None and child.held:
        return HELD_LABEL  # its numbers are not in the totals until an operator decides
    if child is None or field not in child.totals:
        return ""
    return child.totals[field]


def _log(store: ResultStore, election: str) -> tuple[str | None, int]:
    row = store.db.one("SELECT log_name FROM documents WHERE election = ? LIMIT 1", (election,))
    if row is None:
        return None, 0
    return str(row[0]), DatabaseLogStorage(store.db, str(row[0])).size()


def _expected_children(
    expected: Expected | None, election: str, region: str, below: RecapLevel
) -> set[str]:
    if expected is None:
        return set()
    depth = LEVELS.index(below)  # a code at that level has this many parts
    return {".".join(t.split(".")[:depth]) for t in expected.tps_in(election, region)}


def _field_order(form: str, total: RegionTotals) -> list[str]:
    present = set(total.totals)
    template = template_for(form)
    ordered = [f.id for _, f in template.fields()] if template else []
    return [f for f in ordered if f in present] + sorted(present - set(ordered))


def _check_sums(total: RegionTotals, parts: list[RegionTotals], fields: list[str]) -> None:
    for f in fields:
        column_sum = sum(c.totals.get(f, 0) for c in parts)
        if column_sum != total.totals.get(f, 0):
            raise RecapError(
                f"{total.region or '(all)'} {f}: the total {total.totals.get(f)} is not the sum "
                f"of its parts {column_sum}; run `tps-hub recap-rebuild`"
            )
    if sum(c.tps_reported for c in parts) != total.tps_reported:
        raise RecapError(f"{total.region or '(all)'}: TPS counts do not add up")
