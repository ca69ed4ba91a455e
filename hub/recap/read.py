"""Reading the recapitulation: pre-aggregated rows only, never a scan of documents.

A region's totals are one primary-key lookup; its children are one indexed lookup (for a
desa, its TPS come from the counting versions of the TPS recorded under it). Reads filter
on the training flag the election id implies, so a real election's recap can never return
a training row even if one were mislabelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hub.ledger import DocumentFields
from hub.recap import totals
from hub.recap.completeness import Expected, ratio
from hub.recap.errors import RecapError
from hub.recap.hold import is_held
from hub.recap.levels import WHOLE, RecapLevel, child_level, level_of, parent_of, within
from hub.store.db import Row
from hub.store.results import ResultStore
from protocol.ids import is_training

_COLUMNS = "election, form, region, level, tps_reported, totals, updated_at"


@dataclass(frozen=True)
class RegionTotals:
    """One region's (or one TPS's) numbers for an election's form."""

    election: str
    form: str
    level: RecapLevel
    region: str
    tps_reported: int
    totals: dict[str, int]
    field_tps: dict[str, int] = field(default_factory=dict)  # TPS that gave each field
    updated_at: str = ""
    tps_expected: int | None = None
    # Reported TPS inside that nothing expects (hub/recap/oddities.py): in the totals, but
    # not in completeness, which counts only the expected TPS that reported.
    tps_unexpected: int = 0
    # A TPS whose counting version is held out of the totals (hub/recap/hold.py): it shows
    # no numbers and counts as not reported until an operator decides.
    held: bool = False

    @property
    def completeness(self) -> float | None:
        return ratio(self.tps_reported - self.tps_unexpected, self.tps_expected)

    def to_json_value(self) -> dict[str, object]:
        return {
            "election": self.election,
            "form": self.form,
            "level": self.level,
            "region": self.region,
            "tps_reported": self.tps_reported,
            "tps_expected": self.tps_expected,
            "tps_unexpected": self.tps_unexpected,
            "completeness": self.completeness,
            "totals": self.totals,
            "updated_at": self.updated_at,
            "held": self.held,
        }


@dataclass(frozen=True)
class Contest:
    """An election's form that has results, with its whole-election count."""

    election: str
    form: str
    is_training: bool
    tps_reported: int


class RecapReader:
    """``expected``: the TPS the registry and manifests expect (None: unknown); ``strays``:
    per election, reported TPS that nothing expects (hub.recap.oddities.stray_tps)."""

    def __init__(
        self,
        store: ResultStore,
        expected: Expected | None = None,
        strays: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self.store = store
        self.db = store.db
        self.expected = expected
        self.strays = strays or {}

    def unexpected(self, election: str, form: str, region: str = WHOLE) -> int:
        """How many TPS inside ``region`` reported ``form`` though nothing expects them."""
        codes = sorted(t for t in self.strays.get(election, ()) if within(region, t))
        if not codes:
            return 0
        # By the whole key (desa, tps): an index lookup each, never a scan of the election.
        places = " OR ".join(["(desa = ? AND tps = ?)"] * len(codes))
        row = self.db.one(
            f"SELECT COUNT(*) FROM recap_tps WHERE election = ? AND form = ? AND ({places})",
            (election, form, *(v for code in codes for v in (parent_of(code), code))),
        )
        return int(row[0]) if row else 0

    def contests(self, *, training: bool | None = None) -> list[Contest]:
        rows = self.db.all(
            "SELECT election, form, is_training, tps_reported FROM recap_totals "
            "WHERE region = ? ORDER BY election, form",
            (WHOLE,),
        )
        found = [Contest(r[0], r[1], bool(r[2]), int(r[3])) for r in rows]
        return [c for c in found if training is None or c.is_training == training]

    def region(self, election: str, form: str, region: str = WHOLE) -> RegionTotals | None:
        """A region's totals (one primary-key read); a TPS code gives its counting version."""
        level = level_of(region)
        if level == "tps":
            found = self.store.current_fields(election, form, [region])
            return self._tps(election, form, region, found)
        row = self.db.one(
            f"SELECT {_COLUMNS} FROM recap_totals "
            "WHERE election = ? AND form = ? AND region = ? AND is_training = ?",
            (election, form, region, int(is_training(election))),
        )
        if row is None:
            if self.expected is None:
                return None
            # Nothing reported yet, but the registry expects TPS here: say 0 of n.
            return RegionTotals(
                election, form, level, region, 0, {}, tps_expected=self._expected(election, region)
            )
        return self._row(row)

    def children(self, election: str, form: str, region: str = WHOLE) -> list[RegionTotals]:
        """The regions (or TPS, under a desa) one level below ``region`` that reported."""
        level = level_of(region)
        below = child_level(level)
        if below is None:
            raise RecapError(f"{region} is a TPS: it has no regions below it")
        if below == "tps":
            codes = [
                str(r[0])
                for r in self.db.all(
                    "SELECT tps FROM recap_tps WHERE election = ? AND form = ? AND desa = ? "
                    "ORDER BY tps",
                    (election, form, region),
                )
            ]
            found = self.store.current_fields(election, form, codes)
            tps = (self._tps(election, form, code, found) for code in codes)
            return [t for t in tps if t is not None]
        rows = self.db.all(
            f"SELECT {_COLUMNS} FROM recap_totals "
            "WHERE election = ? AND form = ? AND parent = ? AND is_training = ? ORDER BY region",
            (election, form, region, int(is_training(election))),
        )
        return [self._row(r) for r in rows]

    def level(
        self, election: str, form: str, level: RecapLevel, region: str = WHOLE
    ) -> list[RegionTotals]:
        """Every region at ``level`` inside ``region`` that reported, in code order."""
        if level == "tps":
            desas = self.level(election, form, "desa", region)
            return [t for d in desas for t in self.children(election, form, d.region)]
        rows = self.db.all(
            f"SELECT {_COLUMNS} FROM recap_totals "
            "WHERE election = ? AND form = ? AND level = ? AND is_training = ? ORDER BY region",
            (election, form, level, int(is_training(election))),
        )
        return [self._row(r) for r in rows if within(region, str(r[2]))]

    def _expected(self, election: str, region: str) -> int | None:
        return None if self.expected is None else self.expected.count(election, region)

    def _row(self, row: Row) -> RegionTotals:
        election, form, region, level = str(row[0]), str(row[1]), str(row[2]), row[3]
        sums = totals.decode(row[5])
        return RegionTotals(
            election,
            form,
            level,
            region,
            int(row[4]),
            totals.values(sums),
            {f: v[1] for f, v in sums.items()},
            str(row[6]),
            self._expected(election, region),
            self.unexpected(election, form, region),
        )

    def _tps(
        self, election: str, form: str, code: str, found: dict[str, DocumentFields]
    ) -> RegionTotals | None:
        doc = found.get(code)
        if doc is None or doc.is_training != is_training(election):
            return None
        if is_held(self.store, doc):
            return RegionTotals(
                election,
                form,
                "tps",
                code,
                0,
                {},
                updated_at=doc.received_at,
                tps_expected=self._expected(election, code),
                held=True,
            )
        return RegionTotals(
            election,
            form,
            "tps",
            code,
            1,
            dict(doc.fields),
            dict.fromkeys(doc.fields, 1),
            doc.received_at,
            self._expected(election, code),
            int(code in self.strays.get(election, ())),
        )
