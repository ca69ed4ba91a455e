"""The Ingestor's hook: one call per moved counting version, inside the ingest transaction."""

from __future__ import annotations

from hub.ledger import CurrentChange
from hub.recap import aggregate, anomalies, seen
from hub.store.results import ResultStore


class RecapHook:
    """Keeps the recapitulation up as results are stored, one batch at a time.

    Called for every moved counting version; region totals and last-seen times are
    collected and written by :meth:`flush`, which the Ingestor calls once per batch, still
    inside the transaction (so they commit with the documents or not at all). Anomalies
    are checked and stored at once: they read the stored versions, not the totals.
    One hook per Ingestor: what it holds between a call and the flush belongs to that
    Ingestor's transaction.
    """

    def __init__(self) -> None:
        self._totals = aggregate.PendingTotals()
        self._seen = seen.PendingSeen()

    def __call__(self, store: ResultStore, change: CurrentChange) -> None:
        """Replace the TPS's contribution in every region, re-check it, note its kit as seen.

        Raises only if the guard finds a result about to cross between training and real
        totals, which rolls the batch back: better an unacknowledged result than a wrong
        total.
        """
        doc = change.document or store.document_fields(change.document_id)
        previous = change.previous_document_id
        old = None if previous is None else store.document_fields(previous)
        self._totals.add(change, doc, old)
        anomalies.record(store, doc, old)
        self._seen.add(doc.kit, doc.received_at, doc.election, doc.tps, doc.id)

    def flush(self, store: ResultStore) -> None:
        self._totals.write(store)
        self._seen.write(store.db)

    def discard(self) -> None:
        """The transaction rolled back: forget what it collected."""
        self._totals = aggregate.PendingTotals()
        self._seen = seen.PendingSeen()


def recap_hook(store: ResultStore, change: CurrentChange) -> None:
    """:class:`RecapHook` for one change, written at once (for callers without batches)."""
    hook = RecapHook()
    hook(store, change)
    hook.flush(store)
