"""TPS expected per region, from the registry (every kit binds one TPS and election) and
the election manifests (every TPS of the region).

A TPS counts as expected if any kit in the registry is enrolled for it, revoked or not:
a revoked kit's TPS still owes its result (a replacement kit brings it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hub.recap.levels import WHOLE, regions_of, within
from hub.trust import RegistryKit
from protocol.manifest_sign import VerifiedManifest


@dataclass
class Expected:
    """TPS codes expected per election, indexed once per election (on first use) by region:
    how many TPS each region holds, and its children, so a region's view costs its own
    children, never a scan of the election's TPS."""

    tps: dict[str, frozenset[str]]
    _counts: dict[str, Counter[str]] = field(default_factory=dict, repr=False)
    _children: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict, repr=False)

    def count(self, election: str, region: str = WHOLE) -> int:
        return self._index(election)[region]

    def children(self, election: str, region: str = WHOLE) -> tuple[str, ...]:
        """The regions one level below ``region`` (under a desa: its TPS) that hold an
        expected TPS, in code order."""
        self._index(election)
        return self._children[election].get(region, ())

    def tps_in(self, election: str, region: str) -> list[str]:
        return sorted(t for t in self.tps.get(election, ()) if within(region, t))

    def _index(self, election: str) -> Counter[str]:
        # Several serving threads may build it at once: each builds the same, and the
        # children are stored before the counts that say the index is there.
        if election not in self._counts:
            counts: Counter[str] = Counter()
            below: dict[str, set[str]] = {}
            for code in self.tps.get(election, ()):
                chain = regions_of(code)
                counts.update(region for _, region, _ in chain)
                counts[code] += 1
                for _, region, parent in chain[1:]:
                    below.setdefault(parent or WHOLE, set()).add(region)
                below.setdefault(chain[-1][1], set()).add(code)
            self._children[election] = {r: tuple(sorted(c)) for r, c in below.items()}
            self._counts[election] = counts
        return self._counts[election]


def expected_from_registry(kits: Iterable[RegistryKit]) -> Expected:
    by_election: dict[str, set[str]] = {}
    for kit in kits:
        by_election.setdefault(kit.election, set()).add(kit.tps)
    return Expected({e: frozenset(t) for e, t in by_election.items()})


def expected_from(
    kits: Iterable[RegistryKit], manifests: Mapping[str, VerifiedManifest]
) -> Expected | None:
    """TPS expected from the registry's kits and, for an election with a manifest, every
    TPS of the manifest too (a TPS whose kit is not enrolled yet still owes its result);
    None when neither says anything."""
    expected = expected_from_registry(kits)
    tps = dict(expected.tps)
    for election, verified in manifests.items():
        tps[election] = tps.get(election, frozenset()) | frozenset(verified.manifest.tps)
    return Expected(tps) if tps else None


def ratio(reported: int, expected: int | None) -> float | None:
    """reported / expected, or None when nothing is expected (no registry, or none there).

    At most 1: a TPS the registry does not expect (a kit enrolled after its export) still
    reports, but never makes a region look more than complete; it is flagged instead
    (hub/recap/oddities.py)."""
    if not expected:
        return None
    return max(0.0, min(1.0, reported / expected))
