"""Incremental recapitulation: a TPS's new counting version replaces its old contribution.

Runs inside the ingest transaction (hub/ingest/ingestor.py calls the hook when the version
that counts for a TPS and form moves), so totals commit with the document or not at all,
and the write lock that serializes ingest also serializes these read-modify-writes.
"""

from __future__ import annotations

from hub.recap import totals
from hub.recap.errors import RecapError
from hub.recap.levels import regions_of
from hub.store.results import CurrentChange, DocumentFields, ResultStore
from protocol.ids import is_training


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
    check_training_guard(change, doc)
    if old is not None:
        check_training_guard(change, old)
    db = store.db
    chain = regions_of(doc.tps)
    change_sums = totals.delta(doc.fields, None if old is None else old.fields)
    added_tps = 1 if old is None else 0
    marks = ", ".join("?" * len(chain))
    existing = {
        str(r[0]): (int(r[1]), int(r[2]), str(r[3]))
        for r in db.all(
            "SELECT region, is_training, tps_reported, totals FROM recap_totals "
            f"WHERE election = ? AND form = ? AND region IN ({marks})",
            (change.election, change.form, *(region for _, region, _ in chain)),
        )
    }
    rows = []
    for level, region, parent in chain:
        training, reported, text = existing.get(region, (int(change.is_training), 0, "{}"))
        if training != int(change.is_training):
            raise RecapError(f"recap row {change.election}/{region} is marked the other way")
        sums = totals.apply(totals.decode(text), change_sums)  # fresh lists per region
        rows.append(
            (
                change.election,
                change.form,
                region,
                level,
                parent,
                int(change.is_training),
                reported + added_tps,
                totals.encode(sums),
                doc.received_at,
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
    if old is None:
        desa = chain[-1][1]
        db.execute(
            "INSERT INTO recap_tps (election, form, desa, tps) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (election, form, desa, tps) DO NOTHING",
            (change.election, change.form, desa, doc.tps),
        )
