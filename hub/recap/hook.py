"""The Ingestor's hook: one call per moved counting version, inside the ingest transaction."""

from __future__ import annotations

from hub.recap import aggregate, anomalies, seen
from hub.store.results import CurrentChange, ResultStore


def recap_hook(store: ResultStore, change: CurrentChange) -> None:
    """Replace the TPS's contribution in every region, re-check it, note its kit as seen.

    Raises only if the guard finds a result about to cross between training and real
    totals, which rolls the batch back: better an unacknowledged result than a wrong total.
    """
    doc = store.document_fields(change.document_id)
    previous = change.previous_document_id
    old = None if previous is None else store.document_fields(previous)
    aggregate.apply_change(store, change, doc, old)
    anomalies.record(store, doc, old)
    seen.record_seen(
        store.db, doc.kit, doc.received_at, election=doc.election, tps=doc.tps, document_id=doc.id
    )
