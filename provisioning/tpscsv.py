"""Reading a region's TPS list: a CSV with a header row and a ``tps`` column."""

from __future__ import annotations

import csv
from pathlib import Path

from provisioning.errors import ProvisioningError


def read_tps_csv(path: Path) -> list[tuple[int, str]]:
    """(line number, TPS code as written) for each row; line 1 is the header."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or "tps" not in reader.fieldnames:
                raise ProvisioningError(f"{path}: the CSV needs a header row with a 'tps' column")
            return [(reader.line_num, (row.get("tps") or "").strip()) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ProvisioningError(f"cannot read {path}: {e}") from e
