"""TPS expected per region, from the registry (every kit binds one TPS and election).

A TPS counts as expected if any kit in the registry is enrolled for it, revoked or not:
a revoked kit's TPS still owes its result (a replacement kit brings it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from hub.recap.levels import WHOLE, regions_of, within
from hub.trust import RegistryKit


@dataclass
class Expected:
    """TPS codes expected per election, with per-region counts worked out once."""

    tps: dict[str, frozenset[str]]
    _counts: dict[str, Counter[str]] = field(default_factory=dict, repr=False)

    def count(self, election: str, region: str = WHOLE) -> int:
        if election not in self._counts:
            counts: Counter[str] = Counter()
            for code in self.tps.get(election, ()):
                counts.update(region for _, region, _ in regions_of(code))
                counts[code] += 1
            self._counts[election] = counts
        return self._counts[election][region]

    def tps_in(self, election: str, region: str) -> list[str]:
        return sorted(t for t in self.tps.get(election, ()) if within(region, t))


def expected_from_registry(kits: Iterable[RegistryKit]) -> Expected:
    by_election: dict[str, set[str]] = {}
    for kit in kits:
        by_election.setdefault(kit.election, set()).add(kit.tps)
    return Expected({e: frozenset(t) for e, t in by_election.items()})


def ratio(reported: int, expected: int | None) -> float | None:
    """reported / expected, or None when nothing is expected (no registry, or none there)."""
    if not expected:
        return None
    return reported / expected
