"""Making a region's election manifest from what KPU publishes.

Three inputs: the election (id, name, date), its contests (a TOML file: each contest's form,
region and options with their names), and the TPS list with each TPS's registered voters
(a CSV in the layout of KPU's per-TPS DPT recapitulation). Region names come from
Kemendagri's list (provisioning/regions.py), never from the files. The manifest is made
whole or not at all: a bad row fails it, since a manifest short of a TPS would leave that
TPS without forms, names or a register.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from protocol import tps as tps_codes
from protocol.configfile import parse_model
from protocol.errors import FieldError
from protocol.forms.schema import Template
from protocol.ids import is_training
from protocol.manifest import (
    FORMAT,
    MAX_DPT,
    NATIONWIDE,
    Contest,
    Election,
    Manifest,
    Voters,
    check_forms,
    parse_manifest,
)
from provisioning.errors import ProvisioningError
from provisioning.regions import RegionNames
from provisioning.rows import (
    TPS_COLUMNS,
    BadRow,
    Outcome,
    Row,
    Table,
    check_tps_columns,
    run_rows,
    tps_of,
)

# KPU's recapitulation of the DPT per TPS names its columns in several ways; SIREKAP's field
# names (pemilih_dpt_l ...) are the same numbers.
DPT_COLUMNS: dict[str, list[str]] = {
    **TPS_COLUMNS,
    "dpt_l": ["pemilih_dpt_l", "l", "laki_laki", "lk"],
    "dpt_p": ["pemilih_dpt_p", "p", "perempuan", "pr"],
    "dpt_jml": ["pemilih_dpt_j", "jml", "jumlah", "l+p", "total", "dpt"],
}
_LEVELS = ("provinsi", "kabkota", "kecamatan", "desa")


def election_of(election_id: str, name: str, date: str) -> Election:
    kind = "training" if is_training(election_id) else "real"
    try:
        return parse_model(Election, {"id": election_id, "name": name, "date": date, "kind": kind})
    except FieldError as e:
        raise ProvisioningError(str(e)) from e


def read_contests(path: Path, load_template: Callable[[str], Template]) -> list[Contest]:
    """The contests file: ``[[contest]]`` tables with form, region and options."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ProvisioningError(f"cannot read {path}: {e.strerror}") from e
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ProvisioningError(f"{path} is not valid TOML: {e}") from e
    tables: Any = data.get("contest")
    if set(data) != {"contest"} or not isinstance(tables, list) or not tables:
        raise ProvisioningError(f"{path}: give one [[contest]] table per contest, nothing else")
    contests = []
    for index, table in enumerate(tables, 1):
        try:
            contests.append(parse_model(Contest, table))
        except FieldError as e:
            raise ProvisioningError(f"{path}: contest {index}: {e}") from e
    return contests


def read_dpt(
    table: Table,
    region: str,
    names: RegionNames,
    progress: Callable[[], None] = lambda: None,
) -> Outcome[tuple[str, Voters]]:
    """Each row's TPS code and voters; rows outside ``region``, with a code Kemendagri's list
    does not hold, or with L + P not the total given, fail with the reason."""
    check_tps_columns(table)

    def handle(row: Row) -> tuple[str, Voters]:
        code = tps_of(row)
        if not code.startswith(region + "."):
            raise BadRow(f"TPS {code} is outside this CA's region {region}", "tps")
        parsed = tps_codes.parse(code)
        for level in _LEVELS:
            if names.name(parsed.prefix(level)) is None:
                raise BadRow(
                    f"{level} {parsed.prefix(level)} is not in Kemendagri's list "
                    f"({names.source}): check the code",
                    "tps",
                )
        return code, _voters(row)

    return run_rows(table.rows, handle, key=tps_of, key_column="tps", progress=progress)


def _voters(row: Row) -> Voters:
    counts = {}
    for column in ("dpt_l", "dpt_p"):
        text = row.get(column).replace(".", "")  # a thousands separator from a spreadsheet
        if not text.isdigit() or int(text) > MAX_DPT:
            raise BadRow(f"{row.get(column)!r} is not a number of voters (0-{MAX_DPT})", column)
        counts[column] = int(text)
    total = row.get("dpt_jml")
    if total and total != str(counts["dpt_l"] + counts["dpt_p"]):
        raise BadRow(
            f"{total} is not L + P = {counts['dpt_l']} + {counts['dpt_p']}: check all three",
            "dpt_jml",
        )
    try:
        return Voters(**counts)
    except ValueError as e:
        raise BadRow(str(e).splitlines()[-1], "dpt_jml") from e


def build_manifest(
    election: Election,
    region: str,
    contests: list[Contest],
    tps: dict[str, Voters],
    names: RegionNames,
    load_template: Callable[[str], Template],
) -> Manifest:
    """The manifest, with the name of every region it needs from ``names``."""
    regions: dict[str, str] = {}
    for code in tps:
        for prefix in tps_codes.parse(code).prefixes().values():
            if prefix.count(".") < 4:
                regions[prefix] = _name(names, prefix)
    for contest in contests:
        if contest.region != NATIONWIDE:
            regions[contest.region] = _name(names, contest.region)
    value = {
        "format": FORMAT,
        "election": election.model_dump(),
        "region": region,
        "region_source": names.source,
        "regions": dict(sorted(regions.items())),
        "contests": [c.model_dump() for c in contests],
        "tps": {code: v.model_dump() for code, v in sorted(tps.items())},
    }
    try:
        manifest = parse_manifest(value)
        check_forms(manifest, load_template)
    except FieldError as e:
        raise ProvisioningError(f"the manifest does not hold together: {e}") from e
    return manifest


def _name(names: RegionNames, code: str) -> str:
    name = names.name(code)
    if name is None:
        raise ProvisioningError(f"region {code} is not in Kemendagri's list ({names.source})")
    return name
