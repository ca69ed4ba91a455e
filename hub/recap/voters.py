"""The registered voters (DPT) the TPS already in hold: how much of the electorate a
partial count speaks for, from the election's signed manifest.

A TPS is "in" once its counting version is summed (a held one, 'perlu verifikasi', is
not); each TPS's DPT is the manifest's, never the number written on its form.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hub.recap.completeness import ratio
from hub.recap.hold import held_tps
from hub.recap.levels import within
from hub.store import ResultStore
from protocol.manifest import Manifest


@dataclass(frozen=True)
class VotersIn:
    dpt_in: int  # registered voters of the TPS in
    dpt: int  # registered voters of every TPS of the region in the manifest
    share: float | None  # dpt_in / dpt; None: the manifest has no TPS there


def counted_tps(store: ResultStore, election: str, form: str, region: str) -> list[str]:
    """The TPS of ``region`` whose counting version of ``form`` is summed, in code order."""
    rows = store.db.all(
        "SELECT tps FROM recap_tps WHERE election = ? AND form = ? ORDER BY tps", (election, form)
    )
    held = set(held_tps(store, election, form, region))
    return [str(r[0]) for r in rows if within(region, str(r[0])) and str(r[0]) not in held]


def voters_in(manifest: Manifest, counted: Iterable[str], region: str) -> VotersIn:
    """The DPT of ``counted`` (TPS codes) and of all the manifest's TPS in ``region``."""
    every = {code: v.dpt_l + v.dpt_p for code, v in manifest.tps.items() if within(region, code)}
    dpt = sum(every.values())
    dpt_in = sum(every.get(code, 0) for code in counted if within(region, code))
    return VotersIn(dpt_in, dpt, ratio(dpt_in, dpt))
