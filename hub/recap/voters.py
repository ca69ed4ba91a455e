"""The registered voters (DPT) the TPS already in hold: how much of the electorate a
partial count speaks for, from the election's signed manifest.

A TPS is "in" once its counting version is summed (a held one, 'perlu verifikasi', is
not); each TPS's DPT is the manifest's, never the number written on its form.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from hub.recap.completeness import ratio
from hub.recap.levels import WHOLE
from hub.store import ResultStore
from protocol.manifest import Manifest


@dataclass(frozen=True)
class VotersIn:
    dpt_in: int  # registered voters of the TPS in
    dpt: int  # registered voters of every TPS of the region in the manifest
    share: float | None  # dpt_in / dpt; None: the manifest has no TPS there


def counted_tps(store: ResultStore, election: str, form: str, held: Iterable[str]) -> list[str]:
    """The TPS whose counting version of ``form`` is summed (``held`` ones are not), in code
    order: one read of the election's reported TPS, for every region of a view at once."""
    rows = store.db.all(
        "SELECT tps FROM recap_tps WHERE election = ? AND form = ? ORDER BY tps", (election, form)
    )
    out = set(held)
    return [str(r[0]) for r in rows if str(r[0]) not in out]


def _by_region(values: Iterable[tuple[str, int]]) -> Counter[str]:
    """Each TPS's value summed into every region holding it (and the TPS itself)."""
    sums: Counter[str] = Counter()
    for code, value in values:
        parts = code.split(".")
        sums[WHOLE] += value
        for depth in range(1, len(parts) + 1):
            sums[".".join(parts[:depth])] += value
    return sums


def voters_by_region(
    manifest: Manifest, counted: Iterable[str], regions: Iterable[str]
) -> dict[str, VotersIn]:
    """For each of ``regions``: the DPT of its ``counted`` TPS and of all the manifest's TPS
    there, from one pass over each (not one per region)."""
    dpt = {code: v.dpt_l + v.dpt_p for code, v in manifest.tps.items()}
    every = _by_region(dpt.items())
    counted_in = _by_region((code, dpt.get(code, 0)) for code in counted)
    return {r: VotersIn(counted_in[r], every[r], ratio(counted_in[r], every[r])) for r in regions}


def voters_in(manifest: Manifest, counted: Iterable[str], region: str) -> VotersIn:
    """The DPT of ``counted`` (TPS codes) and of all the manifest's TPS in ``region``."""
    return voters_by_region(manifest, counted, [region])[region]
