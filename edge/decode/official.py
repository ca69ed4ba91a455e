"""The TPS's official voter list (DPT), and what it says about the form's voter rows.

The KPPS copies the men, women and total of KPU's list for the TPS onto rows I.A of the form.
A reading of those rows that equals the list is confirmed by a source independent of the
handwriting: other readings the rules allow, which differ from the list, are dismissed. A
reading that differs from the list is doubtful: a misread, or a copying mistake a person must
see. The list never changes a value by itself; the kit signs what the paper says.
"""

from __future__ import annotations

from collections.abc import Mapping

from protocol.manifest import DPT_MEN as MEN
from protocol.manifest import DPT_WOMEN as WOMEN
from protocol.manifest import OfficialDpt

__all__ = ["MEN", "WOMEN", "OfficialDpt", "agrees", "listed_rows"]


def listed_rows(dpt: OfficialDpt) -> dict[str, int]:
    """The value each voter row of the form should hold, by the list."""
    return dpt.form_rows()


def agrees(values: Mapping[str, int | None], listed: Mapping[str, int]) -> bool:
    """Whether every listed row has its listed value in ``values``."""
    return all(values.get(f) == v for f, v in listed.items())
