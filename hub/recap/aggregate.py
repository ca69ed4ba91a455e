"""Incremental recapitulation: a TPS's new counting version replaces its old contribution.

Runs inside the ingest transaction (hub/ingest/ingestor.py calls the hook when the version
that counts for a TPS and form moves, and flushes it before the commit), so totals commit
with the documents or not at all, and the write lock that serializes ingest also
serializes these read-modify-writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.ledger import CurrentChange, DocumentFields
from hub.recap import totals
from hub.recap.errors import RecapError
from hub.recap.levels import RecapLevel, regions_of
from hub.store.db import Database
from hub.store.results import ResultStore
from protocol.ids import is_training

_IN_CHUNK = 400  # regions per IN list: well under both databases' parameter limits


def check_training_guard(change: CurrentChange, doc: DocumentFields) -> None:
    """Refuse anything that would put a training result into a real total (or back).

    The election id decides (protocol/ids.py): the change, the stored document and the
    ingest's flag must all agree with it. They always do unless something upstream is
    broken, and then refusing the batch is the safe side.
    """
    training = is_training(change.election)
    if (doc.election, doc.tps, doc.form) != (change.election, change.tps, change.form):
        raise RecapError(
            f"document {doc.id} is {doc.election}/{doc.tps}/{doc.form}, not the changed "
            f"{change.election}/{change.tps}/{change.form}"
        )
    if change.is_training != training or doc.is_training != training:
        raise RecapError(
            f"election {change.election!r} is {'a training' if training else 'a real'} "
            "election but its result came marked otherwise: not recapitulated"
        )


def apply_change(
    store: ResultStore, change: CurrentChange, doc: DocumentFields, old: DocumentFields | None
) -> None:
    """Add ``doc`` to every region above its TPS, less ``old`` (the version it replaces)."""
    pending = PendingTotals()
    pending.add(change, doc, old)
    pending.write(store)


@dataclass
class _RegionDelta:
    level: RecapLevel
    parent: str | None
    sums: totals.Sums = field(default_factory=dict)
    added_tps: int = 0
    updated_at: str = ""
    order: int = -1  # which change last touched it (its updated_at is that change's)

    def absorb(self, other: _RegionDelta) -> None:
        totals.add(self.sums, other.sums)
        self.added_tps += other.added_tps
        if other.order > self.order:
            self.order, self.updated_at = other.order, other.updated_at


class PendingTotals:
    """Changes to region totals collected over one transaction, written in :meth:`write`.

    A batch of results from one area touches the same few region rows again and again (the
    whole election's row for every one of them); summing the changes in memory first
    makes that one read and one write per touched row, not one per result. Changes are
    summed per desa as they come and carried up the tree once, at the write. The sum is
    exact: totals are integer sums, so adding the changes up first and then to the row
    gives what adding them one by one would have.
    """

    def __init__(self) -> None:
        # (election, form, is_training) -> desa -> (its regions top down, its change)
        self._desas: dict[
            tuple[str, str, bool],
            dict[str, tuple[list[tuple[RecapLevel, str, str | None]], _RegionDelta]],
        ] = {}
        self._new_tps: list[tuple[str, str, str, str]] = []
        self._changes = 0

    def __bool__(self) -> bool:
        return bool(self._desas)

    def add(self, change: CurrentChange, doc: DocumentFields, old: DocumentFields | None) -> None:
        check_training_guard(change, doc)
        if old is not None:
            check_training_guard(change, old)
        desas = self._desas.setdefault((change.election, change.form, change.is_training), {})
        # Keyed by the code's text up to the TPS number; regions_of (which parses and
        # checks the code) runs once per desa and batch.
        key = doc.tps.rpartition(".")[0]
        known = desas.get(key)
        if known is None:
            chain = regions_of(doc.tps)
            known = desas[key] = (chain, _RegionDelta(chain[-1][0], chain[-1][2]))
        chain, entry = known
        totals.add(entry.sums, totals.delta(doc.fields, None if old is None else old.fields))
        entry.added_tps += 1 if old is None else 0
        entry.order, entry.updated_at = self._changes, doc.received_at
        self._changes += 1
        if old is None:
            self._new_tps.append((change.election, change.form, chain[-1][1], doc.tps))

    def write(self, store: ResultStore) -> None:
        """Apply every collected change to the stored rows; then start empty again."""
        for (election, form, training), desas in self._desas.items():
            regions: dict[str, _RegionDelta] = {}
            for chain, change in desas.values():
                for level, region, parent in chain:
                    entry = regions.get(region)
                    if entry is None:
                        regions[region] = entry = _RegionDelta(level, parent)
                    entry.absorb(change)
            _write_group(store.db, election, form, training, regions)
        store.db.executemany(
            "INSERT INTO recap_tps (election, form, desa, tps) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (election, form, desa, tps) DO NOTHING",
            self._new_tps,
        )
        self._desas, self._new_tps = {}, []


def _write_group(
    db: Database, election: str, form: str, training: bool, regions: dict[str, _RegionDelta]
) -> None:
    names = list(regions)
    existing: dict[str, tuple[int, int, str]] = {}
    for start in range(0, len(names), _IN_CHUNK):
        chunk = names[start : start + _IN_CHUNK]
        marks = ", ".join("?" * len(chunk))
        for r in db.all(
            "SELECT region, is_training, tps_reported, totals FROM recap_totals "
            f"WHERE election = ? AND form = ? AND region IN ({marks})",
            (election, form, *chunk),
        ):
            existing[str(r[0])] = (int(r[1]), int(r[2]), str(r[3]))
    rows = []
    for region, delta in regions.items():
        marked, reported, text = existing.get(region, (int(training), 0, "{}"))
        if marked != int(training):
            raise RecapError(f"recap row {election}/{region} is marked the other way")
        sums = totals.apply(totals.decode(text), delta.sums)
        rows.append(
            (
                election,
                form,
                region,
                delta.level,
                delta.parent,
                int(training),
                reported + delta.added_tps,
                totals.encode(sums),
                delta.updated_at,
            )
        )
    db.executemany(
        "INSERT INTO recap_totals (election, form, region, level, parent, is_training, "
        "tps_reported, totals, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (election, form, region) DO UPDATE SET "
        "tps_reported = excluded.tps_reported, totals = excluded.totals, "
        "updated_at = excluded.updated_at",
        rows,
    )
