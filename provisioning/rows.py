"""A region's CSV files, row by row: reading them, and reporting a bad row.

Every technician command that takes a CSV (the DPT list for the election manifest, kit
enrolment, bundles, printing forms) reads it here and reports a bad row here, so a row is
named the same way everywhere: ``row 7, column dpt_l: ...`` with the row's line number
in the file (the header is row 1). A batch never stops at a bad row: every good row is
done, the bad ones are listed, and written, header and all, to a file of failed rows that
the same command takes as it is once they are fixed.

Headers are matched without regard to case, spaces or dashes, and a column may have other
names (KPU's and SIREKAP's); ``,``, ``;`` and tab separate columns, as spreadsheets export.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from tqdm import tqdm

from protocol import tps as tps_codes
from protocol.errors import FieldError
from provisioning.errors import ProvisioningError
from provisioning.files import write_atomic

T = TypeVar("T")
# A TPS list's columns: the code, or KPU's village code and TPS number.
TPS_COLUMNS: dict[str, list[str]] = {
    "tps": ["kode_tps", "tps_code", "kode"],
    "kode_desa": ["kode_kelurahan", "kode_wilayah", "kode_kel"],
    "no_tps": ["nomor_tps", "no._tps"],
}


class BadRow(ProvisioningError):
    """A row (or one of its columns) is wrong; raised by a command's row handler."""

    def __init__(self, message: str, column: str | None = None) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


@dataclass(frozen=True)
class Row:
    number: int  # line number in the file; the header is 1; 0: not from a file
    values: dict[str, str]  # by canonical column name, trimmed
    raw: tuple[str, ...]  # the cells as read, for the failed-rows file

    def get(self, column: str) -> str:
        return self.values.get(column, "")


@dataclass(frozen=True)
class Table:
    path: Path
    header: tuple[str, ...]  # as written
    columns: frozenset[str]  # the header's canonical names
    delimiter: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Failure:
    row: Row
    column: str | None
    message: str

    def __str__(self) -> str:
        if not self.row.number:  # a TPS of the manifest, not a row of a file
            return f"TPS {self.row.get('tps')}: {self.message}"
        where = f"row {self.row.number}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class Outcome(Generic[T]):
    """What a batch did: each good row's result, each bad row's failure, in file order."""

    done: list[tuple[Row, T]] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)


def _norm(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def read_table(
    path: Path,
    required: Sequence[str],
    aliases: Mapping[str, Sequence[str]] | None = None,
) -> Table:
    """Read ``path``; ProvisioningError if it cannot be read or lacks a required column.

    ``aliases``: other header names of a column, e.g. ``{"dpt_l": ["pemilih_dpt_l", "l"]}``.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise ProvisioningError(f"cannot read {path}: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise ProvisioningError(f"{path} is not UTF-8 text: save it as CSV UTF-8") from e
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if first else ","
    names = {_norm(a): canon for canon, alts in (aliases or {}).items() for a in alts}
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        header = tuple(next(reader, ()))
        columns = [names.get(_norm(h), _norm(h)) for h in header]
        missing = [c for c in required if c not in columns]
        if missing:
            raise ProvisioningError(
                f"{path}: the header row (row 1) needs the column(s) {', '.join(missing)}; "
                f"it has: {', '.join(header) or 'nothing'}"
            )
        rows = []
        line = reader.line_num
        for cells in reader:
            number, line = line + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue  # blank lines at the end of a spreadsheet export
            values = {c: v.strip() for c, v in zip(columns, cells, strict=False) if c}
            rows.append(Row(number, values, tuple(cells)))
    except csv.Error as e:
        raise ProvisioningError(f"{path}: row {reader.line_num}: {e}") from e
    return Table(path, header, frozenset(columns), delimiter, tuple(rows))


def tps_table(codes: Iterable[str], path: Path) -> Table:
    """A TPS list that is not a file (the manifest's): its rows are named by TPS, and its
    failed rows go to a file beside ``path`` that the same command takes with --csv."""
    rows = tuple(Row(0, {"tps": code}, (code,)) for code in codes)
    return Table(path, ("tps",), frozenset({"tps"}), ",", rows)


def read_tps_table(path: Path) -> Table:
    """A TPS list (the ``tps`` column, or ``kode_desa`` and ``no_tps``)."""
    table = read_table(path, (), TPS_COLUMNS)
    check_tps_columns(table)
    return table


def check_tps_columns(table: Table) -> None:
    if "tps" not in table.columns and not {"kode_desa", "no_tps"} <= table.columns:
        raise ProvisioningError(
            f"{table.path}: the header row needs a 'tps' column (the TPS code), or "
            "'kode_desa' and 'no_tps'"
        )


def tps_of(row: Row) -> str:
    """The row's TPS code, dotted: from its ``tps`` column, or from ``kode_desa`` and
    ``no_tps`` (KPU's lists by village); BadRow naming the column otherwise."""
    text = row.get("tps")
    column = "tps"
    if not text:
        column = "kode_desa"
        desa, number = row.get("kode_desa").replace(".", ""), row.get("no_tps")
        text = desa + number.zfill(3) if number.isdigit() else f"{desa}.{number}"
    try:
        return str(tps_codes.parse(text, field=column))
    except FieldError as e:
        raise BadRow(e.reason, column) from e


def run_rows(
    rows: Iterable[Row],
    handle: Callable[[Row], T],
    *,
    key: Callable[[Row], str] | None = None,
    key_column: str | None = None,
    progress: Callable[[], None] = lambda: None,
) -> Outcome[T]:
    """``handle`` each row; a BadRow or other ProvisioningError marks that row failed and
    the batch goes on. ``key``: rows with the same key (from ``key_column``) after the
    first are duplicates."""
    outcome: Outcome[T] = Outcome()
    seen: dict[str, int] = {}
    for row in rows:
        try:
            if key is not None:
                k = key(row)
                if k in seen:
                    raise BadRow(f"{k} is already on row {seen[k]}", key_column)
                seen[k] = row.number
            outcome.done.append((row, handle(row)))
        except BadRow as e:
            outcome.failed.append(Failure(row, e.column, e.message))
        except ProvisioningError as e:
            outcome.failed.append(Failure(row, None, str(e)))
        progress()
    return outcome


def progress_bar(total: int, desc: str, unit: str, *, quiet: bool = False) -> tqdm:
    """A progress bar on stderr (stdout stays for results): none with ``quiet``, or when
    stderr is not a terminal (a script's log)."""
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=True if quiet else None,
        leave=False,
    )


def failed_path(source: Path) -> Path:
    """Where a CSV's failed rows go by default: beside it, ``NAME.failed.csv``."""
    stem = source.name.removesuffix(".csv").removesuffix(".failed")
    return source.with_name(f"{stem}.failed.csv")


def write_failed(table: Table, failures: Sequence[Failure], out: Path) -> None:
    """The failed rows with the file's own header and separator, as they were read."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=table.delimiter, lineterminator="\n")
    writer.writerow(table.header)
    for failure in sorted(failures, key=lambda f: f.row.number):
        writer.writerow(failure.row.raw)
    write_atomic(out, buffer.getvalue().encode("utf-8"))


def report(
    table: Table,
    outcome: Outcome[object],
    echo: Callable[[str], None],
    *,
    failed_out: Path | None = None,
    whole: bool = False,
) -> bool:
    """Print each failure and write the failed rows; True if every row was done.

    ``whole``: the command needs every row at once (the manifest), so the fixed rows go
    back into the whole file; otherwise the file of failed rows is itself the rerun's."""
    for failure in outcome.failed:
        echo(f"{table.path.name}: {failure}")
    if not outcome.failed:
        return True
    out = failed_out or failed_path(table.path)
    write_failed(table, outcome.failed, out)
    then = (
        f"fix them in {table.path.name} and run the command again"
        if whole
        else "fix them there and run the same command with that file"
    )
    echo(
        f"{len(outcome.failed)} of {len(outcome.failed) + len(outcome.done)} rows failed; "
        f"they are in {out}: {then}"
    )
    return False
