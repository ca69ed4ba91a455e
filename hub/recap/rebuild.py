"""Rebuilding the recapitulation from the counting versions, from scratch.

For a database that held results before the recapitulation existed (schema 1), or after an
export refused totals that no longer add up. One transaction: ingest waits, and readers
see either the old totals or the new, never a half-built tree. Anomalies and last-seen
times are left as they are (they are history, not sums).
"""

from __future__ import annotations

from hub.ledger import CurrentChange
from hub.recap.aggregate import apply_change
from hub.store.results import ResultStore
from protocol.ids import is_training


def rebuild(store: ResultStore, election: str | None = None) -> int:
    """Recompute every region's totals (of one election, or all); returns TPS forms summed."""
    db = store.db
    where, params = ("WHERE election = ?", (election,)) if election is not None else ("", ())
    with db.transaction():
        db.execute(f"DELETE FROM recap_totals {where}", params)
        db.execute(f"DELETE FROM recap_tps {where}", params)
        current = db.all(
            f"SELECT election, tps, form, document_id FROM current_results {where} "
            "ORDER BY election, form, tps",
            params,
        )
        for row_election, tps, form, document_id in current:
            doc = store.document_fields(int(document_id))
            change = CurrentChange(
                row_election, tps, form, is_training(row_election), int(document_id), None
            )
            apply_change(store, change, doc, None)
    return len(current)
